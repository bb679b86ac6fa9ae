//! The account and container facts requests need (existence, metadata, ACLs, where a
//! container lives), as the info caches keep them. `lookups` fills them.

use super::info_cache::InfoCache;
use super::node::Node;
use crate::auth::acl::ContainerAcl;
use http::HeaderMap;
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
pub(crate) type ContainerInfoCache = InfoCache<(String, String), Option<Arc<ContainerInfo>>>;

/// Accounts' headers by name; `None` cached means the account does not exist yet.
pub(crate) type AccountInfoCache = InfoCache<String, Option<Arc<HeaderMap>>>;
