//! An account's headers (metadata, counts, quotas, TempURL keys), cached briefly in the
//! cluster's account cache.

use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::quote::resource_path;
use crate::state::cluster::Cluster;
use crate::storage::backend::backend_headers;
use crate::storage::placement::ordered;
use crate::storage::read::{read_first, ReadOutcome};
use http::{HeaderMap, Method};
use std::sync::Arc;

/// The account's headers (metadata, counts), or `None` when it does not exist yet, cached
/// for `account_info_ttl`. For middlewares (TempURL keys, quotas, ACLs); no authorization
/// is checked here.
pub(crate) async fn account_info(p: &Cluster, ctx: &Ctx, account: &str) -> Result<Option<Arc<HeaderMap>>> {
    if let Some(hit) = p.accounts.get(account) {
        return Ok(hit);
    }
    let ring = p.rings.account.current();
    let part = ring.get_part(&p.secret, account, None, None);
    let nodes = ordered(&ring, part, ring.replica_count(), &p.limiter);
    let path = resource_path(account, None, None);
    let info = match read_first(p, &nodes, part, Method::HEAD, &path, None, &backend_headers(ctx), ring.replica_count())
        .await
    {
        ReadOutcome::Found(resp) if resp.status().is_success() => Some(Arc::new(resp.headers().clone())),
        // Neither there nor known missing: not worth remembering.
        ReadOutcome::Found(_) => return Ok(None),
        ReadOutcome::NotFound => None,
        ReadOutcome::Unavailable => return Err(ProxyError::ServiceUnavailable("Account servers unavailable".into())),
    };
    p.accounts.put(account.to_string(), info.clone());
    Ok(info)
}
