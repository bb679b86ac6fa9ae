//! Container facts object requests need (existence, ACLs, where it lives), cached briefly
//! (`InfoCache`) so each object request does not HEAD the container.

use super::base::{read_first, ReadOutcome};
use crate::auth::acl::{Acl, ContainerAcl};
use crate::backend::{header_str, resource_path};
use crate::error::{ProxyError, Result};
use crate::info_cache::InfoCache;
use crate::nodes::{read_order, Node};
use crate::server::{Ctx, Proxy};
use http::{HeaderMap, Method};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct ContainerInfo {
    pub acl: ContainerAcl,
    pub partition: u32,
    /// The container's primaries, for object servers' container updates.
    pub nodes: Vec<Node>,
    pub object_count: u64,
    pub bytes_used: u64,
    pub headers: HeaderMap,
}

/// Containers by (account, container); `None` cached means the container does not exist.
pub type ContainerInfoCache = InfoCache<(String, String), Option<Arc<ContainerInfo>>>;

/// The container's info, or `None` when it does not exist.
pub async fn container_info(
    p: &Proxy,
    ctx: &Ctx,
    account: &str,
    container: &str,
) -> Result<Option<Arc<ContainerInfo>>> {
    let key = (account.to_string(), container.to_string());
    if let Some(hit) = p.containers.get(&key) {
        return Ok(hit);
    }
    let ring = p.rings.container.current();
    let part = ring.get_part(&p.secret, account, Some(container), None);
    let primaries: Vec<Node> = read_order(&ring, part, 0, &p.limiter);
    let nodes = read_order(&ring, part, ring.replica_count(), &p.limiter);
    let path = resource_path(account, Some(container), None);
    let headers = super::base::backend_headers(ctx);
    let info = match read_first(p, &nodes, part, Method::HEAD, &path, None, &headers, primaries.len()).await {
        ReadOutcome::Found(resp) if resp.status().is_success() => {
            let h = resp.headers();
            let acl = |name| Acl::parse(header_str(h, name).unwrap_or(""));
            let num = |name| header_str(h, name).and_then(|v| v.parse().ok()).unwrap_or(0);
            Some(Arc::new(ContainerInfo {
                acl: ContainerAcl { read: acl("x-container-read"), write: acl("x-container-write") },
                partition: part,
                nodes: primaries.into_iter().filter(|n| n.primary).collect(),
                object_count: num("x-container-object-count"),
                bytes_used: num("x-container-bytes-used"),
                headers: h.clone(),
            }))
        }
        ReadOutcome::Found(resp) => {
            return Err(ProxyError::ServiceUnavailable(format!("container HEAD answered {}", resp.status())))
        }
        ReadOutcome::NotFound => None,
        ReadOutcome::Unavailable => return Err(ProxyError::ServiceUnavailable("no container server answered".into())),
    };
    p.containers.put(key, info.clone());
    Ok(info)
}
