//! What SLO and DLO share: client byte ranges over the whole large object, and the pump
//! that streams segments in order, each fetched with a GET sub-request (a range of it
//! when only part is needed) and checked against what the manifest says.
//!
//! The pump runs in its own task and hands chunks to the response body through a small
//! bounded channel, so a large object streams in constant memory. If a segment turns out
//! missing or changed mid-stream, the body ends with an error (the client sees a
//! truncated transfer), as Swift does; a bad *first* segment is reported before any
//! header is sent, so the client gets a 409 instead.

use super::subrequest::{self as sub, header};
use super::Next;
use crate::server::Ctx;
use bytes::Bytes;
use common::http::{Body, BodyError};
use futures::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::{mpsc, oneshot};

/// A piece of the large object, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes already in hand (SLO inline data, multipart range headers).
    Data(Bytes),
    /// Bytes `first..=last` (all of it when `whole`) of the object at `path` (quoted
    /// `/v1/a/c/o`), which must still have `etag` and `size` when they are given.
    Object { path: String, first: u64, last: u64, whole: bool, etag: Option<String>, size: Option<u64> },
}

/// Where the pieces come from: a manifest walked lazily (SLO, with sub-manifests fetched
/// on the way) or container listings paged lazily (DLO).
pub trait Segments: Send + 'static {
    fn next_piece(&mut self) -> BoxFuture<'_, Result<Option<Piece>, String>>;
}

/// Pieces known up front.
pub struct Fixed(pub std::collections::VecDeque<Piece>);

impl Segments for Fixed {
    fn next_piece(&mut self) -> BoxFuture<'_, Result<Option<Piece>, String>> {
        let p = self.0.pop_front();
        Box::pin(async move { Ok(p) })
    }
}

/// Chains sources (one per requested byte range, for multipart/byteranges).
pub struct Chain(pub std::collections::VecDeque<Box<dyn Segments>>);

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
pub async fn stream(next: Next, ctx: Ctx, segments: impl Segments, expected_len: Option<u64>) -> Result<Body, String> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, BodyError>>(4);
    let (first_tx, first_rx) = oneshot::channel();
    tokio::spawn(pump(next, ctx, segments, tx, first_tx, expected_len));
    match first_rx.await {
        Ok(Ok(())) => Ok(crate::controllers::object_get::channel_body(rx)),
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
        sub::set(req.headers_mut(), "range", &format!("bytes={first}-{last}"));
    }
    let resp = next.call(req).await;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("got {status} while retrieving segment {path}"));
    }
    let h = resp.headers();
    let got_etag = header(h, "etag").map(|e| e.trim_matches('"').to_string());
    let got_size = if status == StatusCode::PARTIAL_CONTENT {
        header(h, "content-range").and_then(|r| r.rsplit('/').next()).and_then(|t| t.parse::<u64>().ok())
    } else {
        header(h, "content-length").and_then(|l| l.parse::<u64>().ok())
    };
    if etag.is_some_and(|e| Some(e) != got_etag.as_deref()) || size.is_some_and(|s| Some(s) != got_size) {
        return Err(format!(
            "object segment no longer valid: {path} etag {got_etag:?} != {etag:?} or size {got_size:?} != {size:?}"
        ));
    }
    Ok(resp.into_body())
}

/// Evaluates a request's conditional headers against a large object's ETag and
/// Last-Modified (the object server only saw the manifest's): 412 or 304 when unmet.
pub fn conditional(req: &HeaderMap, etag: Option<&str>, last_modified: Option<&str>) -> Option<StatusCode> {
    let matches = |list: &str| {
        list.split(',').map(|e| e.trim()).any(|e| e == "*" || etag.is_some_and(|t| e.trim_matches('"') == t))
    };
    let lm = last_modified.and_then(|v| httpdate::parse_http_date(v).ok());
    let date = |name: &str| header(req, name).and_then(|v| httpdate::parse_http_date(v).ok());
    if let Some(im) = header(req, "if-match") {
        if !matches(im) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    } else if let (Some(since), Some(lm)) = (date("if-unmodified-since"), lm) {
        if lm > since {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    }
    if let Some(inm) = header(req, "if-none-match") {
        if matches(inm) {
            return Some(StatusCode::NOT_MODIFIED);
        }
    } else if let (Some(since), Some(lm)) = (date("if-modified-since"), lm) {
        if lm <= since {
            return Some(StatusCode::NOT_MODIFIED);
        }
    }
    None
}

/// A parsed `Range` header, resolved against the object's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranges {
    /// No usable Range header: the whole object, 200.
    Whole,
    /// Nothing requested is inside the object: 416.
    Unsatisfiable,
    /// Inclusive byte ranges to send (206).
    Some(Vec<(u64, u64)>),
}

