//! What SLO and DLO share, part two: client byte ranges over the whole large object
//! (Swift's reading of `Range`), conditional requests against its ETag, multipart/byteranges
//! bodies, and the headers of a large-object response.

use bytes::Bytes;
use common::headers::get;
use http::{HeaderMap, StatusCode};
/// Evaluates a request's conditional headers against a large object's ETag and
/// Last-Modified (the object server only saw the manifest's): 412 or 304 when unmet.
pub(crate) fn conditional(req: &HeaderMap, etag: Option<&str>, last_modified: Option<&str>) -> Option<StatusCode> {
    let matches = |list: &str| {
        list.split(',').map(|e| e.trim()).any(|e| e == "*" || etag.is_some_and(|t| e.trim_matches('"') == t))
    };
    let lm = last_modified.and_then(|v| httpdate::parse_http_date(v).ok());
    let date = |name: &str| get(req, name).and_then(|v| httpdate::parse_http_date(v).ok());
    if let Some(im) = get(req, "if-match") {
        if !matches(im) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    } else if let (Some(since), Some(lm)) = (date("if-unmodified-since"), lm) {
        if lm > since {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    }
    if let Some(inm) = get(req, "if-none-match") {
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
pub(crate) enum Ranges {
    /// No usable Range header: the whole object, 200.
    Whole,
    /// Nothing requested is inside the object: 416.
    Unsatisfiable,
    /// Inclusive byte ranges to send (206).
    Some(Vec<(u64, u64)>),
}

/// Swift's reading of `Range: bytes=...` (swob's `Range`): a syntax error or too many
/// ranges ignores the header; ranges beyond the end are dropped; none left is 416.
pub(crate) fn parse_ranges(header_value: Option<&str>, length: u64) -> Ranges {
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
pub(crate) fn part_head(boundary: &str, content_type: &str, (s, e): (u64, u64), total: u64, first: bool) -> Bytes {
    let lead = if first { "" } else { "\r\n" };
    Bytes::from(format!(
        "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {s}-{e}/{total}\r\n\r\n"
    ))
}

pub(crate) fn closing(boundary: &str) -> Bytes {
    Bytes::from(format!("\r\n--{boundary}--"))
}

/// The length of a multipart/byteranges body over `ranges`.
pub(crate) fn multipart_length(boundary: &str, content_type: &str, ranges: &[(u64, u64)], total: u64) -> u64 {
    let heads: u64 =
        ranges.iter().enumerate().map(|(i, r)| part_head(boundary, content_type, *r, total, i == 0).len() as u64).sum();
    let data: u64 = ranges.iter().map(|(s, e)| e - s + 1).sum();
    heads + data + closing(boundary).len() as u64
}

/// A boundary unlikely to appear in the data.
pub(crate) fn new_boundary() -> String {
    use rand::Rng;
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// Headers of a large-object response: what the manifest's own response says, less what
/// describes the manifest body.
pub(crate) fn response_headers(manifest: &HeaderMap) -> HeaderMap {
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
}
