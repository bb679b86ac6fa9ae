//! `/v1/<account>/<container>/<object>`: checks and dispatch for object verbs, and the
//! small writes (POST, DELETE) that fan out like container writes.

use super::base::{backend_headers, copy_headers, fan_out, statuses, user_metadata};
use super::container_info::{container_info, ContainerInfo};
use super::{object_get, object_put};
use crate::auth::{authorize, Access};
use crate::backend::{bodiless, resource_path, set_header};
use crate::error::{ProxyError, Result};
use crate::nodes::write_targets;
use crate::quorum::best_status;
use crate::server::{Ctx, Proxy};
use common::constraints::check_metadata;
use common::http::Body;
use common::Timestamp;
use http::request::Parts;
use http::{HeaderMap, Method, Response, StatusCode};
use std::sync::Arc;

/// Object headers a client may set and the object keeps (Swift's `allowed_headers`).
pub const OBJECT_HEADERS: &[&str] = &[
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "x-robots-tag",
    "x-delete-at",
    "x-object-manifest",
    "x-static-large-object",
];

/// Header prefixes an object keeps: user metadata, and system metadata and backend
/// directives, which only middlewares can set (the gatekeeper strips them from clients).
pub const OBJECT_PREFIXES: &[&str] =
    &["x-object-meta-", "x-object-sysmeta-", "x-object-transient-sysmeta-", "x-backend-"];

/// The resource an object request names, with its container's facts.
pub struct ObjectRef<'a> {
    pub account: &'a str,
    pub container: &'a str,
    pub object: &'a str,
    pub info: Arc<ContainerInfo>,
}

pub async fn handle(
    p: &Proxy,
    ctx: &Ctx,
    account: &str,
    container: &str,
    object: &str,
    req: &Parts,
    body: Body,
) -> Result<Response<Body>> {
    let info = container_info(p, ctx, account, container).await?;
    let access = Access::for_object(&req.method);
    let acl = info.as_ref().map(|i| i.acl.clone()).unwrap_or_default();
    authorize(ctx, account, Some(container), access, &acl)?;
    let info = info.ok_or(ProxyError::NotFound)?;
    let obj = ObjectRef { account, container, object, info };
    match req.method {
        Method::GET | Method::HEAD => object_get::handle(p, ctx, &obj, req).await,
        Method::PUT => object_put::handle_put(p, ctx, &obj, req, body).await,
        Method::POST => post(p, ctx, &obj, req).await,
        Method::DELETE => delete(p, ctx, &obj, req).await,
        _ => Err(ProxyError::MethodNotAllowed),
    }
}

/// Checks object metadata and turns `X-Delete-After` into `X-Delete-At`.
pub fn check_object_headers(client: &HeaderMap, out: &mut HeaderMap) -> Result<()> {
    check_metadata(user_metadata(client, "object"))?;
    let now = Timestamp::now().as_secs_f64();
    let int = |name: &str, what: &str| {
        client
            .get(name)
            .map(|v| {
                clamped_int(v.to_str().unwrap_or(""))
                    .ok_or_else(|| ProxyError::BadRequest(format!("Non-integer {what}")))
            })
            .transpose()
    };
    // Swift's bounds: expiry times are ten-digit seconds.
    const LATEST: i64 = 9_999_999_999;
    if let Some(after) = int("x-delete-after", "X-Delete-After")? {
        let at = (now as i64).saturating_add(after).clamp(0, LATEST);
        if (at as f64) <= now {
            return Err(ProxyError::BadRequest("X-Delete-After in past".into()));
        }
        set_header(out, "x-delete-at", &at.to_string());
    } else if let Some(at) = int("x-delete-at", "X-Delete-At")? {
        let at = at.clamp(0, LATEST);
        if (at as f64) <= now {
            return Err(ProxyError::BadRequest("X-Delete-At in past".into()));
        }
        set_header(out, "x-delete-at", &at.to_string());
    }
    Ok(())
}

/// An integer as Python's `int()` reads it (sign, surrounding spaces), saturated far
/// beyond any expiry time instead of overflowing.
fn clamped_int(v: &str) -> Option<i64> {
    let v = v.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = digits.trim_start_matches('0');
    let magnitude: i64 = if n.len() > 15 { 1_000_000_000_000_000 } else { n.parse().unwrap_or(0) };
    Some(if neg { -magnitude } else { magnitude })
}

/// Per-replica headers naming the container replica each object server updates.
pub fn with_container_updates(base: &HeaderMap, info: &ContainerInfo, replicas: usize) -> Vec<HeaderMap> {
    (0..replicas)
        .map(|i| {
            let mut h = base.clone();
            if let Some(node) = info.nodes.get(i % info.nodes.len().max(1)) {
                set_header(&mut h, "x-container-host", &format!("{}:{}", node.dev.ip, node.dev.port));
                set_header(&mut h, "x-container-device", &node.dev.device);
                set_header(&mut h, "x-container-partition", &info.partition.to_string());
            }
            h
        })
        .collect()
}

async fn post(p: &Proxy, ctx: &Ctx, obj: &ObjectRef<'_>, req: &Parts) -> Result<Response<Body>> {
    let mut headers = backend_headers(ctx);
    copy_headers(&req.headers, &mut headers, OBJECT_PREFIXES, OBJECT_HEADERS);
    check_object_headers(&req.headers, &mut headers)?;
    set_header(&mut headers, "x-timestamp", &Timestamp::now().internal());
    let status = fan_out_object(p, obj, Method::POST, headers).await;
    let status = if status.is_success() { StatusCode::ACCEPTED } else { status };
    Ok(bodiless(status, HeaderMap::new()))
}

async fn delete(p: &Proxy, ctx: &Ctx, obj: &ObjectRef<'_>, req: &Parts) -> Result<Response<Body>> {
    let mut headers = backend_headers(ctx);
    copy_headers(&req.headers, &mut headers, &["x-backend-"], &["x-if-delete-at"]);
    set_header(&mut headers, "x-timestamp", &Timestamp::now().internal());
    let status = fan_out_object(p, obj, Method::DELETE, headers).await;
    let status = if status.is_success() { StatusCode::NO_CONTENT } else { status };
    Ok(bodiless(status, HeaderMap::new()))
}

async fn fan_out_object(p: &Proxy, obj: &ObjectRef<'_>, method: Method, headers: HeaderMap) -> StatusCode {
    let ring = p.rings.object.current();
    let part = ring.get_part(&p.secret, obj.account, Some(obj.container), Some(obj.object));
    let (primaries, handoffs) = write_targets(&ring, part);
    let n = primaries.len();
    let slots = with_container_updates(&headers, &obj.info, n);
    let path = resource_path(obj.account, Some(obj.container), Some(obj.object));
    let replies = fan_out(p, part, primaries, handoffs, method, &path, None, slots, bytes::Bytes::new()).await;
    best_status(&statuses(&replies), n)
}
