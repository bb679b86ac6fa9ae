//! Keystone tokens: the format the identity service (`compute-shim`) issues and the proxy
//! accepts, like Swift's keystoneauth middleware but validated locally.
//!
//! A token is `KS1` + base64url(JSON claims) + `.` + base64url(HMAC-SHA256(claims)). The
//! signing key is derived from the cluster's hash-path secret, so the proxy and the identity
//! service share it without a token database. Members of project P own `AUTH_<P>`: the roles
//! `admin` and `member` are operators (read and write), `reader` reads only, as Swift's
//! `operator_roles` and reader roles; `ResellerAdmin` owns every account.

use super::Identity;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::HashPathSecret;
use hmac::{Hmac, Mac};
use http::Method;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const TOKEN_PREFIX: &str = "KS1";
/// Refuse absurd header values before doing any crypto on them.
const MAX_TOKEN_LEN: usize = 4096;
pub const OPERATOR_ROLES: &[&str] = &["admin", "member"];
pub const READER_ROLES: &[&str] = &["reader"];
pub const RESELLER_ADMIN_ROLE: &str = "ResellerAdmin";

/// What a token says about its bearer. Short field names keep tokens compact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Random id: names the token for revocation and is its audit id.
    pub id: String,
    /// Issued at and expires at, unix seconds.
    pub iat: u64,
    pub exp: u64,
    pub uid: String,
    pub uname: String,
    /// The project the token is scoped to; `None` for an unscoped token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pname: Option<String>,
    /// Role names the user has on the project.
    #[serde(default)]
    pub roles: Vec<String>,
    /// How the user authenticated (`password`, `token`).
    #[serde(default)]
    pub methods: Vec<String>,
}

impl TokenClaims {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }
}

/// Signs and verifies tokens with the key derived from the cluster secret.
#[derive(Clone)]
pub struct KeystoneTokens {
    key: [u8; 32],
}

impl KeystoneTokens {
    pub fn new(secret: &HashPathSecret) -> Self {
        KeystoneTokens { key: signing_key(secret) }
    }

    pub fn from_key(key: [u8; 32]) -> Self {
        KeystoneTokens { key }
    }

    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    pub fn issue(&self, claims: &TokenClaims) -> String {
        // Serializing a struct of strings and integers cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        format!("{TOKEN_PREFIX}{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(self.mac(&payload)))
    }

    /// The claims of a genuine token that has not expired at `now` (unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Option<TokenClaims> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let (payload_b64, sig_b64) = token.strip_prefix(TOKEN_PREFIX)?.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.key).ok()?;
        mac.update(&payload);
        mac.verify_slice(&sig).ok()?;
        let claims: TokenClaims = serde_json::from_slice(&payload).ok()?;
        (claims.exp > now).then_some(claims)
    }

    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }
}

/// The token signing key: HMAC of the hash-path secret under a fixed label, so the key
/// is never the placement secret itself.
pub fn signing_key(secret: &HashPathSecret) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(b"swiftlet-keystone-tokens-v1").expect("HMAC takes any key length");
    mac.update(secret.prefix.as_bytes());
    mac.update(b"\0");
    mac.update(secret.suffix.as_bytes());
    mac.finalize().into_bytes().into()
}

pub fn is_keystone_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

/// The proxy identity of a project-scoped token, and whether it may only read its account.
/// Groups for ACLs are `<project name>`, `<project name>:<user name>` and `AUTH_<project id>`.
pub fn identity(claims: &TokenClaims, reseller_prefix: &str) -> Option<(Identity, bool)> {
    let pid = claims.pid.as_deref()?;
    let operator = OPERATOR_ROLES.iter().any(|r| claims.has_role(r));
    let reader = READER_ROLES.iter().any(|r| claims.has_role(r));
    let id = Identity {
        account: claims.pname.clone().unwrap_or_else(|| pid.to_string()),
        user: claims.uname.clone(),
        admin: operator || reader,
        reseller_admin: claims.has_role(RESELLER_ADMIN_ROLE),
        storage_account: format!("{reseller_prefix}{pid}"),
    };
    Some((id, reader && !operator))
}

/// What the proxy makes of a request's token.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not a Keystone token: let tempauth try it.
    NotKeystone,
    /// Forged, expired or unscoped: 401.
    Invalid,
    /// A read-only identity writing to its own account: 403.
    ReadOnly,
    Valid(Identity),
}

/// Authenticates a Keystone token for a request. A reader owns its account for reading
/// only, so its writes there are refused here.
pub fn authenticate(
    secret: &HashPathSecret,
    reseller_prefix: &str,
    token: &str,
    method: &Method,
    raw_path: &str,
) -> Verdict {
    if !is_keystone_token(token) {
        return Verdict::NotKeystone;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let Some(claims) = KeystoneTokens::new(secret).verify(token, now) else { return Verdict::Invalid };
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
    fn issue_verify_and_tamper() {
        let s = HashPathSecret::new("a", "b");
        let t = KeystoneTokens::new(&s);
        let tok = t.issue(&claims(&["member"]));
        assert_eq!(t.verify(&tok, 0).unwrap().uid, "u1");
        assert!(KeystoneTokens::new(&HashPathSecret::new("a", "c")).verify(&tok, 0).is_none());
        let (p, sig) = tok.strip_prefix(TOKEN_PREFIX).unwrap().split_once('.').unwrap();
        let forged = String::from_utf8(URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap().replace("member", "admin");
        assert!(t.verify(&format!("{TOKEN_PREFIX}{}.{sig}", URL_SAFE_NO_PAD.encode(forged)), 0).is_none());
        let expired = t.issue(&TokenClaims { exp: 50, ..claims(&["member"]) });
        assert!(t.verify(&expired, 50).is_none() && t.verify(&expired, 49).is_some());
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
        assert!(identity(&TokenClaims { pid: None, ..claims(&["admin"]) }, "AUTH_").is_none());
    }

    #[test]
    fn readers_cannot_write_their_account() {
        let s = HashPathSecret::new("a", "b");
        let reader = KeystoneTokens::new(&s).issue(&claims(&["reader"]));
        let auth = |m: Method, p: &str| authenticate(&s, "AUTH_", &reader, &m, p);
        assert!(matches!(auth(Method::GET, "/v1/AUTH_p1/c/o"), Verdict::Valid(_)));
        assert_eq!(auth(Method::PUT, "/v1/AUTH_p1/c/o"), Verdict::ReadOnly);
        assert_eq!(auth(Method::PUT, "/v1/AUTH%5Fp1/c"), Verdict::ReadOnly);
        assert!(matches!(auth(Method::PUT, "/v1/AUTH_p2/c/o"), Verdict::Valid(_)), "other accounts: their ACLs");
        assert_eq!(authenticate(&s, "AUTH_", "AUTH_tkx", &Method::GET, "/v1/a"), Verdict::NotKeystone);
        assert_eq!(authenticate(&s, "AUTH_", "KS1bad.sig", &Method::GET, "/v1/a"), Verdict::Invalid);
    }
}
