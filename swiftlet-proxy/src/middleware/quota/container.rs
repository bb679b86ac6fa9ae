//! Container quotas (Swift's `container_quotas`): `X-Container-Meta-Quota-Bytes` and
//! `X-Container-Meta-Quota-Count` cap what object PUTs (and copies, which reach this
//! middleware as PUTs from `copy`) may add to a container. The account side lives in
//! `quota_account.rs`; both answer an upload over quota with Swift's 413.
//!
//! As in Swift the check uses the request's `Content-Length` (0 for a chunked upload, so
//! such an upload is refused only once the container is already full), and the 413 is
//! given only to a client that could have written the object at all: others get their
//! 401/403, so a quota does not reveal that a container exists.

use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::lookups::container::container_info;
use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use crate::route::Route;
use crate::state::info::ContainerInfo;
use common::headers::get;
use http::{HeaderMap, Method};
use serde_json::Value;
use std::sync::Arc;

use super::refusal::{content_length, refusal};
pub(crate) struct ContainerQuotas;

impl Step for ContainerQuotas {
    fn name(&self) -> &'static str {
        "container_quotas"
    }

    /// Listed with no settings, as Swift lists it.
    fn info(&self) -> Option<Value> {
        Some(Value::Object(serde_json::Map::new()))
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            match &req.route {
                Route::Container { .. } if matches!(*req.method(), Method::PUT | Method::POST) => {
                    check_new_quotas(req.headers())?;
                    next.run(req).await
                }
                Route::Object { account, container, .. } if req.method() == Method::PUT => {
                    check_upload(&next, &req.ctx, account, container, content_length(req.headers())).await?;
                    next.run(req).await
                }
                _ => next.run(req).await,
            }
        })
    }
}

/// Quota values a container PUT/POST sets must be whole numbers (empty removes one).
fn check_new_quotas(h: &HeaderMap) -> Result<()> {
    for (name, what) in [("x-container-meta-quota-bytes", "bytes"), ("x-container-meta-quota-count", "count")] {
        match h.get(name).map(|v| v.as_bytes()) {
            Some(v) if !v.is_empty() && !v.iter().all(u8::is_ascii_digit) => {
                return Err(ProxyError::BadRequest(format!("Invalid {what} quota.")));
            }
            Some(_) | None => {}
        }
    }
    Ok(())
}

/// A stored container quota: only all-digit values count (as Swift's `isdigit`); a value
/// too big for `u64` is a quota nobody reaches.
fn digits(h: &HeaderMap, name: &str) -> Option<u64> {
    let v = get(h, name)?;
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then(|| v.parse().unwrap_or(u64::MAX))
}

fn has_quota(info: &ContainerInfo) -> bool {
    digits(&info.headers, "x-container-meta-quota-bytes").is_some()
        || digits(&info.headers, "x-container-meta-quota-count").is_some()
}

fn over_quota(info: &ContainerInfo, length: u64) -> bool {
    let bytes = digits(&info.headers, "x-container-meta-quota-bytes")
        .is_some_and(|q| q < info.bytes_used.saturating_add(length));
    let count =
        digits(&info.headers, "x-container-meta-quota-count").is_some_and(|q| q < info.object_count.saturating_add(1));
    bytes || count
}

/// Refuses an upload of `length` bytes that would take the container past a quota. A
/// container this proxy cannot read passes: the PUT itself will answer for it.
async fn check_upload(next: &Next, ctx: &Ctx, account: &str, container: &str, length: u64) -> Result<()> {
    let p = next.cluster();
    let lookup = || async { container_info(p, ctx, account, container).await.ok().flatten() };
    let Some(info) = lookup().await.filter(|i| has_quota(i)) else { return Ok(()) };
    // The cached stats can predate this proxy's own recent uploads; a container with a
    // quota is worth one fresh HEAD per upload so that back-to-back PUTs are counted.
    p.containers.invalidate(&(account.to_string(), container.to_string()));
    let info: Arc<ContainerInfo> = lookup().await.unwrap_or(info);
    if over_quota(&info, length) {
        return Err(refusal(ctx, account, container, &info.acl));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::headers::set;

    fn info(meta: &[(&str, &str)], bytes: u64, count: u64) -> ContainerInfo {
        let mut headers = HeaderMap::new();
        for (n, v) in meta {
            set(&mut headers, n, v);
        }
        ContainerInfo {
            acl: crate::auth::acl::ContainerAcl::default(),
            partition: 0,
            nodes: Vec::new(),
            object_count: count,
            bytes_used: bytes,
            headers,
        }
    }

    #[test]
    fn new_quota_values_must_be_digits() {
        let mut h = HeaderMap::new();
        set(&mut h, "x-container-meta-quota-bytes", "100");
        assert!(check_new_quotas(&h).is_ok());
        set(&mut h, "x-container-meta-quota-bytes", "");
        assert!(check_new_quotas(&h).is_ok());
        set(&mut h, "x-container-meta-quota-bytes", "-1");
        assert_eq!(check_new_quotas(&h).unwrap_err().to_string(), "Invalid bytes quota.");
        set(&mut h, "x-container-meta-quota-bytes", "1");
        set(&mut h, "x-container-meta-quota-count", "abc");
        assert_eq!(check_new_quotas(&h).unwrap_err().to_string(), "Invalid count quota.");
    }

    #[test]
    fn limits_are_inclusive() {
        let i = info(&[("x-container-meta-quota-bytes", "10")], 4, 1);
        assert!(!over_quota(&i, 6));
        assert!(over_quota(&i, 7));
        let i = info(&[("x-container-meta-quota-count", "2")], 0, 1);
        assert!(!over_quota(&i, 0));
        assert!(over_quota(&info(&[("x-container-meta-quota-count", "2")], 0, 2), 0));
        // Values that are not whole numbers set no quota.
        let i = info(&[("x-container-meta-quota-bytes", "x"), ("x-container-meta-quota-count", "")], 100, 100);
        assert!(!has_quota(&i) && !over_quota(&i, 1));
        let huge = info(&[("x-container-meta-quota-bytes", "99999999999999999999999")], u64::MAX - 1, 0);
        assert!(!over_quota(&huge, 0));
    }
}
