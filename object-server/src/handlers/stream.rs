//! Bodies in both directions with bounded buffers: [`BodyReader`] pulls a request body
//! with a per-chunk timeout; [`object_body`] streams an object's bytes out, reading blocks on
//! the device pool a little ahead of the network (at most two blocks buffered).

use super::range::Segment;
use crate::error::{Error, Result};
use bytes::Bytes;
use common::http::{stream_body, Body};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::time::Duration;
use swiftlet_object_store::pool::DevicePool;
use swiftlet_object_store::ssync::ByteSource;
use swiftlet_object_store::DiskFileReader;
use tokio::sync::mpsc;

/// Reads a request body in exact amounts ([`ByteSource`], which SSYNC frames are read
/// through too); a stalled client is a 408, a broken one a 499.
pub struct BodyReader {
    body: Incoming,
    timeout: Duration,
    pending: Bytes,
    eof: bool,
    total: u64,
    trailers: Option<http::HeaderMap>,
}

impl BodyReader {
    pub fn new(body: Incoming, timeout: Duration) -> Self {
        BodyReader { body, timeout, pending: Bytes::new(), eof: false, total: 0, trailers: None }
    }

    /// The chunked body's trailer fields, once the body has ended.
    pub fn trailers(&self) -> Option<&http::HeaderMap> {
        self.trailers.as_ref()
    }

    /// Bytes taken from the body so far.
    pub fn total(&self) -> u64 {
        self.total
    }
}

impl ByteSource for BodyReader {
    type Error = Error;

    /// The next piece of the body (at most `max` bytes), or `None` at its end.
    async fn next(&mut self, max: usize) -> Result<Option<Bytes>> {
        while self.pending.is_empty() {
            if self.eof {
                return Ok(None);
            }
            let frame = match tokio::time::timeout(self.timeout, self.body.frame()).await {
                Err(_) => return Err(Error::RequestTimeout),
                Ok(None) => {
                    self.eof = true;
                    continue;
                }
                Ok(Some(Err(e))) => {
                    tracing::info!(error = %e, "client body read failed");
                    return Err(Error::ClientDisconnect);
                }
                Ok(Some(Ok(frame))) => frame,
            };
            match frame.into_data() {
                Ok(data) => self.pending = data,
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        self.trailers = Some(trailers);
                    }
                }
            }
        }
        let take = max.min(self.pending.len());
        self.total += take as u64;
        Ok(Some(self.pending.split_to(take)))
    }
}

/// A response body made of `segments`, reading object bytes through `reader` on `pool`.
pub fn object_body(pool: DevicePool, mut reader: DiskFileReader, segments: Vec<Segment>, block: usize) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes>>(2);
    tokio::spawn(async move {
        for segment in segments {
            match segment {
                Segment::Literal(b) => {
                    if tx.send(Ok(b)).await.is_err() {
                        return;
                    }
                }
                Segment::Object { start, end } => {
                    let mut offset = start;
                    while offset < end {
                        let n = block.min((end - offset) as usize);
                        let job = pool.run(move || {
                            let r = reader.read_at(offset, n);
                            (reader, r)
                        });
                        let (back, read) = match job.await {
                            Ok(v) => v,
                            Err(e) => {
                                let _ = tx.send(Err(e.into())).await;
                                return;
                            }
                        };
                        reader = back;
                        match read {
                            Ok(bytes) => {
                                offset += bytes.len() as u64;
                                if tx.send(Ok(bytes)).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "object read failed mid-stream");
                                let _ = tx.send(Err(e.into())).await;
                                return;
                            }
                        }
                    }
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    stream_body(stream)
}
