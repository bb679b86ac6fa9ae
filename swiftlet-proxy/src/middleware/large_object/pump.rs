//! What SLO and DLO share, part one: the pump that streams a large object's segments in
//! order, each fetched with a GET sub-request (a range of it
//! when only part is needed) and checked against what the manifest says.
//!
//! The pump runs in its own task and hands chunks to the response body through a small
//! bounded channel, so a large object streams in constant memory. If a segment turns out
//! missing or changed mid-stream, the body ends with an error (the client sees a
//! truncated transfer), as Swift does; a bad *first* segment is reported before any
//! header is sent, so the client gets a 409 instead.

use crate::context::Ctx;
use crate::pipeline::step::Next;
use crate::pipeline::subrequest::{self as sub};
use bytes::Bytes;
use common::headers::{get, set};
use common::http::{Body, BodyError};
use futures::future::BoxFuture;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::{mpsc, oneshot};
/// A piece of the large object, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Bytes already in hand (SLO inline data, multipart range headers).
    Data(Bytes),
    /// Bytes `first..=last` (all of it when `whole`) of the object at `path` (quoted
    /// `/v1/a/c/o`), which must still have `etag` and `size` when they are given.
    Object { path: String, first: u64, last: u64, whole: bool, etag: Option<String>, size: Option<u64> },
}

/// Where the pieces come from: a manifest walked lazily (SLO, with sub-manifests fetched
/// on the way) or container listings paged lazily (DLO).
pub(crate) trait Segments: Send + 'static {
    fn next_piece(&mut self) -> BoxFuture<'_, Result<Option<Piece>, String>>;
}

/// Pieces known up front.
pub(crate) struct Fixed(pub std::collections::VecDeque<Piece>);

impl Segments for Fixed {
    fn next_piece(&mut self) -> BoxFuture<'_, Result<Option<Piece>, String>> {
        let p = self.0.pop_front();
        Box::pin(async move { Ok(p) })
    }
}

/// Chains sources (one per requested byte range, for multipart/byteranges).
pub(crate) struct Chain(pub std::collections::VecDeque<Box<dyn Segments>>);

impl Segments for Chain {
    fn next_piece(&mut self) -> BoxFuture<'_, Result<Option<Piece>, String>> {
        Box::pin(async move {
            while let Some(first) = self.0.front_mut() {
                if let Some(p) = first.next_piece().await? {
                    return Ok(Some(p));
                }
                self.0.pop_front();
            }
            Ok(None)
        })
    }
}

impl Segments for Box<dyn Segments> {
    fn next_piece(&mut self) -> BoxFuture<'_, Result<Option<Piece>, String>> {
        (**self).next_piece()
    }
}

/// Starts streaming `segments`; resolves once the first piece is known good (or bad),
/// so the caller can still answer 409 before sending headers.
pub(crate) async fn stream(
    next: Next,
    ctx: Ctx,
    segments: impl Segments,
    expected_len: Option<u64>,
) -> Result<Body, String> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, BodyError>>(4);
    let (first_tx, first_rx) = oneshot::channel();
    tokio::spawn(pump(next, ctx, segments, tx, first_tx, expected_len));
    match first_rx.await {
        Ok(Ok(())) => Ok(crate::body::channel_body(rx)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("segment stream ended before its first piece".into()),
    }
}

async fn pump(
    next: Next,
    ctx: Ctx,
    mut segments: impl Segments,
    tx: mpsc::Sender<Result<Bytes, BodyError>>,
    first_tx: oneshot::Sender<Result<(), String>>,
    expected_len: Option<u64>,
) {
    let mut first = Some(first_tx);
    let mut sent: u64 = 0;
    let fail = |first: &mut Option<oneshot::Sender<Result<(), String>>>, msg: String| {
        tracing::warn!(error = %msg, "large object stream failed");
        match first.take() {
            Some(f) => {
                let _ = f.send(Err(msg));
                None
            }
            None => Some(msg),
        }
    };
    loop {
        let piece = match segments.next_piece().await {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                if let Some(msg) = fail(&mut first, e) {
                    let _ = tx.send(Err(msg.into())).await;
                }
                return;
            }
        };
        let mut body = match piece {
            Piece::Data(b) => {
                if let Some(f) = first.take() {
                    let _ = f.send(Ok(()));
                }
                sent += b.len() as u64;
                if tx.send(Ok(b)).await.is_err() {
                    return;
                }
                continue;
            }
            Piece::Object { path, first: lo, last: hi, whole, etag, size } => {
                match fetch_segment(&next, &ctx, &path, (lo, hi, whole), etag.as_deref(), size).await {
                    Ok(b) => b,
                    Err(e) => {
                        if let Some(msg) = fail(&mut first, e) {
                            let _ = tx.send(Err(msg.into())).await;
                        }
                        return;
                    }
                }
            }
        };
        if let Some(f) = first.take() {
            let _ = f.send(Ok(()));
        }
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => {
                    if let Ok(data) = f.into_data() {
                        sent += data.len() as u64;
                        if tx.send(Ok(data)).await.is_err() {
                            return; // the client went away
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("segment body failed: {e}").into())).await;
                    return;
                }
            }
        }
    }
    if let Some(f) = first.take() {
        let _ = f.send(Ok(()));
    }
    if let Some(want) = expected_len.filter(|w| *w != sent) {
        let _ = tx.send(Err(format!("large object sent {sent} bytes, expected {want}").into())).await;
    }
}

/// GETs one segment (or a range of it) and checks it is still what the manifest says.
async fn fetch_segment(
    next: &Next,
    ctx: &Ctx,
    path: &str,
    (first, last, whole): (u64, u64, bool),
    etag: Option<&str>,
    size: Option<u64>,
) -> Result<Body, String> {
    let mut req = sub::new(Method::GET, path, Some("multipart-manifest=get"), ctx, common::http::empty());
    if !whole {
        set(req.headers_mut(), "range", &format!("bytes={first}-{last}"));
    }
    let resp = next.call(req).await;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("got {status} while retrieving segment {path}"));
    }
    let h = resp.headers();
    let got_etag = get(h, "etag").map(|e| e.trim_matches('"').to_string());
    let got_size = if status == StatusCode::PARTIAL_CONTENT {
        get(h, "content-range").and_then(|r| r.rsplit('/').next()).and_then(|t| t.parse::<u64>().ok())
    } else {
        get(h, "content-length").and_then(|l| l.parse::<u64>().ok())
    };
    if etag.is_some_and(|e| Some(e) != got_etag.as_deref()) || size.is_some_and(|s| Some(s) != got_size) {
        return Err(format!(
            "object segment no longer valid: {path} etag {got_etag:?} != {etag:?} or size {got_size:?} != {size:?}"
        ));
    }
    Ok(resp.into_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chain_yields_in_order() {
        let a = Fixed(vec![Piece::Data(Bytes::from_static(b"a"))].into());
        let b = Fixed(vec![Piece::Data(Bytes::from_static(b"b"))].into());
        let mut c = Chain(vec![Box::new(a) as Box<dyn Segments>, Box::new(b)].into());
        assert_eq!(c.next_piece().await.unwrap(), Some(Piece::Data(Bytes::from_static(b"a"))));
        assert_eq!(c.next_piece().await.unwrap(), Some(Piece::Data(Bytes::from_static(b"b"))));
        assert_eq!(c.next_piece().await.unwrap(), None);
    }
}
