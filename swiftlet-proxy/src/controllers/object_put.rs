//! Object PUT (and COPY, a GET piped into a PUT).
//!
//! Small bodies are buffered so any failed primary can be retried on a handoff. Larger ones
//! stream to every replica at once: each replica's connection is opened first (a dead
//! primary is replaced by a handoff before any byte is sent), then each client chunk is
//! handed to all of them. 201 only when a quorum of object servers committed (fsynced).

use super::headers::copy_headers;
use super::object_headers::{
    check_object_headers, guess_content_type, with_container_updates, OBJECT_HEADERS, OBJECT_PREFIXES,
};
use super::object_ref::ObjectRef;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::headers::set_static;
use crate::quote::resource_path;
use crate::state::cluster::Cluster;
use crate::storage::backend::{backend_headers, bodiless};
use crate::storage::quorum::best_status;
use crate::storage::upload::stream_put;
use crate::storage::write::{fan_out, statuses, Reply, WriteTargets};
use bytes::Bytes;
use common::constraints::MAX_FILE_SIZE;
use common::headers::get;
use common::http::Body;
use common::Timestamp;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;
use md5::{Digest, Md5};

/// A PUT body on its way to the replicas.
struct Upload {
    body: Body,
    length: Option<u64>,
}

pub(crate) async fn handle_put(
    p: &Cluster,
    ctx: &Ctx,
    obj: &ObjectRef<'_>,
    req: &Parts,
    body: Body,
) -> Result<Response<Body>> {
    if get(&req.headers, "if-none-match").is_some_and(|v| !v.split(',').any(|t| t.trim() == "*")) {
        return Err(ProxyError::BadRequest("If-None-Match only supports *".into()));
    }
    let length = request_length(&req.headers)?;
    let mut headers = object_headers(ctx, obj, &req.headers)?;
    if let Some(len) = length {
        set_static(&mut headers, "content-length", &len.to_string());
    }
    put(p, obj, headers, Upload { body, length }).await
}

/// Content-Length, or `None` for a chunked body; 411 for neither, 413 over the limit.
fn request_length(h: &HeaderMap) -> Result<Option<u64>> {
    let chunked = get(h, "transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked"));
    if let Some(te) = get(h, "transfer-encoding").filter(|_| !chunked) {
        return Err(ProxyError::NotImplemented(format!("Transfer-Encoding {te} is not supported")));
    }
    match get(h, "content-length") {
        Some(v) => {
            let len: u64 = v.parse().map_err(|_| ProxyError::BadRequest("Invalid Content-Length".into()))?;
            if len > MAX_FILE_SIZE {
                return Err(ProxyError::TooLarge);
            }
            Ok(Some(len))
        }
        None if chunked => Ok(None),
        None if h.get("content-length").is_some() => Err(ProxyError::BadRequest("Invalid Content-Length".into())),
        None => Err(ProxyError::LengthRequired),
    }
}

/// The headers every replica's PUT carries.
fn object_headers(ctx: &Ctx, obj: &ObjectRef<'_>, client: &HeaderMap) -> Result<HeaderMap> {
    let mut headers = backend_headers(ctx);
    copy_headers(client, &mut headers, OBJECT_PREFIXES, OBJECT_HEADERS);
    copy_headers(client, &mut headers, &[], &["etag", "if-none-match"]);
    check_object_headers(client, &mut headers)?;
    let detect = get(client, "x-detect-content-type").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if detect || !headers.contains_key("content-type") {
        let guess = guess_content_type(obj.object);
        set_static(&mut headers, "content-type", guess);
    }
    set_static(&mut headers, "x-timestamp", &Timestamp::now().internal());
    Ok(headers)
}

/// The system metadata the body's trailer carries (`x-backend-footers`, set by the S3
/// frontend for a trailing checksum; clients cannot send it past the gatekeeper).
fn take_footer_names(headers: &mut HeaderMap) -> Vec<HeaderName> {
    let Some(names) = headers.remove(common::http::FOOTERS_HEADER) else { return Vec::new() };
    names
        .to_str()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|n| n.starts_with("x-object-sysmeta-"))
        .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
        .collect()
}

