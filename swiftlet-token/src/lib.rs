//! Keystone tokens: the format the identity service (`compute-shim`) issues and the proxy
//! accepts, validated locally by both without a token database.
//!
//! A token is `KS1` + base64url(JSON claims) + `.` + base64url(HMAC-SHA256(claims)). The
//! signing key is derived from the cluster's [`TokenKey`] (its own secret, shared by the
//! identity service and the proxies only: never by the storage nodes, which hold the
//! hash-path secret). What a token lets its bearer do is each service's business (the
//! proxy maps roles to accounts); this crate only makes and checks tokens.
//!
//! A genuine token can still be revoked before it expires: [`revocation`] holds the
//! events that say so, [`feed`] is how the identity service serves them, and [`poller`]
//! keeps a service's copy of them current.

pub mod feed;
pub mod iso_time;
pub mod poller;
pub mod revocation;

pub use feed::FeedKey;
pub use poller::{PollerConfig, RevocationPoller};
pub use revocation::{RevocationEvent, Revocations};

mod key;

pub use key::{TokenConfig, TokenKey, TokenKeyError, TOKEN_KEY_ENV};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const TOKEN_PREFIX: &str = "KS1";
/// Refuse absurd header values before doing any crypto on them.
const MAX_TOKEN_LEN: usize = 4096;

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

/// Signs and verifies tokens with the Keystone key derived from the token key.
#[derive(Clone)]
pub struct KeystoneTokens {
    key: [u8; 32],
}

/// What the Keystone signing key is derived under.
const KEYSTONE_LABEL: &str = "swiftlet-keystone-tokens-v2";

impl KeystoneTokens {
    pub fn new(key: &TokenKey) -> Self {
        KeystoneTokens { key: key.derive(KEYSTONE_LABEL) }
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
        seal(TOKEN_PREFIX, &self.key, &payload)
    }

    /// The claims of a genuine token that has not expired at `now` (unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Option<TokenClaims> {
        let payload = open(TOKEN_PREFIX, &self.key, token, MAX_TOKEN_LEN)?;
        let claims: TokenClaims = serde_json::from_slice(&payload).ok()?;
        (claims.exp > now).then_some(claims)
    }
}

/// A self-validating token: `prefix` + base64url(payload) + `.` + base64url(HMAC-SHA256 of
/// the payload under `key`). Keystone tokens are these; so are the proxy's tempauth ones.
pub fn seal(prefix: &str, key: &[u8], payload: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload);
    let sig = mac.finalize().into_bytes();
    format!("{prefix}{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(sig))
}

/// The payload of a token [`seal`]ed with `key` under `prefix`: `None` when it is forged
/// (checked in constant time), malformed, or longer than `max_len` (no crypto is done on
/// absurd header values).
pub fn open(prefix: &str, key: &[u8], token: &str, max_len: usize) -> Option<Vec<u8>> {
    if token.len() > max_len {
        return None;
    }
    let (payload_b64, sig_b64) = token.strip_prefix(prefix)?.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).ok()?;
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(&payload);
    mac.verify_slice(&sig).ok()?;
    Some(payload)
}

pub fn is_keystone_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str]) -> TokenClaims {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let json = serde_json::json!({"id": "t1", "iat": 100, "exp": u64::MAX, "uid": "u1", "uname": "demo",
            "pid": "p1", "pname": "demo", "roles": roles, "methods": ["password"]});
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn issue_verify_and_tamper() {
        let t = KeystoneTokens::new(&TokenKey::generate());
        let tok = t.issue(&claims(&["member"]));
        assert_eq!(t.verify(&tok, 0).unwrap().uid, "u1");
        assert!(KeystoneTokens::new(&TokenKey::generate()).verify(&tok, 0).is_none());
        let (p, sig) = tok.strip_prefix(TOKEN_PREFIX).unwrap().split_once('.').unwrap();
        let forged = String::from_utf8(URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap().replace("member", "admin");
        assert!(t.verify(&format!("{TOKEN_PREFIX}{}.{sig}", URL_SAFE_NO_PAD.encode(forged)), 0).is_none());
        let expired = t.issue(&TokenClaims { exp: 50, ..claims(&["member"]) });
        assert!(t.verify(&expired, 50).is_none() && t.verify(&expired, 49).is_some());
    }
}
