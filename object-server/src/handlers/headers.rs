//! Request header parsing and object response headers shared by the verb handlers.

use crate::error::{Error, Result};
use common::constraints::{check_metadata, MAX_FILE_SIZE, MAX_HEADER_SIZE};
use common::headers::{flag, get, set};
use common::metadata::Metadata;
use common::Timestamp;
use http::{HeaderMap, HeaderValue};
use std::time::{Duration, UNIX_EPOCH};
use swiftlet_object_store::diskfile::metadata::{title_case, CONTENT_TYPE, ETAG, X_TIMESTAMP};
use swiftlet_object_store::diskfile::OpenObject;

pub const USER_META: &str = "x-object-meta-";
pub const SYS_META: &str = "x-object-sysmeta-";
pub const TRANSIENT_SYS_META: &str = "x-object-transient-sysmeta-";

/// A header's value as text (UTF-8 bytes kept; anything else replaced).
pub fn text_of(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

fn has_prefix(key: &str, prefix: &str) -> bool {
    key.len() > prefix.len() && key.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

pub fn is_user_meta(key: &str) -> bool {
    has_prefix(key, USER_META)
}
pub fn is_sys_meta(key: &str) -> bool {
    has_prefix(key, SYS_META)
}
pub fn is_transient_sys_meta(key: &str) -> bool {
    has_prefix(key, TRANSIENT_SYS_META)
}

/// The required `X-Timestamp` of a write.
pub fn required_timestamp(h: &HeaderMap) -> Result<Timestamp> {
    let v = h.get("x-timestamp").ok_or_else(|| Error::BadRequest("Missing X-Timestamp header".into()))?;
    let s = v.to_str().map_err(|_| Error::BadRequest("Invalid X-Timestamp header".into()))?;
    s.parse().map_err(|_| Error::BadRequest(format!("X-Timestamp should be a UNIX timestamp float value; was {s:?}")))
}

/// The request's notion of "now": its X-Timestamp if valid, else the clock (Swift's
/// `ensure_x_timestamp`).
pub fn current_time(h: &HeaderMap) -> Timestamp {
    get(h, "x-timestamp").and_then(|t| t.parse().ok()).unwrap_or_else(Timestamp::now)
}

/// True if the request may see expired objects (replication, the expirer).
pub fn open_expired(h: &HeaderMap) -> bool {
    ["x-backend-open-expired", "x-backend-replication"].iter().any(|n| flag(h, n))
}

/// The body length: `Some(n)` from Content-Length, `None` when chunked (Swift's `message_length`).
pub fn message_length(h: &HeaderMap) -> Result<Option<u64>> {
    if let Some(te) = h.get(http::header::TRANSFER_ENCODING) {
        // As swob: several codings are not implemented; one must be "chunked".
        let te = te.to_str().unwrap_or("").to_ascii_lowercase();
        if te.contains(',') {
            return Err(Error::NotImplemented(te));
        }
        if te.trim() != "chunked" {
            return Err(Error::BadRequest("Invalid Transfer-Encoding header value".into()));
        }
        return Ok(None);
    }
    match h.get(http::header::CONTENT_LENGTH) {
        None => Err(Error::LengthRequired),
        Some(v) => {
            let n: u64 = v
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| Error::BadRequest("Invalid Content-Length header value".into()))?;
            if n > MAX_FILE_SIZE {
                return Err(Error::TooLarge);
            }
            Ok(Some(n))
        }
    }
}

/// Header sizes and `X-Object-Meta-*` limits (Swift's `check_metadata` for objects).
pub fn check_object_metadata(h: &HeaderMap) -> Result<()> {
    for (k, v) in h {
        if v.len() > MAX_HEADER_SIZE {
            return Err(Error::BadRequest(format!("Header value too long: {}", k.as_str())));
        }
    }
    // Only lengths are checked, in bytes as Swift counts them: a value that is not UTF-8
    // (Swift allows those in object metadata) must not grow by its replacement characters.
    let items: Vec<(String, String)> = h
        .iter()
        .filter(|(k, _)| k.as_str().starts_with(USER_META))
        .map(|(k, v)| {
            let value = std::str::from_utf8(v.as_bytes()).map_or_else(|_| "?".repeat(v.len()), str::to_string);
            (k.as_str()[USER_META.len()..].to_string(), value)
        })
        .collect();
    check_metadata(items.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(())
}

/// `X-Delete-After`/`X-Delete-At` of a write, checked against its timestamp (Swift's
/// `check_delete_headers`). Replication may carry a past X-Delete-At.
pub fn delete_at(h: &HeaderMap, now: Timestamp) -> Result<Option<u64>> {
    let replication = flag(h, "x-backend-replication");
    if let Some(after) = h.get("x-delete-after") {
        let after: i64 = after
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| Error::BadRequest("Non-integer X-Delete-After".into()))?;
        let at = (now.as_secs_f64() + after as f64).max(0.0) as u64;
        if (at as f64) <= now.as_secs_f64() {
            return Err(Error::BadRequest("X-Delete-After in past".into()));
        }
        return Ok(Some(at));
    }
    let Some(v) = h.get("x-delete-at") else { return Ok(None) };
    let s = v.to_str().unwrap_or("").trim();
    if s.is_empty() {
        return Ok(None);
    }
    let at: u64 = s
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .map(|f| f as u64)
        .ok_or_else(|| Error::BadRequest("Non-integer X-Delete-At".into()))?;
    if (at as f64) <= now.as_secs_f64() && !replication {
        return Err(Error::BadRequest("X-Delete-At in past".into()));
    }
    Ok(Some(at))
}

/// Metadata a write stores from its headers: user metadata (and system metadata when
/// `sysmeta`), transient system metadata, the allowed headers and any header named in
/// `X-Backend-Replication-Headers`.
pub fn request_metadata(h: &HeaderMap, allowed: &[String], sysmeta: bool) -> Metadata {
    let mut meta = Metadata::new();
    let replicated: Vec<String> = get(h, "x-backend-replication-headers")
        .unwrap_or("")
        .split_whitespace()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    for (k, v) in h {
        let key = k.as_str();
        let keep = is_user_meta(key)
            || is_transient_sys_meta(key)
            || (sysmeta && is_sys_meta(key))
            || allowed.iter().any(|a| a == key)
            || replicated.iter().any(|r| r == key);
        if keep {
            meta.insert(title_case(key), text_of(v));
        }
    }
    meta
}

/// `Last-Modified`: the timestamp rounded up to whole seconds, as an HTTP date.
pub fn last_modified(ts: Timestamp) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(ceil_secs(ts)))
}

