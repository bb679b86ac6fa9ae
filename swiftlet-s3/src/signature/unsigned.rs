//! The `x-amz-*` headers a SigV4 signature must cover. They change what a request does
//! (`x-amz-copy-source` turns an upload into a copy, `x-amz-acl` publishes it), so one
//! added to a request someone else signed (a presigned URL) is refused as S3 refuses it:
//! AccessDenied, "There were headers present in the request which were not signed".

use crate::error::{Result, S3Error};
use crate::router::Query;
use http::HeaderMap;

/// The payload hash sits in the canonical request itself, so it is covered unlisted.
const CONTENT_SHA256: &str = "x-amz-content-sha256";

fn refuse(names: Vec<String>) -> Result<()> {
    if names.is_empty() {
        Ok(())
    } else {
        Err(S3Error::HeadersNotSigned(names.join(",")))
    }
}

/// The names of the `x-amz-*` headers present that `covered` does not vouch for.
fn unsigned(headers: &HeaderMap, covered: impl Fn(&str, &[u8]) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, value) in headers {
        let name = name.as_str();
        if name.starts_with("x-amz-") && !covered(name, value.as_bytes()) && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out.sort();
    out
}

/// `Authorization: AWS4-HMAC-SHA256 ...`: every `x-amz-*` header is in `SignedHeaders`.
pub(crate) fn check_header_auth(headers: &HeaderMap, signed: &[String]) -> Result<()> {
    refuse(unsigned(headers, |name, _| name == CONTENT_SHA256 || signed.iter().any(|s| s == name)))
}

/// A presigned URL: every `x-amz-*` header is in `X-Amz-SignedHeaders`, or repeats a
/// (signed) query parameter of the same name with the same value. A payload hash header is
/// the one the canonical request was built with, so it is covered either way.
pub(crate) fn check_presigned(headers: &HeaderMap, signed: &[String], q: &Query) -> Result<()> {
    let in_query = |name: &str, value: &[u8]| {
        q.0.iter().any(|(k, v)| k.eq_ignore_ascii_case(name) && v.trim().as_bytes() == value.trim_ascii())
    };
    refuse(unsigned(headers, |name, value| {
        name == CONTENT_SHA256 || signed.iter().any(|s| s == name) || in_query(name, value)
    }))
}