async fn put(p: &Cluster, obj: &ObjectRef<'_>, mut headers: HeaderMap, upload: Upload) -> Result<Response<Body>> {
    let footers = take_footer_names(&mut headers);
    let ring = p.rings.object.current();
    let part = ring.get_part(&p.secret, obj.account, Some(obj.container), Some(obj.object));
    let targets = WriteTargets::new(&ring, part, p);
    drop(ring);
    let n = targets.replicas();
    let mut slots = with_container_updates(&headers, &obj.info, n);
    let path = resource_path(obj.account, Some(obj.container), Some(obj.object));
    let (replies, md5) = match upload.length {
        Some(len) if len as usize <= p.config.retryable_body_limit => {
            let (body, trailers) = read_all(upload.body, len, p.config.client_timeout()).await?;
            // The whole body is here before any replica is asked: footers go as headers.
            for name in &footers {
                if let Some(v) = trailers.get(name) {
                    slots.iter_mut().for_each(|s| {
                        s.insert(name.clone(), v.clone());
                    });
                }
            }
            let md5 = hex::encode(Md5::digest(&body));
            (fan_out(p, targets, Method::PUT, (&path, None), slots, body).await, md5)
        }
        _ => stream_put(p, targets, &path, slots, upload.body, &footers).await?,
    };
    settle(&replies, n, &md5, headers.get("x-timestamp"))
}

/// Turns the replicas' replies into the client's answer.
fn settle(replies: &[Option<Reply>], n: usize, md5: &str, timestamp: Option<&HeaderValue>) -> Result<Response<Body>> {
    let status = best_status(&statuses(replies), n);
    if status.is_success() {
        let etags: Vec<&str> = replies
            .iter()
            .flatten()
            .filter(|r| r.status.is_success())
            .filter_map(|r| get(&r.headers, "etag").map(|e| e.trim_matches('"')))
            .collect();
        if etags.iter().any(|e| *e != md5) {
            return Err(ProxyError::Internal(format!(
                "object servers disagree on the ETag: {etags:?}, body MD5 {md5}"
            )));
        }
        let mut h = HeaderMap::new();
        set_static(&mut h, "etag", md5);
        if let Some(ts) = timestamp.and_then(|t| t.to_str().ok()).and_then(|t| t.parse::<Timestamp>().ok()) {
            set_static(&mut h, "last-modified", &httpdate_of(&ts));
        }
        set_static(&mut h, "content-length", "0");
        return Ok(bodiless(StatusCode::CREATED, h));
    }
    match status {
        StatusCode::UNPROCESSABLE_ENTITY => {
            Err(ProxyError::UnprocessableEntity("The ETag you sent does not match the object's".into()))
        }
        StatusCode::PRECONDITION_FAILED => Err(ProxyError::PreconditionFailed("Precondition Failed".into())),
        // An older timestamp than what the replicas hold: accepted, changes nothing (as Swift).
        StatusCode::CONFLICT => Ok(bodiless(StatusCode::ACCEPTED, HeaderMap::new())),
        s if s.is_client_error() => Ok(bodiless(s, HeaderMap::new())),
        _ => Err(ProxyError::ServiceUnavailable("Object PUT did not reach a quorum of replicas".into())),
    }
}

fn httpdate_of(ts: &Timestamp) -> String {
    // Last-Modified rounds up to the next whole second, as Swift does.
    let secs = ts.secs() + u64::from(!ts.ticks().is_multiple_of(100_000));
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Reads a small body whole, refusing one that is shorter or longer than announced; with
/// its trailers (empty if none).
async fn read_all(mut body: Body, len: u64, timeout: std::time::Duration) -> Result<(Bytes, HeaderMap)> {
    let mut buf = bytes::BytesMut::with_capacity(len as usize);
    let mut trailers = HeaderMap::new();
    loop {
        let frame = match tokio::time::timeout(timeout, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ProxyError::ClientDisconnect(e.to_string())),
            Err(_) => return Err(ProxyError::ClientDisconnect("timed out reading the body".into())),
        };
        match frame.into_data() {
            Ok(data) => {
                if buf.len() + data.len() > len as usize {
                    return Err(ProxyError::BadRequest("body longer than Content-Length".into()));
                }
                buf.extend_from_slice(&data);
            }
            Err(frame) => trailers.extend(frame.into_trailers().unwrap_or_default()),
        }
    }
    if buf.len() as u64 != len {
        return Err(ProxyError::ClientDisconnect(format!("body of {} bytes, Content-Length {len}", buf.len())));
    }
    Ok((buf.freeze(), trailers))
}