/// Whole seconds, rounded up (Swift's `Timestamp.ceil`, used for Last-Modified).
pub fn ceil_secs(ts: Timestamp) -> u64 {
    ts.ticks().div_ceil(100_000)
}

/// Seconds since the epoch of an HTTP-date header, if present and valid.
pub fn http_date(h: &HeaderMap, name: &str) -> Option<u64> {
    let t = httpdate::parse_http_date(get(h, name)?).ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// An `If-Match`/`If-None-Match` list (quotes removed); `*` matches anything.
pub struct Match(Vec<String>);

impl Match {
    pub fn parse(h: &HeaderMap, name: &str) -> Option<Match> {
        let v = h.get(name)?;
        let tags =
            text_of(v).split(',').map(|t| normalize_etag(t.trim()).to_string()).filter(|t| !t.is_empty()).collect();
        Some(Match(tags))
    }

    pub fn star(&self) -> bool {
        self.0.iter().any(|t| t == "*")
    }

    pub fn matches(&self, etag: &str) -> bool {
        self.star() || self.0.iter().any(|t| t == normalize_etag(etag))
    }
}

pub fn normalize_etag(tag: &str) -> &str {
    if tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"') {
        &tag[1..tag.len() - 1]
    } else {
        tag
    }
}

/// The headers GET and HEAD answer for an object.
pub fn object_headers(obj: &OpenObject, allowed: &[String]) -> HeaderMap {
    let mut h = HeaderMap::new();
    let meta = &obj.metadata;
    set(&mut h, "content-type", meta.get(CONTENT_TYPE).map(String::as_str).unwrap_or("application/octet-stream"));
    for (k, v) in meta {
        let lower = k.to_ascii_lowercase();
        if is_user_meta(k) || is_sys_meta(k) || is_transient_sys_meta(k) || allowed.contains(&lower) {
            set(&mut h, k, v);
        }
    }
    let ts = obj.timestamp();
    set(&mut h, "etag", &format!("\"{}\"", meta.get(ETAG).map(String::as_str).unwrap_or("")));
    set(&mut h, "last-modified", &last_modified(ts));
    set(&mut h, "content-length", &obj.content_length.to_string());
    set(&mut h, "x-timestamp", &ts.normal());
    set(&mut h, "x-backend-timestamp", &ts.internal());
    set(&mut h, "x-backend-data-timestamp", &obj.data_timestamp.internal());
    set(&mut h, "x-backend-durable-timestamp", &obj.data_timestamp.internal());
    set(&mut h, "accept-ranges", "bytes");
    h
}

