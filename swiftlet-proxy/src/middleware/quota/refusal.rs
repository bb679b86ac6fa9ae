//! What both quotas share: the declared length of an upload, and the answer to one over
//! quota.

use crate::auth::acl::ContainerAcl;
use crate::auth::authorize::{authorize, Access};
use crate::context::Ctx;
use crate::error::ProxyError;
use http::HeaderMap;

/// Swift's body for every upload refused by a quota.
pub(crate) const OVER_QUOTA: &str = "Upload exceeds quota.";

/// The declared body length of a request; 0 when it is chunked or absent.
pub(crate) fn content_length(h: &HeaderMap) -> u64 {
    common::headers::get(h, "content-length").and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// The answer to an upload over quota: the client's own 401/403 if it could not write
/// here anyway, else Swift's 413.
pub(crate) fn refusal(ctx: &Ctx, account: &str, container: &str, acl: &ContainerAcl) -> ProxyError {
    match authorize(ctx, account, Some(container), Access::WriteObject, acl) {
        Err(e) => e,
        Ok(()) => ProxyError::EntityTooLarge(OVER_QUOTA.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_respects_authorization() {
        let anonymous = Ctx::default();
        assert!(matches!(refusal(&anonymous, "AUTH_t", "c", &ContainerAcl::default()), ProxyError::Unauthorized));
        let owner = Ctx::new(
            "tx",
            Some(crate::auth::identity::Identity {
                account: "t".into(),
                user: "u".into(),
                admin: true,
                reseller_admin: false,
                storage_account: "AUTH_t".into(),
            }),
        );
        let e = refusal(&owner, "AUTH_t", "c", &ContainerAcl::default());
        assert!(matches!(e, ProxyError::EntityTooLarge(ref m) if m == OVER_QUOTA));
    }
}
