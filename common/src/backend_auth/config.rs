//! Where a server finds the backend key: `[backend]` in its TOML (`key_file`, or `key`
//! inline), or `SWIFTLET_BACKEND_KEY` in the environment, which wins.

use super::key::{BackendKey, KeyError};
use super::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const KEY_ENV: &str = "SWIFTLET_BACKEND_KEY";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendConfig {
    /// A file holding the key as 64 hex digits; it must not be readable by group or others.
    pub key_file: Option<PathBuf>,
    /// The key inline (for tests; a key file keeps it out of the config).
    pub key: Option<String>,
    /// How many seconds a signature stays valid either side of this server's clock.
    pub window_secs: u64,
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig { key_file: None, key: None, window_secs: super::DEFAULT_WINDOW.as_secs() }
    }
}

impl BackendConfig {
    /// The configured key; a server without one does not start.
    pub fn load_key(&self) -> Result<BackendKey, KeyError> {
        self.load_key_from(std::env::var(KEY_ENV).ok())
    }

    /// `load_key` with the environment's value given.
    pub fn load_key_from(&self, env: Option<String>) -> Result<BackendKey, KeyError> {
        if let Some(hex) = env {
            return BackendKey::from_hex(&hex);
        }
        match (&self.key_file, &self.key) {
            (Some(path), _) => BackendKey::from_private_file(path),
            (None, Some(hex)) => BackendKey::from_hex(hex),
            (None, None) => Err(KeyError::Missing),
        }
    }

    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs.max(1))
    }
}

/// What a server holds to talk to the rest of the cluster: its signer for outgoing backend
/// requests and its verifier for incoming ones.
#[derive(Clone)]
pub struct BackendAuth {
    pub signer: Signer,
    pub verifier: Arc<Verifier>,
}

impl BackendAuth {
    pub fn new(key: &BackendKey, window: Duration) -> BackendAuth {
        BackendAuth { signer: Signer::new(key), verifier: Arc::new(Verifier::new(key, window)) }
    }

    /// Loads the key from `config`.
    pub fn from_config(config: &BackendConfig) -> Result<BackendAuth, KeyError> {
        Ok(BackendAuth::new(&config.load_key()?, config.window()))
    }
}