/// Swift's reading of `Range: bytes=...` (swob's `Range`): a syntax error or too many
/// ranges ignores the header; ranges beyond the end are dropped; none left is 416.
pub fn parse_ranges(header_value: Option<&str>, length: u64) -> Ranges {
    const MAX_RANGES: usize = 50;
    let Some(v) = header_value else { return Ranges::Whole };
    let Some(spec) = v.trim().strip_prefix("bytes=") else { return Ranges::Whole };
    let mut wanted = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let Some((a, b)) = part.split_once('-') else { return Ranges::Whole };
        let (a, b) = (a.trim(), b.trim());
        let parsed = match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ranges::Whole,
            (true, false) => b.parse::<u64>().ok().map(|n| (None, Some(n))),
            (false, true) => a.parse::<u64>().ok().map(|s| (Some(s), None)),
            (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(s), Ok(e)) if s <= e => Some((Some(s), Some(e))),
                _ => None,
            },
        };
        match parsed {
            Some(r) => wanted.push(r),
            None => return Ranges::Whole,
        }
    }
    if wanted.is_empty() || wanted.len() > MAX_RANGES {
        return Ranges::Whole;
    }
    let mut out = Vec::new();
    for r in wanted {
        match r {
            (Some(s), _) if s >= length => {}
            (Some(s), Some(e)) => out.push((s, e.min(length - 1))),
            (Some(s), None) => out.push((s, length - 1)),
            (None, Some(0)) => {}
            (None, Some(n)) if length > 0 => out.push((length.saturating_sub(n), length - 1)),
            _ => {}
        }
    }
    if out.is_empty() {
        Ranges::Unsatisfiable
    } else {
        Ranges::Some(out)
    }
}

/// Head of one part of a multipart/byteranges body.
pub fn part_head(boundary: &str, content_type: &str, (s, e): (u64, u64), total: u64, first: bool) -> Bytes {
    let lead = if first { "" } else { "\r\n" };
    Bytes::from(format!(
        "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {s}-{e}/{total}\r\n\r\n"
    ))
}

pub fn closing(boundary: &str) -> Bytes {
    Bytes::from(format!("\r\n--{boundary}--"))
}

/// The length of a multipart/byteranges body over `ranges`.
pub fn multipart_length(boundary: &str, content_type: &str, ranges: &[(u64, u64)], total: u64) -> u64 {
    let heads: u64 =
        ranges.iter().enumerate().map(|(i, r)| part_head(boundary, content_type, *r, total, i == 0).len() as u64).sum();
    let data: u64 = ranges.iter().map(|(s, e)| e - s + 1).sum();
    heads + data + closing(boundary).len() as u64
}

/// A boundary unlikely to appear in the data.
pub fn new_boundary() -> String {
    use rand::Rng;
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// Headers of a large-object response: what the manifest's own response says, less what
/// describes the manifest body.
pub fn response_headers(manifest: &HeaderMap) -> HeaderMap {
    let mut h = manifest.clone();
    for n in ["content-length", "content-range", "etag", "accept-ranges", "transfer-encoding"] {
        h.remove(n);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_swob() {
        assert_eq!(parse_ranges(None, 10), Ranges::Whole);
        assert_eq!(parse_ranges(Some("bytes=2-4"), 10), Ranges::Some(vec![(2, 4)]));
        assert_eq!(parse_ranges(Some("bytes=8-"), 10), Ranges::Some(vec![(8, 9)]));
        assert_eq!(parse_ranges(Some("bytes=-3"), 10), Ranges::Some(vec![(7, 9)]));
        assert_eq!(parse_ranges(Some("bytes=-30"), 10), Ranges::Some(vec![(0, 9)]));
        assert_eq!(parse_ranges(Some("bytes=5-100"), 10), Ranges::Some(vec![(5, 9)]));
        assert_eq!(parse_ranges(Some("bytes=10-"), 10), Ranges::Unsatisfiable);
        assert_eq!(parse_ranges(Some("bytes=-0"), 10), Ranges::Unsatisfiable);
        assert_eq!(parse_ranges(Some("bytes=4-2"), 10), Ranges::Whole);
        assert_eq!(parse_ranges(Some("bytes=x"), 10), Ranges::Whole);
        assert_eq!(parse_ranges(Some("bytes=0-1,12-"), 10), Ranges::Some(vec![(0, 1)]));
    }

    #[test]
    fn multipart_length_matches_parts() {
        let b = "xyz";
        let ranges = [(0, 1), (5, 9)];
        let mut total = 0;
        for (i, r) in ranges.iter().enumerate() {
            total += part_head(b, "text/plain", *r, 10, i == 0).len() as u64 + (r.1 - r.0 + 1);
        }
        total += closing(b).len() as u64;
        assert_eq!(multipart_length(b, "text/plain", &ranges, 10), total);
    }

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
