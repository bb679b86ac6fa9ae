//! Bodies the proxy makes: one fed by a channel (a task that switches replicas or
//! segments underneath it), and reading one whole with a cap.

use crate::error::{ProxyError, Result};
use bytes::Bytes;
use common::http::{Body, BodyError};
use http_body_util::BodyExt;

/// A body fed by a channel, so the pumping task can switch sources underneath it.
pub(crate) fn channel_body(mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, BodyError>>) -> Body {
    let frames =
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(|r| r.map(hyper::body::Frame::data))));
    http_body_util::StreamBody::new(frames).boxed_unsync()
}

/// Reads a body whole, refusing more than `limit` bytes.
pub(crate) async fn read_body(mut body: Body, limit: usize) -> Result<Bytes> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ProxyError::ClientDisconnect(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ProxyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}
