//! GET and HEAD: open the object, answer conditionals (304/412), ranges (206/416) and stream
//! the body. Bodies up to `SMALL_BODY` are read and verified in the same pool job that opens
//! the object, so a corrupt small object answers 404 (and is quarantined) before any byte
//! is sent; larger bodies are verified as they stream (see `DiskFileReader`).

use super::headers::{self, Match};
use super::range::{self, Segment};
use super::stream::object_body;
use super::{AppState, ObjectPath, SMALL_BODY};
use crate::error::{Error, Result};
use bytes::Bytes;
use common::headers::{get, set};
use common::http::{empty, full, Body, HttpError};
use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use swiftlet_object_store::diskfile::metadata::ETAG;
use swiftlet_object_store::diskfile::{ObjectState, OpenObject};
use swiftlet_object_store::StoreError;

pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    path: ObjectPath,
    head: bool,
) -> Result<Response<Body>> {
    let h = req.headers();
    let now = headers::current_time(h);
    let open_expired = headers::open_expired(h);
    let device = state.devices.get(&path.device).await?;
    let df = device.manager.diskfile(path.partition, &path.account, &path.container, &path.obj);
    let dev = device.clone();
    let df2 = df.clone();
    let (opened, body) = device
        .pool
        .run_io(move || -> Result<_> {
            dev.check()?;
            match df2.open(now, open_expired)? {
                ObjectState::Exists(obj) if !head && obj.content_length <= SMALL_BODY => {
                    match df2.reader(&obj).read_all() {
                        Ok(bytes) => Ok((ObjectState::Exists(obj), Some(bytes))),
                        Err(StoreError::Quarantined(_)) => Ok((ObjectState::Missing, None)),
                        Err(e) => Err(e.into()),
                    }
                }
                state => Ok((state, None)),
            }
        })
        .await?;
    let obj = match opened {
        ObjectState::Exists(obj) => obj,
        ObjectState::Missing => return not_found(h, None),
        ObjectState::Deleted { timestamp } | ObjectState::Expired { timestamp, .. } => {
            return not_found(h, Some(timestamp))
        }
    };
    let mut out = headers::object_headers(&obj, &state.allowed_headers);
    if let Some(status) = conditional_status(h, &obj) {
        return Ok(bodiless(status, out, 0));
    }
    if head {
        return Ok(bodiless(StatusCode::OK, out, obj.content_length));
    }
    let len = obj.content_length;
    let specs = h
        .get(http::header::RANGE)
        .filter(|_| !ignore_range(h, &obj))
        .and_then(|v| v.to_str().ok())
        .and_then(range::parse)
        .filter(|_| len > 0);
    let (status, segments, body_len) = match specs {
        None => (StatusCode::OK, vec![Segment::Object { start: 0, end: len }], len),
        Some(specs) => {
            let ranges = range::for_length(&specs, len);
            match ranges.as_slice() {
                [] => return Ok(unsatisfiable(out, len)),
                [(start, end)] => {
                    set(&mut out, "content-range", &range::content_range(*start, *end, len));
                    (StatusCode::PARTIAL_CONTENT, vec![Segment::Object { start: *start, end: *end }], end - start)
                }
                many => {
                    let boundary = format!("{:032x}", rand::random::<u128>());
                    let ctype = get(&out, "content-type").unwrap_or("application/octet-stream").to_string();
                    let (segments, total) = range::multipart(many, &boundary, &ctype, len);
                    let multipart_type = format!("multipart/byteranges;boundary={boundary}");
                    set(&mut out, "content-type", &multipart_type);
                    (StatusCode::PARTIAL_CONTENT, segments, total)
                }
            }
        }
    };
    set(&mut out, "content-length", &body_len.to_string());
    let body = match body {
        Some(bytes) => full(assemble(&segments, &bytes)),
        None => object_body(device.pool.clone(), df.reader(&obj), segments, state.config.disk_chunk_size.max(4096)),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = out;
    Ok(resp)
}

/// A 416 that still describes the object (ETag, Last-Modified, Accept-Ranges, metadata), as
/// Swift's does: clients check the ETag of a failed range too.
fn unsatisfiable(object: HeaderMap, len: u64) -> Response<Body> {
    let mut resp = Error::RangeNotSatisfiable { length: len }.to_response();
    for (name, value) in &object {
        if name != http::header::CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
            resp.headers_mut().entry(name).or_insert_with(|| value.clone());
        }
    }
    resp
}

/// Builds a small body from segments over bytes already in memory.
fn assemble(segments: &[Segment], object: &Bytes) -> Bytes {
    if let [Segment::Object { start, end }] = segments {
        return object.slice(*start as usize..*end as usize);
    }
    let mut out = Vec::new();
    for s in segments {
        match s {
            Segment::Literal(b) => out.extend_from_slice(b),
            Segment::Object { start, end } => out.extend_from_slice(&object[*start as usize..*end as usize]),
        }
    }
    Bytes::from(out)
}

/// A 404, or 412 for `If-Match: *` (nothing exists to match).
fn not_found(h: &HeaderMap, timestamp: Option<common::Timestamp>) -> Result<Response<Body>> {
    if Match::parse(h, "if-match").is_some_and(|m| m.star()) {
        return Err(Error::PreconditionFailed("Precondition Failed".into()));
    }
    Err(Error::NotFound { timestamp })
}

fn bodiless(status: StatusCode, mut headers: HeaderMap, content_length: u64) -> Response<Body> {
    set(&mut headers, "content-length", &content_length.to_string());
    let mut resp = Response::new(empty());
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

/// The ETag conditionals compare with: normally the object's, or the metadata key named by
/// `X-Backend-Etag-Is-At` (used by middleware that stores a different ETag).
fn conditional_etag(h: &HeaderMap, obj: &OpenObject) -> Option<String> {
    if let Some(keys) = get(h, "x-backend-etag-is-at") {
        for key in keys.split(',').map(str::trim) {
            if let Some((_, v)) = obj.metadata.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Some(v.clone());
            }
        }
    }
    obj.metadata.get(ETAG).cloned()
}

/// swob's conditional response: 304 or 412, checked in Swift's order.
fn conditional_status(h: &HeaderMap, obj: &OpenObject) -> Option<StatusCode> {
    let etag = conditional_etag(h, obj);
    if let (Some(e), Some(m)) = (&etag, Match::parse(h, "if-none-match")) {
        if m.matches(e) {
            return Some(StatusCode::NOT_MODIFIED);
        }
    }
    if let (Some(e), Some(m)) = (&etag, Match::parse(h, "if-match")) {
        if !m.matches(e) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    }
    let ts = obj.timestamp();
    let modified = headers::ceil_secs(ts);
    if headers::http_date(h, "if-modified-since").is_some_and(|since| modified <= since) {
        return Some(StatusCode::NOT_MODIFIED);
    }
    if headers::http_date(h, "if-unmodified-since").is_some_and(|since| modified > since) {
        return Some(StatusCode::PRECONDITION_FAILED);
    }
    None
}

/// `X-Backend-Ignore-Range-If-Metadata-Present`: serve the whole object when it carries any
/// of the named metadata (e.g. a manifest that the proxy assembles).
fn ignore_range(h: &HeaderMap, obj: &OpenObject) -> bool {
    get(h, "x-backend-ignore-range-if-metadata-present").is_some_and(|keys| {
        keys.split(',').map(str::trim).any(|key| obj.metadata.keys().any(|k| k.eq_ignore_ascii_case(key)))
    })
}
