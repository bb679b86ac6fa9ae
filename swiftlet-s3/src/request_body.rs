//! Request bodies read whole (the XML documents of DeleteObjects, CompleteMultipartUpload
//! and the bucket and object configurations): refused past their cap before more than the
//! cap is buffered, and given up on when the client stalls, so a slow or endless body
//! cannot hold a task and its buffer. They are read only after the request's signature
//! checked out; a signed payload hash or chunk signatures are checked by the body wrapper
//! as it streams (the last bytes are released only once they match), so a document that
//! does not match its signature never reaches a parser.

use bytes::{Bytes, BytesMut};
use common::http::Body;
use http_body_util::BodyExt;
use std::time::Duration;
use tokio::time::Instant;

/// How long a body read whole may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    /// The longest wait for the next bytes (S3 gives up on a silent client after ~20 s).
    pub idle: Duration,
    /// The longest the whole body may take (the largest, 2 MiB, at 35 KiB/s).
    pub total: Duration,
}

pub(crate) const DEADLINES: Deadlines = Deadlines { idle: Duration::from_secs(20), total: Duration::from_secs(60) };

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("the request body is larger than {0} bytes")]
    TooLong(usize),
    #[error("the client sent nothing for too long")]
    Stalled,
    #[error("{0}")]
    Body(String),
}

/// Reads `body` whole, up to `limit` bytes, within `deadlines`.
pub(crate) async fn read_capped(mut body: Body, limit: usize, deadlines: Deadlines) -> Result<Bytes, ReadError> {
    let end = Instant::now() + deadlines.total;
    let mut buf = BytesMut::new();
    loop {
        let wait = (Instant::now() + deadlines.idle).min(end);
        let frame = match tokio::time::timeout_at(wait, body.frame()).await {
            Ok(Some(frame)) => frame.map_err(|e| ReadError::Body(e.to_string()))?,
            Ok(None) => return Ok(buf.freeze()),
            Err(_) => return Err(ReadError::Stalled),
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLong(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::http::BodyError;

    const QUICK: Deadlines = Deadlines { idle: Duration::from_millis(50), total: Duration::from_millis(300) };

    fn frames(parts: &[&'static [u8]]) -> Vec<Result<Bytes, BodyError>> {
        parts.iter().map(|p| Ok(Bytes::from_static(p))).collect()
    }

    /// Reads with a guard: a read that never ends is a failure, not a hung test.
    async fn read(body: Body, limit: usize) -> Result<Bytes, ReadError> {
        tokio::time::timeout(Duration::from_secs(3), read_capped(body, limit, QUICK))
            .await
            .expect("the read must give up on its own, not wait forever")
    }

    #[tokio::test]
    async fn reads_a_body_under_its_cap() {
        let body = common::http::stream_body(futures::stream::iter(frames(&[b"<a>", b"</a>"])));
        assert_eq!(read(body, 7).await.unwrap(), "<a></a>");
    }

    #[tokio::test]
    async fn refuses_past_the_cap_without_buffering_the_rest() {
        // An endless body: the read stops at the cap, it does not wait for the end.
        let endless = futures::stream::repeat_with(|| Ok::<_, BodyError>(Bytes::from_static(&[b'x'; 1024])));
        let body = common::http::stream_body(endless);
        assert!(matches!(read(body, 4096).await, Err(ReadError::TooLong(4096))));
    }

    #[tokio::test]
    async fn gives_up_on_a_client_that_stalls_mid_body() {
        use futures::StreamExt;
        let stalls = futures::stream::iter(frames(&[b"<Delete><Object>"])).chain(futures::stream::pending());
        let started = std::time::Instant::now();
        assert!(matches!(read(common::http::stream_body(stalls), 1024).await, Err(ReadError::Stalled)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn gives_up_on_a_client_that_drips_past_the_total_deadline() {
        use futures::StreamExt;
        let drip = futures::stream::repeat_with(|| Ok::<_, BodyError>(Bytes::from_static(b"x"))).then(|b| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            b
        });
        let body = common::http::stream_body(drip);
        assert!(matches!(read(body, 1 << 20).await, Err(ReadError::Stalled)));
    }
}
