//! What object handlers share: where the request's object (or one of its versions) lives
//! in Swift, its headers, and the S3 error for a missing one.

use crate::buckets::head_container;
use crate::buckets::versions_container;
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::swift::error_for;
use http::{HeaderMap, Method, StatusCode};

/// An old version of `key` in a versioned bucket: Swift's history naming
/// (`<3 hex digits of the key's length><key>/<timestamp>`) in `<bucket>+versions`.
pub(crate) fn version_object(bucket: &str, key: &str, version_id: &str) -> (String, String) {
    (versions_container(bucket), format!("{:03x}{key}/{version_id}", key.len()))
}

/// Where an object (or one of its old versions) lives in Swift.
pub(crate) fn object_location(ctx: &S3Ctx<'_>) -> (String, String) {
    match ctx.query.get("versionId").filter(|v| *v != "null" && !v.is_empty()) {
        Some(v) => version_object(ctx.bucket(), ctx.key(), v),
        None => (ctx.bucket().to_string(), ctx.key().to_string()),
    }
}

/// The Swift headers of the object a request names, or NoSuchKey/NoSuchBucket.
pub(crate) async fn head_object(ctx: &S3Ctx<'_>) -> Result<HeaderMap> {
    let (c, o) = object_location(ctx);
    let r = ctx.swift.small(Method::HEAD, Some(&c), Some(&o), &[], HeaderMap::new()).await?;
    if r.status.is_success() {
        return Ok(r.headers);
    }
    Err(missing_object_error(ctx, r.status, &r.body).await)
}

/// A 404 is NoSuchBucket when the bucket itself is missing, else NoSuchKey (or
/// NoSuchVersion when a version was asked for).
pub(crate) async fn missing_object_error(ctx: &S3Ctx<'_>, status: StatusCode, body: &[u8]) -> S3Error {
    if status != StatusCode::NOT_FOUND {
        return error_for(status, body, S3Error::NoSuchKey);
    }
    if let Err(e) = head_container(ctx).await {
        return e;
    }
    if ctx.query.get("versionId").is_some_and(|v| v != "null") {
        S3Error::NoSuchVersion
    } else {
        S3Error::NoSuchKey
    }
}
