//! Container facts requests need (existence, ACLs, where it lives), cached briefly in the
//! cluster's container cache so each object request does not HEAD the container.

use crate::auth::acl::{Acl, ContainerAcl};
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::quote::resource_path;
use crate::state::cluster::Cluster;
use crate::state::info::ContainerInfo;
use crate::state::node::Node;
use crate::storage::backend::backend_headers;
use crate::storage::placement::ordered;
use crate::storage::read::{read_first, ReadOutcome};
use common::headers::get;
use http::Method;
use std::sync::Arc;

/// The container's info, or `None` when it does not exist.
pub(crate) async fn container_info(
    p: &Cluster,
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
    let primaries: Vec<Node> = ordered(&ring, part, 0, &p.limiter);
    let nodes = ordered(&ring, part, ring.replica_count(), &p.limiter);
    let path = resource_path(account, Some(container), None);
    let headers = backend_headers(ctx);
    let info = match read_first(p, &nodes, part, Method::HEAD, &path, None, &headers, primaries.len()).await {
        ReadOutcome::Found(resp) if resp.status().is_success() => {
            let h = resp.headers();
            let acl = |name| Acl::parse(get(h, name).unwrap_or(""));
            let num = |name| get(h, name).and_then(|v| v.parse().ok()).unwrap_or(0);
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
