//! GetObject and HeadObject: a Swift GET/HEAD (ranges and conditions pass through, large
//! objects are assembled by the pipeline), with S3's headers and `response-*` overrides.

use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::headers::object_response_headers;
use crate::objects::missing_object_error;
use crate::objects::object_location;
use crate::swift::error_from;
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Response, StatusCode};

const CONDITIONS: &[&str] = &["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];

/// `response-*` query parameters and the header each one overrides.
const OVERRIDES: &[(&str, &str)] = &[
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// `partNumber`: 1..=10000, and never with a Range.
fn requested_part(ctx: &S3Ctx<'_>) -> Result<Option<u32>> {
    let Some(v) = ctx.query.get("partNumber") else { return Ok(None) };
    let n = crate::router::part_number(Some(v))?;
    if ctx.headers.contains_key("range") {
        return Err(S3Error::InvalidRequest("Cannot specify both Range header and partNumber query parameter".into()));
    }
    Ok(Some(n))
}

pub(crate) async fn get_object(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let part = requested_part(ctx)?;
    let mut headers = HeaderMap::new();
    for name in CONDITIONS {
        if let Some(v) = ctx.headers.get(*name) {
            headers.insert(*name, v.clone());
        }
    }
    // Conditionals compare with the ETag S3 clients were shown: a multipart upload's is
    // in sysmeta (first; SLO adds its own after it), not the manifest's own or the SLO's.
    set(&mut headers, "x-backend-etag-is-at", crate::headers::SYSMETA_ETAG);
    let (c, o) = object_location(ctx);
    // A large object's part is its segment's range (SLO answers `part-number`); other
    // objects ignore the parameter and are one part.
    let part_text = part.map(|n| n.to_string());
    let query: Vec<(&str, &str)> = part_text.iter().map(|n| ("part-number", n.as_str())).collect();
    let resp = ctx.swift.call(ctx.method.clone(), Some(&c), Some(&o), &query, headers, common::http::empty()).await;
    let status = resp.status();
    let parts_count = get(resp.headers(), "x-parts-count").map(str::to_string);
    if status == StatusCode::RANGE_NOT_SATISFIABLE && part.is_some() && parts_count.is_some() {
        return Err(S3Error::InvalidPartNumber);
    }
    if status == StatusCode::NOT_MODIFIED {
        let mut out = Response::new(common::http::empty());
        *out.status_mut() = status;
        for name in ["etag", "last-modified"] {
            if let Some(v) = object_response_headers(resp.headers()).get(name) {
                out.headers_mut().insert(name, v.clone());
            }
        }
        return Ok(out);
    }
    if status == StatusCode::NOT_FOUND {
        let small = crate::swift::read_small(resp).await?;
        return Err(missing_object_error(ctx, status, &small.body).await);
    }
    if !status.is_success() {
        return Err(error_from(resp, S3Error::NoSuchKey).await);
    }
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(body);
    *out.status_mut() = parts.status;
    *out.headers_mut() = object_response_headers(&parts.headers);
    for (param, header) in OVERRIDES {
        if let Some(v) = ctx.query.get(param) {
            set(out.headers_mut(), header, v);
        }
    }
    if let Some(v) = ctx.query.get("versionId") {
        set(out.headers_mut(), "x-amz-version-id", v);
    }
    // A whole object's checksum, for a whole-object answer only (a range has none).
    let whole = parts.status == StatusCode::OK && part.is_none();
    let asked = ctx.header("x-amz-checksum-mode").is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"));
    if let Some((name, value)) = crate::checksum::stored(&parts.headers).filter(|_| whole && asked) {
        set(out.headers_mut(), name, &value);
        set(out.headers_mut(), "x-amz-checksum-type", "FULL_OBJECT");
    }
    match (part, parts_count) {
        (Some(_), Some(count)) => set(out.headers_mut(), "x-amz-mp-parts-count", &count),
        (Some(1), None) => whole_as_part(&mut out),
        (Some(_), None) => return Err(S3Error::InvalidPartNumber),
        (None, _) => {}
    }
    Ok(out)
}

/// Part 1 of an object that is not multipart: all of it, as a 206 of the whole range.
fn whole_as_part(resp: &mut Response<Body>) {
    let len = get(resp.headers(), "content-length").and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
    if len > 0 && resp.status() == StatusCode::OK {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        set(resp.headers_mut(), "content-range", &format!("bytes 0-{}/{len}", len - 1));
    }
}
