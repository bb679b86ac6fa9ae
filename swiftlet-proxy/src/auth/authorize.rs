//! Authorization: may the request's identity (or its TempURL) do this here.

use super::acl::ContainerAcl;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use http::Method;

/// What a request wants to do, for the permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// GET/HEAD of an object.
    ReadObject,
    /// GET/HEAD of a container listing.
    ListContainer,
    /// PUT/POST/DELETE of an object.
    WriteObject,
    /// Anything on an account, or creating, changing or deleting a container.
    Owner,
}

impl Access {
    pub(crate) fn for_object(method: &Method) -> Access {
        if method == Method::GET || method == Method::HEAD {
            Access::ReadObject
        } else {
            Access::WriteObject
        }
    }

    pub(crate) fn for_container(method: &Method) -> Access {
        if method == Method::GET || method == Method::HEAD {
            Access::ListContainer
        } else {
            Access::Owner
        }
    }
}

/// Decides whether the request's identity may do `access` in `account` (and `container`)
/// given the container's ACLs. No identity and no ACL grant: 401; an identity without a
/// grant: 403. A request a TempURL authorized may do anything inside the TempURL's scope
/// (its account, or its container) and nothing outside it.
pub(crate) fn authorize(
    ctx: &Ctx,
    account: &str,
    container: Option<&str>,
    access: Access,
    acl: &ContainerAcl,
) -> Result<()> {
    if let Some(scope) = &ctx.temp_url {
        let inside = scope.account == account && scope.container.as_deref().is_none_or(|c| container == Some(c));
        return if inside { Ok(()) } else { Err(ProxyError::Unauthorized) };
    }
    let who = ctx.identity.as_ref();
    if who.is_some_and(|id| id.owns(account)) {
        return Ok(());
    }
    let groups = who.map(|id| id.groups()).unwrap_or_default();
    // Referrer designations grant reads (listings only with `.rlistings`) to anyone whose
    // request carries a matching Referer, as Swift's tempauth does.
    let by_referrer = acl.read.referrer_allowed(ctx.referer.as_deref());
    let granted = match access {
        Access::ReadObject => by_referrer || acl.read.allows_groups(&groups),
        Access::ListContainer => (by_referrer && acl.read.listings()) || acl.read.allows_groups(&groups),
        Access::WriteObject => acl.write.allows_groups(&groups),
        Access::Owner => false,
    };
    match (granted, who) {
        (true, _) => Ok(()),
        (false, None) => Err(ProxyError::Unauthorized),
        (false, Some(_)) => Err(ProxyError::Forbidden),
    }
}
