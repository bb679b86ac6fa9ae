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
    /// PUT/POST/DELETE of an object (a COPY's destination is one).
    WriteObject,
    /// GET/HEAD of an account: its owner's, readers included.
    ReadAccount,
    /// Changing an account, or creating, changing or deleting a container.
    Owner,
}

impl Access {
    pub(crate) fn for_object(method: &Method) -> Access {
        if reads(method) {
            Access::ReadObject
        } else {
            Access::WriteObject
        }
    }

    pub(crate) fn for_container(method: &Method) -> Access {
        if reads(method) {
            Access::ListContainer
        } else {
            Access::Owner
        }
    }

    pub(crate) fn for_account(method: &Method) -> Access {
        if reads(method) {
            Access::ReadAccount
        } else {
            Access::Owner
        }
    }

    fn writes(self) -> bool {
        matches!(self, Access::WriteObject | Access::Owner)
    }
}

fn reads(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Decides whether the request's identity may do `access` in `account` (and `container`)
/// given the container's ACLs. No identity and no ACL grant: 401; an identity without a
/// grant: 403. A request a TempURL authorized may do anything inside the TempURL's scope
/// (its account, or its container) and nothing outside it. A read-only owner (a Keystone
/// reader) reads its account and writes nothing there, whichever step made the request.
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
    if let Some(id) = who.filter(|id| id.owns(account)) {
        return if id.read_only && access.writes() { Err(ProxyError::Forbidden) } else { Ok(()) };
    }
    // No groups for an anonymous caller: a `*` ACL names every authenticated identity.
    let groups = who.map(|id| id.groups()).unwrap_or_default();
    // Referrer designations grant reads (listings only with `.rlistings`) to anyone whose
    // request carries a matching Referer, as Swift's tempauth does.
    let by_referrer = acl.read.referrer_allowed(ctx.referer.as_deref());
    let granted = match access {
        Access::ReadObject => by_referrer || acl.read.allows_groups(&groups),
        Access::ListContainer => (by_referrer && acl.read.listings()) || acl.read.allows_groups(&groups),
        Access::WriteObject => acl.write.allows_groups(&groups),
        Access::ReadAccount | Access::Owner => false,
    };
    match (granted, who) {
        (true, _) => Ok(()),
        (false, None) => Err(ProxyError::Unauthorized),
        (false, Some(_)) => Err(ProxyError::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::acl::Acl;
    use crate::auth::identity::Identity;

    fn ctx(identity: Option<Identity>) -> Ctx {
        Ctx::new("tx", identity)
    }

    fn user(account: &str, admin: bool, read_only: bool) -> Identity {
        Identity {
            account: account.into(),
            user: "u".into(),
            admin,
            reseller_admin: false,
            storage_account: format!("AUTH_{account}"),
            reseller_prefix: "AUTH_".into(),
            read_only,
        }
    }

    #[test]
    fn star_acls_grant_authenticated_identities_only() {
        let acl = ContainerAcl { read: Acl::parse("*"), write: Acl::parse("*") };
        for access in [Access::ReadObject, Access::ListContainer, Access::WriteObject] {
            let anonymous = authorize(&ctx(None), "AUTH_a", Some("c"), access, &acl);
            assert!(matches!(anonymous, Err(ProxyError::Unauthorized)), "{access:?}");
            assert!(authorize(&ctx(Some(user("b", false, false))), "AUTH_a", Some("c"), access, &acl).is_ok());
        }
        let public = ContainerAcl { read: Acl::parse(".r:*,.rlistings"), ..ContainerAcl::default() };
        assert!(authorize(&ctx(None), "AUTH_a", Some("c"), Access::ReadObject, &public).is_ok(), ".r:* is public");
    }

    #[test]
    fn readers_read_their_account_and_write_nothing_there() {
        let reader = ctx(Some(user("a", true, true)));
        let none = ContainerAcl::default();
        for access in [Access::ReadObject, Access::ListContainer, Access::ReadAccount] {
            assert!(authorize(&reader, "AUTH_a", Some("c"), access, &none).is_ok(), "{access:?}");
        }
        for access in [Access::WriteObject, Access::Owner] {
            let got = authorize(&reader, "AUTH_a", Some("c"), access, &none);
            assert!(matches!(got, Err(ProxyError::Forbidden)), "{access:?}");
        }
        let owner = ctx(Some(user("a", true, false)));
        assert!(authorize(&owner, "AUTH_a", Some("c"), Access::WriteObject, &none).is_ok());
        let got = authorize(&owner, "OTHER_a", Some("c"), Access::ReadAccount, &none);
        assert!(matches!(got, Err(ProxyError::Forbidden)), "outside its reseller prefix");
    }
}
