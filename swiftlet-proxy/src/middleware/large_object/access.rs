//! Whether a client may write in a container, asked before its body is read: a request
//! that may not write there costs a container lookup, never a buffered body.

use crate::auth::authorize::{authorize, Access};
use crate::context::Ctx;
use crate::error::Result;
use crate::lookups::container::container_info;
use crate::state::cluster::Cluster;

/// Ok when the request's identity (or TempURL) may write objects in `container`; the
/// same 401/403 the object controller would answer otherwise. A missing container is
/// left to the controller (its 404 comes after the same check).
pub(crate) async fn may_write(p: &Cluster, ctx: &Ctx, account: &str, container: &str) -> Result<()> {
    let info = container_info(p, ctx, account, container).await?;
    let acl = info.map(|i| i.acl.clone()).unwrap_or_default();
    authorize(ctx, account, Some(container), Access::WriteObject, &acl)
}
