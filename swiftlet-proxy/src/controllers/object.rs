//! `/v1/<account>/<container>/<object>`: checks and dispatch for object verbs, and the
//! small writes (POST, DELETE) that fan out like container writes.

use super::headers::copy_headers;
use super::object_headers::{check_object_headers, with_container_updates, OBJECT_HEADERS, OBJECT_PREFIXES};
use super::object_ref::ObjectRef;
use super::{object_get, object_put};
use crate::auth::authorize::{authorize, Access};
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::headers::set_static;
use crate::lookups::container::container_info;
use crate::quote::resource_path;
use crate::state::cluster::Cluster;
use crate::storage::backend::{backend_headers, bodiless};
use crate::storage::quorum::best_status;
use crate::storage::write::{fan_out, statuses, WriteTargets};
use common::http::Body;
use common::Timestamp;
use http::request::Parts;
use http::{HeaderMap, Method, Response, StatusCode};

pub(crate) async fn handle(
    p: &Cluster,
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

async fn post(p: &Cluster, ctx: &Ctx, obj: &ObjectRef<'_>, req: &Parts) -> Result<Response<Body>> {
    let mut headers = backend_headers(ctx);
    copy_headers(&req.headers, &mut headers, OBJECT_PREFIXES, OBJECT_HEADERS);
    check_object_headers(&req.headers, &mut headers)?;
    set_static(&mut headers, "x-timestamp", &Timestamp::now().internal());
    let status = fan_out_object(p, obj, Method::POST, headers).await;
    let status = if status.is_success() { StatusCode::ACCEPTED } else { status };
    Ok(bodiless(status, HeaderMap::new()))
}

async fn delete(p: &Cluster, ctx: &Ctx, obj: &ObjectRef<'_>, req: &Parts) -> Result<Response<Body>> {
    let mut headers = backend_headers(ctx);
    copy_headers(&req.headers, &mut headers, &["x-backend-"], &["x-if-delete-at"]);
    set_static(&mut headers, "x-timestamp", &Timestamp::now().internal());
    let status = fan_out_object(p, obj, Method::DELETE, headers).await;
    let status = if status.is_success() { StatusCode::NO_CONTENT } else { status };
    Ok(bodiless(status, HeaderMap::new()))
}

async fn fan_out_object(p: &Cluster, obj: &ObjectRef<'_>, method: Method, headers: HeaderMap) -> StatusCode {
    let ring = p.rings.object.current();
    let part = ring.get_part(&p.secret, obj.account, Some(obj.container), Some(obj.object));
    let targets = WriteTargets::new(&ring, part, p);
    let n = targets.replicas();
    let slots = with_container_updates(&headers, &obj.info, n);
    let path = resource_path(obj.account, Some(obj.container), Some(obj.object));
    let replies = fan_out(p, targets, method, (&path, None), slots, bytes::Bytes::new()).await;
    best_status(&statuses(&replies), n)
}
