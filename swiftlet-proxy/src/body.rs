//! Bodies the proxy makes: one fed by a channel (a task that switches replicas or
//! segments underneath it), and reading one whole with a cap (a client's also with a
//! deadline per chunk).

use crate::error::{ProxyError, Result};
use bytes::Bytes;
use common::http::{Body, BodyError};
use http::HeaderMap;
use http_body_util::BodyExt;
use std::time::Duration;

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

/// Reads a client's body whole: refused at once (`too_big`) when its Content-Length is
/// over `limit`, stopped at the cap when it is chunked, and given up (408) when the client
/// sends nothing for `idle`, so no client holds a task and a growing buffer for long.
pub(crate) async fn read_client_body(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    idle: Duration,
    too_big: impl Fn() -> ProxyError,
) -> Result<Bytes> {
    let declared = common::headers::get(headers, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    if declared.is_some_and(|l| l > limit as u64) {
        return Err(too_big());
    }
    let mut buf = bytes::BytesMut::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Ok(Some(frame)) => frame.map_err(|e| ProxyError::ClientDisconnect(e.to_string()))?,
            Ok(None) => break,
            Err(_) => return Err(ProxyError::ClientDisconnect(format!("no body byte for {} s", idle.as_secs_f64()))),
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_big());
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    /// A body that sends `first` and then nothing, ever.
    fn stalling(first: &'static [u8]) -> Body {
        let frames =
            futures::stream::once(async move { Ok::<_, BodyError>(hyper::body::Frame::data(Bytes::from(first))) })
                .chain(futures::stream::pending());
        http_body_util::StreamBody::new(frames).boxed_unsync()
    }

    fn declared(len: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-length", len.parse().unwrap());
        h
    }

    #[tokio::test]
    async fn a_stalled_client_body_is_given_up_after_the_idle_timeout() {
        let started = std::time::Instant::now();
        let none = HeaderMap::new();
        let read = read_client_body(&none, stalling(b"[1,"), 100, Duration::from_millis(200), || ProxyError::TooLarge);
        let got = tokio::time::timeout(Duration::from_secs(5), read).await.expect("gave up before 5 s");
        println!("stalled body given up after {:?}", started.elapsed());
        assert!(matches!(got, Err(ProxyError::ClientDisconnect(_))), "{got:?}");
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_before_reading() {
        // The body never ends: only a refusal that reads nothing returns.
        let over = declared("101");
        let read = read_client_body(&over, stalling(b""), 100, Duration::from_secs(60), || {
            ProxyError::EntityTooLarge("big".into())
        });
        let got = tokio::time::timeout(Duration::from_secs(1), read).await.expect("refused at once");
        assert!(matches!(got, Err(ProxyError::EntityTooLarge(_))), "{got:?}");
    }

    #[tokio::test]
    async fn a_chunked_body_stops_at_the_cap() {
        let frames = futures::stream::iter(0..)
            .map(|_| Ok::<_, BodyError>(hyper::body::Frame::data(Bytes::from_static(&[b'z'; 64]))));
        let endless = http_body_util::StreamBody::new(frames).boxed_unsync();
        let got =
            read_client_body(&HeaderMap::new(), endless, 1000, Duration::from_secs(60), || ProxyError::TooLarge).await;
        assert!(matches!(got, Err(ProxyError::TooLarge)), "{got:?}");
    }
}
