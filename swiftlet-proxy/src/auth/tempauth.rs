//! tempauth: users and keys from config, self-validating tokens.
//!
//! A token is `AUTH_tk` + base64url(payload) + `.` + base64url(HMAC-SHA256(payload)), the
//! payload holding the account, user, groups and expiry. Any proxy that shares the cluster
//! secret validates it with no shared cache (OpenStack Swift needs memcached for this).

use super::identity::Identity;
use crate::config::{TempAuthConfig, UserConfig};
use std::time::{SystemTime, UNIX_EPOCH};

const TOKEN_PREFIX: &str = "AUTH_tk";
/// Refuse absurd header values before doing any crypto on them.
const MAX_TOKEN_LEN: usize = 1024;

pub(crate) struct TempAuth {
    users: Vec<UserConfig>,
    key: Vec<u8>,
    token_life: u64,
    reseller_prefix: String,
}

/// What a successful `GET /auth/v1.0` returns.
#[derive(Debug)]
pub(crate) struct Grant {
    pub token: String,
    pub storage_account: String,
    pub expires_in: u64,
}

impl TempAuth {
    /// `cluster_secret` is mixed into the signing key so tokens are valid cluster-wide only.
    pub(crate) fn new(cfg: &TempAuthConfig, cluster_secret: &[u8]) -> Self {
        let mut key = b"swiftlet-tempauth-v1\0".to_vec();
        key.extend_from_slice(cluster_secret);
        key.push(0);
        key.extend_from_slice(cfg.token_secret.as_bytes());
        TempAuth {
            users: cfg.users.clone(),
            key,
            token_life: cfg.token_life,
            reseller_prefix: cfg.reseller_prefix.clone(),
        }
    }

    pub(crate) fn reseller_prefix(&self) -> &str {
        &self.reseller_prefix
    }

    /// Checks `account:user` and key; `None` when they do not match a user.
    pub(crate) fn login(&self, account_user: &str, key: &str) -> Option<Grant> {
        let (account, user) = account_user.split_once(':')?;
        let u = self.users.iter().find(|u| u.account == account && u.user == user)?;
        if !constant_time_eq(u.key.as_bytes(), key.as_bytes()) {
            return None;
        }
        let expires = now_secs() + self.token_life;
        let payload = format!(
            "{expires}\n{}\n{}\n{}{}",
            u.account,
            u.user,
            if u.groups.iter().any(|g| g == ".admin") { "a" } else { "-" },
            if u.groups.iter().any(|g| g == ".reseller_admin") { "r" } else { "-" },
        );
        let token = swiftlet_token::seal(TOKEN_PREFIX, &self.key, payload.as_bytes());
        Some(Grant {
            token,
            storage_account: format!("{}{}", self.reseller_prefix, u.account),
            expires_in: self.token_life,
        })
    }

    /// Validates a token: signature first (constant time), then expiry.
    pub(crate) fn validate(&self, token: &str) -> Option<Identity> {
        let payload = swiftlet_token::open(TOKEN_PREFIX, &self.key, token, MAX_TOKEN_LEN)?;
        let payload = String::from_utf8(payload).ok()?;
        let mut fields = payload.split('\n');
        let expires: u64 = fields.next()?.parse().ok()?;
        let (account, user, flags) = (fields.next()?, fields.next()?, fields.next()?);
        if expires <= now_secs() {
            return None;
        }
        Some(Identity {
            account: account.to_string(),
            user: user.to_string(),
            admin: flags.starts_with('a'),
            reseller_admin: flags.ends_with('r'),
            storage_account: format!("{}{}", self.reseller_prefix, account),
        })
    }
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn auth() -> TempAuth {
        TempAuth::new(&TempAuthConfig::default(), b"secret")
    }

    #[test]
    fn login_and_validate() {
        let a = auth();
        let g = a.login("test:tester", "testing").unwrap();
        assert_eq!(g.storage_account, "AUTH_test");
        let id = a.validate(&g.token).unwrap();
        assert!(id.owns("AUTH_test") && !id.owns("AUTH_test2"));
        let id3 = a.validate(&a.login("test:tester3", "testing3").unwrap().token).unwrap();
        assert!(!id3.owns("AUTH_test"));
        assert!(id3.groups().contains(&"test:tester3".to_string()));
        assert!(a.validate(&a.login("admin:admin", "admin").unwrap().token).unwrap().owns("AUTH_anything"));
    }

    #[test]
    fn refuses_bad_keys_and_tampering() {
        let a = auth();
        assert!(a.login("test:tester", "wrong").is_none());
        assert!(a.login("test:nobody", "testing").is_none());
        assert!(a.login("no-colon", "testing").is_none());
        let token = a.login("test:tester3", "testing3").unwrap().token;
        // Flip the payload to claim admin: the signature no longer matches.
        let (p, s) = token.strip_prefix(TOKEN_PREFIX).unwrap().split_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap().replace("\n--", "\na-");
        let forged = format!("{TOKEN_PREFIX}{}.{s}", URL_SAFE_NO_PAD.encode(payload));
        assert!(a.validate(&forged).is_none());
        // Another cluster's proxy does not accept it.
        assert!(TempAuth::new(&TempAuthConfig::default(), b"other").validate(&token).is_none());
        assert!(a.validate("AUTH_tkgarbage").is_none());
    }

    #[test]
    fn tokens_expire() {
        let cfg = TempAuthConfig { token_life: 0, ..TempAuthConfig::default() };
        let a = TempAuth::new(&cfg, b"s");
        assert!(a.validate(&a.login("test:tester", "testing").unwrap().token).is_none());
    }
}
