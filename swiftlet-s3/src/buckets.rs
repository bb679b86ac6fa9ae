//! What bucket and object handlers share about buckets: their names, the containers
//! behind them, their headers, config bodies (and their Content-MD5) kept as system
//! metadata, and the answers they give.

use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::swift::error_for;
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};
use md5::{Digest, Md5};
use serde::Serialize;

/// Bucket configurations and ACL documents (S3's own cap for CORS is 64 KB).
pub(crate) const MAX_CONFIG_BODY: usize = 64 * 1024;
/// Tag sets (10 tags of 128 + 256 characters) and the CreateBucket and versioning
/// documents, which hold a word or two.
pub(crate) const MAX_SMALL_BODY: usize = 16 * 1024;

/// The container holding a bucket's multipart segments (as Swift's s3api names it).
pub(crate) fn segments_container(bucket: &str) -> String {
    format!("{bucket}+segments")
}

/// The container a versioned bucket keeps older versions in.
pub(crate) fn versions_container(bucket: &str) -> String {
    format!("{bucket}+versions")
}

/// S3's rules for new buckets: 3-63 characters of lower-case letters, digits, `.` and `-`,
/// starting and ending with a letter or digit, no `..`, not an IP address.
pub(crate) fn check_name_strictly(name: &str) -> Result<()> {
    let bad = || S3Error::InvalidBucketName(name.to_string());
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return Err(bad());
    }
    if !b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-') {
        return Err(bad());
    }
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !edge_ok(b[0]) || !edge_ok(b[b.len() - 1]) || name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err(bad());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(bad());
    }
    Ok(())
}

/// For existing buckets, any name a Swift container can have (they may predate S3 use).
pub(crate) fn check_name_loosely(name: &str) -> Result<()> {
    if name.len() > 256 || name.contains('\0') {
        return Err(S3Error::InvalidBucketName(name.chars().take(64).collect()));
    }
    Ok(())
}

/// Reads a small request body whole (after its signature checks): a body announced or
/// found larger than `limit` is refused before more than `limit` is buffered, and one
/// whose client stalls is given up on ([`crate::request_body`]). A Content-MD5 sent
/// with it must match (`BadDigest`).
pub(crate) async fn read_body(ctx: &S3Ctx<'_>, body: Body, limit: usize) -> Result<bytes::Bytes> {
    use crate::request_body::{read_capped, ReadError, DEADLINES};
    let too_long = || S3Error::InvalidRequest(format!("the request body is larger than {limit} bytes"));
    if ctx.body_len.is_some_and(|l| l > limit as u64) {
        return Err(too_long());
    }
    match read_capped(body, limit, DEADLINES).await {
        Ok(b) => check_md5(ctx, &b).map(|()| b),
        Err(ReadError::TooLong(_)) => Err(too_long()),
        Err(ReadError::Stalled) => Err(S3Error::RequestTimeout),
        Err(ReadError::Body(e)) => Err(ctx.body_error_or(S3Error::IncompleteBody(e))),
    }
}

pub(crate) fn xml_response(status: StatusCode, body: String) -> Response<Body> {
    let len = body.len();
    let mut r = Response::new(common::http::full(body));
    *r.status_mut() = status;
    set(r.headers_mut(), "content-type", "application/xml");
    set(r.headers_mut(), "content-length", &len.to_string());
    r
}

pub(crate) fn empty_response(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(common::http::empty());
    *r.status_mut() = status;
    if status != StatusCode::NO_CONTENT {
        set(r.headers_mut(), "content-length", "0");
    }
    r
}

/// Swift's `last_modified` (`2023-11-14T22:13:20.123456`) as S3 writes it.
pub(crate) fn s3_time(swift: &str) -> String {
    let base: String = swift.chars().take(23).collect();
    if base.len() == 19 {
        format!("{base}.000Z")
    } else if base.len() == 23 {
        format!("{base}Z")
    } else {
        "1970-01-01T00:00:00.000Z".to_string()
    }
}

/// HEADs the bucket's container: its headers, or NoSuchBucket.
pub(crate) async fn head_container(ctx: &S3Ctx<'_>) -> Result<HeaderMap> {
    let r = ctx.swift.small(Method::HEAD, Some(ctx.bucket()), None, &[], HeaderMap::new()).await?;
    if r.status.is_success() {
        Ok(r.headers)
    } else {
        Err(error_for(r.status, &r.body, S3Error::NoSuchBucket))
    }
}

/// Whether the bucket's container keeps history (versioning Enabled).
pub(crate) fn versioning_status(h: &HeaderMap) -> Option<&'static str> {
    let set = |n: &str| get(h, n).is_some_and(|v| !v.is_empty());
    (set("x-history-location") || set("x-versions-location")).then_some("Enabled")
}

/// Checks a document against its Content-MD5, when one was sent.
fn check_md5(ctx: &S3Ctx<'_>, doc: &[u8]) -> Result<()> {
    match crate::headers::content_md5_hex(&ctx.headers)? {
        Some(md5) if md5 != hex::encode(Md5::digest(doc)) => Err(S3Error::BadDigest),
        _ => Ok(()),
    }
}

/// A stored configuration as JSON in plain ASCII (non-ASCII written as `\uXXXX`), so
/// it fits in a header value whatever the keys and origins it names.
pub(crate) fn ascii_json<T: Serialize>(value: &T) -> Result<String> {
    let json = serde_json::to_string(value).map_err(|e| S3Error::InternalError(e.to_string()))?;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    Ok(out)
}

/// Sets (or, with an empty value, removes) one system metadata item of the bucket.
pub(crate) async fn post_bucket_sysmeta(ctx: &S3Ctx<'_>, name: &str, value: &str) -> Result<()> {
    let mut h = HeaderMap::new();
    let v = http::HeaderValue::from_str(value)
        .map_err(|_| S3Error::InternalError("a configuration that is not a header value".into()))?;
    let n = http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| S3Error::InternalError(e.to_string()))?;
    h.insert(n, v);
    let r = ctx.swift.small(Method::POST, Some(ctx.bucket()), None, &[], h).await?;
    if !r.status.is_success() {
        return Err(error_for(r.status, &r.body, S3Error::NoSuchBucket));
    }
    Ok(())
}
