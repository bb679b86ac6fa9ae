//! `/v1/<account>/<container>`: create, list, change and delete containers.

use super::account::ensure_account;
use super::headers::{apply_removals, copy_headers, user_metadata};
use crate::auth::acl;
use crate::auth::authorize::{authorize, Access};
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::headers::set_static;
use crate::lookups::container::container_info;
use crate::quote::resource_path;
use crate::state::cluster::Cluster;
use crate::storage::backend::{backend_headers, bodiless, passthrough};
use crate::storage::placement::ordered;
use crate::storage::quorum::best_status;
use crate::storage::read::{read_first, ReadOutcome};
use crate::storage::write::{fan_out, statuses, WriteTargets};
use common::constraints::check_metadata;
use common::headers::get;
use common::http::Body;
use common::Timestamp;
use http::request::Parts;
use http::{HeaderMap, Method, Response, StatusCode};

/// Client headers a container keeps.
const KEPT_HEADERS: &[&str] = &[
    "x-container-read",
    "x-container-write",
    "x-versions-location",
    "x-history-location",
    "x-container-sync-to",
    "x-container-sync-key",
];

pub(crate) async fn handle(
    p: &Cluster,
    ctx: &Ctx,
    account: &str,
    container: &str,
    req: &Parts,
) -> Result<Response<Body>> {
    let access = Access::for_container(&req.method);
    let owner = ctx.identity.as_ref().is_some_and(|id| id.owns(account));
    if !owner {
        // Only ACLs can grant a non-owner anything, and they live on the container.
        let acl = match access {
            Access::ListContainer => container_info(p, ctx, account, container).await?.map(|i| i.acl.clone()),
            _ => None,
        };
        authorize(ctx, account, Some(container), access, &acl.unwrap_or_default())?;
    }
    match req.method {
        Method::GET | Method::HEAD => read(p, ctx, account, container, req).await,
        Method::PUT => put(p, ctx, account, container, req).await,
        Method::POST => write(p, ctx, account, container, Method::POST, req).await,
        Method::DELETE => write(p, ctx, account, container, Method::DELETE, req).await,
        _ => Err(ProxyError::MethodNotAllowed),
    }
}

async fn read(p: &Cluster, ctx: &Ctx, account: &str, container: &str, req: &Parts) -> Result<Response<Body>> {
    let ring = p.rings.container.current();
    let part = ring.get_part(&p.secret, account, Some(container), None);
    let nodes = ordered(&ring, part, ring.replica_count(), &p.limiter);
    let mut headers = backend_headers(ctx);
    copy_headers(&req.headers, &mut headers, &[], &["accept", "x-newest"]);
    let path = resource_path(account, Some(container), None);
    let method = req.method.clone();
    match read_first(p, &nodes, part, method, &path, req.uri.query(), &headers, ring.replica_count()).await {
        ReadOutcome::Found(resp) => {
            let mut out = passthrough(resp);
            if out.status().is_success() {
                set_static(out.headers_mut(), "x-storage-policy", POLICY_NAME);
            }
            if !ctx.identity.as_ref().is_some_and(|id| id.owns(account)) {
                // ACLs and sync keys are the owner's business.
                for h in KEPT_HEADERS {
                    out.headers_mut().remove(*h);
                }
            }
            Ok(out)
        }
        ReadOutcome::NotFound => Err(ProxyError::NotFound),
        ReadOutcome::Unavailable => Err(ProxyError::ServiceUnavailable("Container servers unavailable".into())),
    }
}

/// Validates the headers a container PUT/POST stores; the ACLs come back cleaned, as
/// Swift stores them.
fn check_container_headers(headers: &HeaderMap) -> Result<Vec<(&'static str, String)>> {
    check_metadata(user_metadata(headers, "container"))?;
    let mut acls = Vec::new();
    for name in ["x-container-read", "x-container-write"] {
        if headers.contains_key(name) {
            let text = get(headers, name).ok_or_else(|| ProxyError::BadRequest(format!("Invalid {name}")))?;
            acls.push((name, acl::clean(name, text).map_err(|e| ProxyError::BadRequest(e.to_string()))?));
        }
    }
    Ok(acls)
}

fn stored_headers(ctx: &Ctx, client: &HeaderMap, acls: &[(&'static str, String)]) -> HeaderMap {
    let mut headers = backend_headers(ctx);
    set_static(&mut headers, "x-timestamp", &Timestamp::now().internal());
    copy_headers(client, &mut headers, &["x-container-meta-", "x-container-sysmeta-", "x-backend-"], KEPT_HEADERS);
    apply_removals(client, &mut headers, "container-meta");
    for name in KEPT_HEADERS {
        if client.contains_key(format!("x-remove-{}", &name[2..]).as_str()) {
            set_static(&mut headers, name, "");
        }
    }
    for (name, value) in acls {
        set_static(&mut headers, name, value);
    }
    headers
}

/// The one storage policy (Swift's default name); `/info` lists it.
pub(crate) const POLICY_NAME: &str = "Policy-0";

async fn put(p: &Cluster, ctx: &Ctx, account: &str, container: &str, req: &Parts) -> Result<Response<Body>> {
    if let Some(name) = get(&req.headers, "x-storage-policy").map(str::trim).filter(|n| !n.is_empty()) {
        if !name.eq_ignore_ascii_case(POLICY_NAME) {
            return Err(ProxyError::BadRequest(format!("Invalid X-Storage-Policy '{name}'")));
        }
    }
    ensure_account(p, ctx, account).await?;
    write(p, ctx, account, container, Method::PUT, req).await
}

/// Per-replica headers: each container replica reports its stats to one account replica,
/// spread as Swift spreads them.
fn with_account_updates(p: &Cluster, account: &str, base: HeaderMap, replicas: usize) -> Vec<HeaderMap> {
    let account_ring = p.rings.account.current();
    let (account_part, account_nodes) = account_ring.get_nodes(&p.secret, account, None, None);
    (0..replicas)
        .map(|i| {
            let mut h = base.clone();
            if let Some(dev) = account_nodes.get(i % account_nodes.len().max(1)) {
                set_static(&mut h, "x-account-host", &format!("{}:{}", dev.ip, dev.port));
                set_static(&mut h, "x-account-device", &dev.device);
                set_static(&mut h, "x-account-partition", &account_part.to_string());
            }
            h
        })
        .collect()
}

async fn write(
    p: &Cluster,
    ctx: &Ctx,
    account: &str,
    container: &str,
    method: Method,
    req: &Parts,
) -> Result<Response<Body>> {
    let acls = if method == Method::DELETE { Vec::new() } else { check_container_headers(&req.headers)? };
    let headers = stored_headers(ctx, &req.headers, &acls);
    let ring = p.rings.container.current();
    let part = ring.get_part(&p.secret, account, Some(container), None);
    let targets = WriteTargets::new(&ring, part, p);
    let n = targets.replicas();
    let slots = if method == Method::POST { vec![headers; n] } else { with_account_updates(p, account, headers, n) };
    let path = resource_path(account, Some(container), None);
    let replies = fan_out(p, targets, method.clone(), (&path, None), slots, bytes::Bytes::new()).await;
    p.containers.invalidate(&(account.to_string(), container.to_string()));
    let status = best_status(&statuses(&replies), n);
    let status = if status == StatusCode::OK && method != Method::PUT { StatusCode::NO_CONTENT } else { status };
    Ok(bodiless(status, HeaderMap::new()))
}
