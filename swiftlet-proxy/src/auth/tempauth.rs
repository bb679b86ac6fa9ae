//! tempauth: users and keys from config, self-validating tokens.
//!
//! A token is `AUTH_tk` + base64url(payload) + `.` + base64url(HMAC-SHA256(payload)), the
//! payload holding the account, user, groups and expiry. Any proxy that holds the cluster's
//! token key validates it with no shared cache (OpenStack Swift needs memcached for this).
//! The token key is not the hash-path secret, which every storage node knows.

use super::identity::Identity;
use crate::config::{TempAuthConfig, UserConfig};
use std::time::{SystemTime, UNIX_EPOCH};
use swiftlet_token::TokenKey;

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
    /// Tokens are signed with a key derived from the cluster's token key (and the config's
    /// `token_secret`), so they are valid cluster-wide only.
    pub(crate) fn new(cfg: &TempAuthConfig, token_key: &TokenKey) -> Self {
        let mut key = token_key.derive("swiftlet-tempauth-v2").to_vec();
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
            reseller_prefix: self.reseller_prefix.clone(),
            read_only: false,
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

    fn saio() -> TempAuthConfig {
        TempAuthConfig { users: crate::config::saio_test_users(), ..TempAuthConfig::default() }
    }

    fn auth() -> TempAuth {
        TempAuth::new(&saio(), &TokenKey::from_hex(&"ab".repeat(32)).unwrap())
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
    fn reseller_admins_own_only_their_prefix() {
        let a = auth();
        let admin = a.validate(&a.login("admin:admin", "admin").unwrap().token).unwrap();
        assert!(admin.owns("AUTH_test") && !admin.owns("OTHER_test"));
        let tester = a.validate(&a.login("test:tester", "testing").unwrap().token).unwrap();
        assert!(!tester.owns("OTHER_test"));
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
        assert!(TempAuth::new(&saio(), &TokenKey::generate()).validate(&token).is_none());
        assert!(a.validate("AUTH_tkgarbage").is_none());
    }

    #[test]
    fn tokens_expire() {
        let cfg = TempAuthConfig { token_life: 0, ..saio() };
        let a = TempAuth::new(&cfg, &TokenKey::generate());
        assert!(a.validate(&a.login("test:tester", "testing").unwrap().token).is_none());
    }
}
