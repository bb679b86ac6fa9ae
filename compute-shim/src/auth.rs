//! Who is calling: every service checks `X-Auth-Token` locally (signature and expiry, with
//! the key derived from the cluster secret) and against the identity service's revocation
//! events (revoked tokens, disabled or deleted users, removed roles, disabled projects).

use crate::error::{Result, ShimError};
use http::HeaderMap;
use swiftlet_token::{KeystoneTokens, Revocations, TokenClaims};

#[derive(Clone)]
pub struct Validator {
    pub tokens: KeystoneTokens,
    pub revoked: Revocations,
}

/// A caller whose token checked out.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: TokenClaims,
    pub token: String,
}

impl Caller {
    /// Keystone's default policy: the `admin` role is the cloud admin.
    pub fn is_admin(&self) -> bool {
        self.claims.pid.is_some() && self.claims.has_role("admin")
    }

    /// The project a scoped token names; services other than identity need one.
    pub fn project_id(&self) -> Result<&str> {
        self.claims.pid.as_deref().ok_or_else(|| ShimError::Forbidden("A project-scoped token is required.".into()))
    }
}

impl Validator {
    pub fn check(&self, token: &str) -> Result<TokenClaims> {
        let claims = self.tokens.verify(token, crate::web::now_secs()).ok_or(ShimError::Unauthorized)?;
        if self.revoked.is_revoked(&claims) {
            return Err(ShimError::Unauthorized);
        }
        Ok(claims)
    }

    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller> {
        let token = crate::web::header(headers, "x-auth-token").ok_or(ShimError::Unauthorized)?;
        Ok(Caller { claims: self.check(token)?, token: token.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swiftlet_token::RevocationEvent;

    #[test]
    fn revoked_tokens_fail() {
        let v = Validator { tokens: KeystoneTokens::from_key([7; 32]), revoked: Revocations::default() };
        let claims = TokenClaims {
            id: "abc".into(),
            iat: 0,
            exp: u64::MAX,
            uid: "u".into(),
            uname: "n".into(),
            pid: Some("p".into()),
            pname: None,
            roles: vec!["admin".into()],
            methods: vec![],
        };
        let tok = v.tokens.issue(&claims);
        let mut h = HeaderMap::new();
        h.insert("x-auth-token", tok.parse().unwrap());
        assert!(v.caller(&h).unwrap().is_admin());
        v.revoked.insert(RevocationEvent::token("abc", "u", u64::MAX, 0), 0);
        assert!(matches!(v.caller(&h), Err(ShimError::Unauthorized)));
        assert!(matches!(v.caller(&HeaderMap::new()), Err(ShimError::Unauthorized)));
    }
}
