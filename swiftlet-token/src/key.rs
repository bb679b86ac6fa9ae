//! The token key: 32 random bytes that sign every token (tempauth's and Keystone's) and
//! nothing else. It is its own secret, not derived from the hash-path secret, because every
//! storage node holds that one and no storage node may mint tokens.
//!
//! Services find it in `[token]` (`key_file`: 64 hex digits, readable by its owner only;
//! or `key` inline, for in-process clusters) or in `SWIFTLET_TOKEN_KEY`, which wins. The
//! file checks are the backend key's (`common::backend_auth`), reused.

use common::backend_auth::{BackendKey, KeyError};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::PathBuf;

pub const TOKEN_KEY_ENV: &str = "SWIFTLET_TOKEN_KEY";

#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey([u8; 32]);

/// Why a service has no usable token key.
#[derive(Debug, thiserror::Error)]
pub enum TokenKeyError {
    #[error(
        "no token key: set [token] key_file (64 hex digits, mode 0600, e.g. from `openssl rand -hex 32`) \
         or SWIFTLET_TOKEN_KEY; the proxy and the identity service must share it"
    )]
    Missing,
    #[error("the token key must be 64 hex digits (32 random bytes), e.g. from `openssl rand -hex 32`")]
    BadFormat,
    #[error("the token key is all zeros")]
    Zero,
    #[error("token key file {0} is readable by group or others: chmod 600 it")]
    Exposed(String),
    #[error("cannot read token key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
}

impl From<KeyError> for TokenKeyError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::BadFormat => TokenKeyError::BadFormat,
            KeyError::Zero => TokenKeyError::Zero,
            KeyError::Missing => TokenKeyError::Missing,
            KeyError::Exposed(path) => TokenKeyError::Exposed(path),
            KeyError::Read { path, source } => TokenKeyError::Read { path, source },
        }
    }
}

impl TokenKey {
    /// A new random key.
    pub fn generate() -> TokenKey {
        TokenKey::from_backend_format(&BackendKey::generate())
    }

    pub fn from_hex(text: &str) -> Result<TokenKey, TokenKeyError> {
        Ok(TokenKey::from_backend_format(&BackendKey::from_hex(text)?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The key for one use (`label`), so tempauth and Keystone tokens are never signed with
    /// the same bytes and neither is this key itself.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Both keys are 32 bytes written as 64 hex digits; the backend key's parser and file
    /// checks are the ones used.
    fn from_backend_format(key: &BackendKey) -> TokenKey {
        let mut bytes = [0u8; 32];
        // `to_hex` of a BackendKey is always 64 hex digits.
        if let Ok(decoded) = hex::decode(key.to_hex()) {
            bytes.copy_from_slice(&decoded);
        }
        TokenKey(bytes)
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// `[token]` in a service's TOML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// A file holding the key as 64 hex digits; it must not be readable by group or others.
    pub key_file: Option<PathBuf>,
    /// The key inline (in-process clusters and tests; a key file keeps it out of configs).
    pub key: Option<String>,
}

impl TokenConfig {
    /// The key given inline.
    pub fn inline(key: &TokenKey) -> TokenConfig {
        TokenConfig { key_file: None, key: Some(key.to_hex()) }
    }

    /// The configured key, `SWIFTLET_TOKEN_KEY` first; a service without one must not start.
    pub fn load_key(&self) -> Result<TokenKey, TokenKeyError> {
        self.load_key_from(std::env::var(TOKEN_KEY_ENV).ok())
    }

    /// `load_key` with the environment's value given.
    pub fn load_key_from(&self, env: Option<String>) -> Result<TokenKey, TokenKeyError> {
        if let Some(hex) = env {
            return TokenKey::from_hex(&hex);
        }
        match (&self.key_file, &self.key) {
            (Some(path), _) => Ok(TokenKey::from_backend_format(&BackendKey::from_private_file(path)?)),
            (None, Some(hex)) => TokenKey::from_hex(hex),
            (None, None) => Err(TokenKeyError::Missing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_derive_and_hide() {
        let k = TokenKey::generate();
        assert_eq!(TokenKey::from_hex(&format!(" {}\n", k.to_hex())).unwrap(), k);
        assert!(matches!(TokenKey::from_hex("abcd"), Err(TokenKeyError::BadFormat)));
        assert!(matches!(TokenKey::from_hex(&"0".repeat(64)), Err(TokenKeyError::Zero)));
        assert!(!format!("{k:?}").contains(&k.to_hex()));
        assert_ne!(k.derive("a"), k.derive("b"));
        assert_ne!(TokenKey::generate().derive("a"), k.derive("a"));
    }

    #[test]
    fn key_files_must_be_private_and_the_environment_wins() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.key");
        let key = TokenKey::generate();
        std::fs::write(&path, key.to_hex()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cfg = TokenConfig { key_file: Some(path.clone()), key: None };
        let err = cfg.load_key_from(None).unwrap_err();
        assert!(err.to_string().contains("token key file") && err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(cfg.load_key_from(None).unwrap(), key);
        let err = TokenConfig::default().load_key_from(None).unwrap_err();
        assert!(err.to_string().contains("no token key"), "{err}");
        let other = TokenKey::generate();
        assert_eq!(cfg.load_key_from(Some(other.to_hex())).unwrap(), other);
        assert_eq!(TokenConfig::inline(&other).load_key_from(None).unwrap(), other);
    }
}
