//! The authenticate step: the identity behind the request's token (Keystone's or
//! tempauth's) goes into its context, with the `Referer` referrer ACLs look at. No token is
//! an anonymous request; a token that does not validate is a 401.

use crate::auth::identity::Identity;
use crate::auth::keystone::{authenticate, Verdict};
use crate::auth::tempauth::TempAuth;
use crate::error::{ProxyError, Result};
use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use std::sync::Arc;
use swiftlet_token::KeystoneTokens;

pub(crate) struct Authenticate {
    pub auth: Arc<TempAuth>,
    /// Keystone tokens' key, from the cluster's token key (as the identity service's).
    pub keystone: KeystoneTokens,
    /// The identity service's revocations (the cluster's handle, kept current by a poller).
    pub revoked: swiftlet_token::Revocations,
}

impl Step for Authenticate {
    fn name(&self) -> &'static str {
        "authenticate"
    }

    fn call<'a>(&'a self, mut req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            req.ctx.identity = self.identity(&req)?;
            req.ctx.referer = common::headers::get(req.headers(), "referer").map(str::to_string);
            next.run(req).await
        })
    }
}

impl Authenticate {
    fn identity(&self, req: &ProxyRequest) -> Result<Option<Identity>> {
        let h = req.headers();
        let Some(token) = h.get("x-auth-token").or_else(|| h.get("x-storage-token")) else { return Ok(None) };
        let token = token.to_str().map_err(|_| ProxyError::Unauthorized)?;
        match authenticate(&self.keystone, &self.revoked, self.auth.reseller_prefix(), token, req.method(), req.path())
        {
            Verdict::NotKeystone => {}
            Verdict::Valid(id) => return Ok(Some(id)),
            Verdict::Invalid => return Err(ProxyError::Unauthorized),
            Verdict::ReadOnly => return Err(ProxyError::Forbidden),
        }
        self.auth.validate(token).map(Some).ok_or(ProxyError::Unauthorized)
    }
}
