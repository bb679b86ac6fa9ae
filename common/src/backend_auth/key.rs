//! The cluster's backend key: 32 random bytes, written as 64 hex digits in config or a key
//! file. It is not the placement secret (which names directories on disk and so must never
//! change) nor the token-signing key, so each can be rotated on its own.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

#[derive(Clone, PartialEq, Eq)]
pub struct BackendKey([u8; 32]);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the backend key must be 64 hex digits (32 random bytes), e.g. from `openssl rand -hex 32`")]
    BadFormat,
    #[error("the backend key is all zeros")]
    Zero,
    #[error("no backend key: set [backend] key_file (64 hex digits, mode 0600) or SWIFTLET_BACKEND_KEY")]
    Missing,
    #[error("backend key file {0} is readable by group or others: chmod 600 it")]
    Exposed(String),
    #[error("cannot read backend key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
}

impl BackendKey {
    /// A new random key.
    pub fn generate() -> BackendKey {
        BackendKey(rand::random())
    }

    pub fn from_hex(text: &str) -> Result<BackendKey, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::BadFormat)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadFormat)?;
        if key == [0; 32] {
            return Err(KeyError::Zero);
        }
        Ok(BackendKey(key))
    }

    /// Reads a key file holding the hex key (surrounding white space ignored).
    pub fn from_file(path: &Path) -> Result<BackendKey, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Read { path: path.display().to_string(), source })?;
        BackendKey::from_hex(&text)
    }

    /// Reads a key file that only its owner may read (a readable one is refused).
    pub fn from_private_file(path: &Path) -> Result<BackendKey, KeyError> {
        use std::os::unix::fs::PermissionsExt;
        let meta =
            std::fs::metadata(path).map_err(|source| KeyError::Read { path: path.display().to_string(), source })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(KeyError::Exposed(path.display().to_string()));
        }
        BackendKey::from_file(path)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub(super) fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        Hmac::<Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }
}

impl std::fmt::Debug for BackendKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackendKey(..)")
    }
}