/// The stored metadata's X-Timestamp key, for writers building metadata.
pub fn timestamp_entry(ts: Timestamp) -> (String, String) {
    (X_TIMESTAMP.to_string(), ts.internal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderName;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn lengths_and_timestamps() {
        assert!(matches!(message_length(&headers(&[])), Err(Error::LengthRequired)));
        assert_eq!(message_length(&headers(&[("content-length", "5")])).unwrap(), Some(5));
        assert_eq!(message_length(&headers(&[("transfer-encoding", "chunked")])).unwrap(), None);
        assert!(matches!(message_length(&headers(&[("transfer-encoding", "gzip")])), Err(Error::BadRequest(_))));
        let two = headers(&[("transfer-encoding", "gzip, chunked")]);
        assert!(matches!(message_length(&two), Err(Error::NotImplemented(_))));
        assert!(matches!(message_length(&headers(&[("content-length", "x")])), Err(Error::BadRequest(_))));
        let big = (MAX_FILE_SIZE + 1).to_string();
        assert!(matches!(message_length(&headers(&[("content-length", &big)])), Err(Error::TooLarge)));
        assert!(required_timestamp(&headers(&[])).is_err());
        assert!(required_timestamp(&headers(&[("x-timestamp", "abc")])).is_err());
        assert_eq!(required_timestamp(&headers(&[("x-timestamp", "1.5")])).unwrap().normal(), "0000000001.50000");
    }

    #[test]
    fn delete_at_rules() {
        let now: Timestamp = "1700000000.00000".parse().unwrap();
        assert_eq!(delete_at(&headers(&[("x-delete-at", "1700000100")]), now).unwrap(), Some(1_700_000_100));
        assert!(delete_at(&headers(&[("x-delete-at", "1600000000")]), now).is_err());
        assert!(delete_at(&headers(&[("x-delete-at", "soon")]), now).is_err());
        let repl = headers(&[("x-delete-at", "1600000000"), ("x-backend-replication", "true")]);
        assert_eq!(delete_at(&repl, now).unwrap(), Some(1_600_000_000));
        assert_eq!(delete_at(&headers(&[("x-delete-after", "10")]), now).unwrap(), Some(1_700_000_010));
        assert!(delete_at(&headers(&[("x-delete-after", "0")]), now).is_err());
    }

    #[test]
    fn metadata_selection_and_limits() {
        let h = headers(&[
            ("x-object-meta-color", "blue"),
            ("x-object-sysmeta-slo", "1"),
            ("content-disposition", "inline"),
            ("x-unrelated", "no"),
            ("x-backend-replication-headers", "x-unrelated"),
        ]);
        let allowed = vec!["content-disposition".to_string()];
        let m = request_metadata(&h, &allowed, true);
        assert_eq!(m.get("X-Object-Meta-Color").unwrap(), "blue");
        assert_eq!(m.get("X-Object-Sysmeta-Slo").unwrap(), "1");
        assert_eq!(m.get("Content-Disposition").unwrap(), "inline");
        assert_eq!(m.get("X-Unrelated").unwrap(), "no");
        assert!(!request_metadata(&h, &allowed, false).contains_key("X-Object-Sysmeta-Slo"));
        assert!(check_object_metadata(&h).is_ok());
        let too_many: Vec<(String, String)> = (0..91).map(|i| (format!("x-object-meta-k{i}"), "v".into())).collect();
        let h = headers(&too_many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
        assert!(matches!(check_object_metadata(&h), Err(Error::Metadata(_))));
        // 80 values of 25 bytes that are not UTF-8 fit in 4096 bytes, as in Swift.
        let mut h = HeaderMap::new();
        for i in 0..80 {
            let name = HeaderName::from_bytes(format!("x-object-meta-{i:0>11}").as_bytes()).unwrap();
            h.insert(name, HeaderValue::from_bytes(&[0xe9; 25]).unwrap());
        }
        assert!(check_object_metadata(&h).is_ok());
    }

    #[test]
    fn etags_and_dates() {
        let m = Match::parse(&headers(&[("if-match", "\"abc\", def")]), "if-match").unwrap();
        assert!(m.matches("abc") && m.matches("\"def\"") && !m.matches("x"));
        assert!(Match::parse(&headers(&[("if-match", "*")]), "if-match").unwrap().matches("z"));
        assert_eq!(last_modified("1700000000.00001".parse().unwrap()), "Tue, 14 Nov 2023 22:13:21 GMT");
        assert_eq!(last_modified("1700000000.00000".parse().unwrap()), "Tue, 14 Nov 2023 22:13:20 GMT");
        let h = headers(&[("if-modified-since", "Tue, 14 Nov 2023 22:13:20 GMT")]);
        assert_eq!(http_date(&h, "if-modified-since"), Some(1_700_000_000));
    }
}
