//! Keystone tokens in the proxy: the format (`swiftlet_token`) is shared with the identity
//! service; here a token's claims become a proxy identity, like Swift's keystoneauth
//! middleware but validated locally.
//!
//! Members of project P own `AUTH_<P>`: the roles `admin` and `member` are operators (read
//! and write), `reader` reads only, as Swift's `operator_roles` and reader roles;
//! `ResellerAdmin` owns every account.

use super::identity::Identity;
use http::Method;
use swiftlet_token::{is_keystone_token, KeystoneTokens, TokenClaims};

pub(crate) const OPERATOR_ROLES: &[&str] = &["admin", "member"];
pub(crate) const READER_ROLES: &[&str] = &["reader"];
pub(crate) const RESELLER_ADMIN_ROLE: &str = "ResellerAdmin";

/// The proxy identity of a project-scoped token, and whether it may only read its account.
/// Groups for ACLs are `<project name>`, `<project name>:<user name>` and `AUTH_<project id>`.
pub(crate) fn identity(claims: &TokenClaims, reseller_prefix: &str) -> Option<(Identity, bool)> {
    let pid = claims.pid.as_deref()?;
    let operator = OPERATOR_ROLES.iter().any(|r| claims.has_role(r));
    let reader = READER_ROLES.iter().any(|r| claims.has_role(r));
    let id = Identity {
        account: claims.pname.clone().unwrap_or_else(|| pid.to_string()),
        user: claims.uname.clone(),
        admin: operator || reader,
        reseller_admin: claims.has_role(RESELLER_ADMIN_ROLE),
        storage_account: format!("{reseller_prefix}{pid}"),
        reseller_prefix: reseller_prefix.to_string(),
        read_only: reader && !operator,
    };
    Some((id, reader && !operator))
}

/// What the proxy makes of a request's token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not a Keystone token: let tempauth try it.
    NotKeystone,
    /// Forged, expired or unscoped: 401.
    Invalid,
    /// A read-only identity writing to its own account: 403.
    ReadOnly,
    Valid(Identity),
}

/// Authenticates a Keystone token for a request. A reader owns its account for reading
/// only, so its writes there are refused here (and, for what steps make of the request,
/// such as a COPY's destination, by `authorize`).
pub(crate) fn authenticate(
    tokens: &KeystoneTokens,
    revoked: &swiftlet_token::Revocations,
    reseller_prefix: &str,
    token: &str,
    method: &Method,
    raw_path: &str,
) -> Verdict {
    if !is_keystone_token(token) {
        return Verdict::NotKeystone;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let Some(claims) = tokens.verify(token, now) else { return Verdict::Invalid };
    if revoked.is_revoked(&claims) {
        return Verdict::Invalid;
    }
    let Some((id, read_only)) = identity(&claims, reseller_prefix) else { return Verdict::Invalid };
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS].contains(method);
    if read_only && !reads && request_account(raw_path).as_deref() == Some(id.storage_account.as_str()) {
        return Verdict::ReadOnly;
    }
    Verdict::Valid(id)
}

/// The account a `/v1/<account>/...` path names, decoded so an escaped name cannot slip by.
fn request_account(raw_path: &str) -> Option<String> {
    let path = common::path::decode(raw_path).ok()?;
    let mut parts = path.strip_prefix('/')?.split('/');
    parts.next()?;
    parts.next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str]) -> TokenClaims {
        TokenClaims {
            id: "t1".into(),
            iat: 100,
            exp: u64::MAX,
            uid: "u1".into(),
            uname: "demo".into(),
            pid: Some("p1".into()),
            pname: Some("demo".into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            methods: vec!["password".into()],
        }
    }

    #[test]
    fn roles_map_to_operator_and_reader() {
        let (id, ro) = identity(&claims(&["member"]), "AUTH_").unwrap();
        assert!(id.owns("AUTH_p1") && !id.owns("AUTH_p2") && !ro);
        assert!(id.groups().contains(&"demo:demo".to_string()));
        let (id, ro) = identity(&claims(&["reader"]), "AUTH_").unwrap();
        assert!(id.owns("AUTH_p1") && ro);
        let (id, _) = identity(&claims(&["other"]), "AUTH_").unwrap();
        assert!(!id.owns("AUTH_p1"));
        assert!(identity(&claims(&["ResellerAdmin"]), "AUTH_").unwrap().0.owns("AUTH_x"));
        assert!(!identity(&claims(&["ResellerAdmin"]), "AUTH_").unwrap().0.owns("OTHER_x"), "outside its prefix");
        let (reader, _) = identity(&claims(&["reader"]), "AUTH_").unwrap();
        assert!(reader.read_only && !reader.is_owner("AUTH_p1"), "a reader is not shown the owner's headers");
        assert!(identity(&TokenClaims { pid: None, ..claims(&["admin"]) }, "AUTH_").is_none());
    }

    #[test]
    fn readers_cannot_write_their_account() {
        let s = KeystoneTokens::new(&swiftlet_token::TokenKey::generate());
        let reader = s.issue(&claims(&["reader"]));
        let none = swiftlet_token::Revocations::default();
        let auth = |m: Method, p: &str| authenticate(&s, &none, "AUTH_", &reader, &m, p);
        assert!(matches!(auth(Method::GET, "/v1/AUTH_p1/c/o"), Verdict::Valid(_)));
        assert_eq!(auth(Method::PUT, "/v1/AUTH_p1/c/o"), Verdict::ReadOnly);
        assert_eq!(auth(Method::PUT, "/v1/AUTH%5Fp1/c"), Verdict::ReadOnly);
        assert!(matches!(auth(Method::PUT, "/v1/AUTH_p2/c/o"), Verdict::Valid(_)), "other accounts: their ACLs");
        assert_eq!(authenticate(&s, &none, "AUTH_", "AUTH_tkx", &Method::GET, "/v1/a"), Verdict::NotKeystone);
        assert_eq!(authenticate(&s, &none, "AUTH_", "KS1bad.sig", &Method::GET, "/v1/a"), Verdict::Invalid);
    }

    #[test]
    fn revoked_tokens_are_invalid() {
        let s = KeystoneTokens::new(&swiftlet_token::TokenKey::generate());
        let member = claims(&["member"]);
        let token = s.issue(&member);
        let revoked = swiftlet_token::Revocations::default();
        let auth = || authenticate(&s, &revoked, "AUTH_", &token, &Method::GET, "/v1/AUTH_p1");
        assert!(matches!(auth(), Verdict::Valid(_)));
        let event = swiftlet_token::RevocationEvent::token(&member.id, &member.uid, member.exp, member.iat + 1);
        revoked.insert(event, member.iat + 1);
        assert_eq!(auth(), Verdict::Invalid, "revoked: 401 from the next request on");
    }
}
