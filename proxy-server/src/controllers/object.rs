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
    authorize(ctx, account, access, &acl)?;
    let info = info.ok_or(ProxyError::NotFound)?;
    let obj = ObjectRef { account, container, object, info };
    match req.method {
        Method::GET | Method::HEAD => object_get::handle(p, ctx, &obj, req).await,
        Method::PUT => object_put::handle_put(p, ctx, &obj, req, body).await,
        Method::POST => post(p, ctx, &obj, req).await,
        Method::DELETE => delete(p, ctx, &obj).await,
        _ => Err(ProxyError::MethodNotAllowed),
    }
}

/// Checks object metadata and turns `X-Delete-After` into `X-Delete-At`.
pub fn check_object_headers(client: &HeaderMap, out: &mut HeaderMap) -> Result<()> {
    check_metadata(user_metadata(client, "object"))?;
    let now = Timestamp::now().secs();
    if let Some(after) = client.get("x-delete-after") {
        let secs: u64 = after
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| ProxyError::BadRequest("Non-integer X-Delete-After".into()))?;
        set_header(out, "x-delete-at", &(now + secs).to_string());
    } else if let Some(at) = client.get("x-delete-at") {
        let at: u64 = at
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| ProxyError::BadRequest("Non-integer X-Delete-At".into()))?;
        if at <= now {
            return Err(ProxyError::BadRequest("X-Delete-At in past".into()));
        }
        set_header(out, "x-delete-at", &at.to_string());
    }
    Ok(())
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

async fn delete(p: &Proxy, ctx: &Ctx, obj: &ObjectRef<'_>) -> Result<Response<Body>> {
    let mut headers = backend_headers(ctx);
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
