//! Where a cluster keeps its files under the data dir, and the cluster's secrets.

use common::backend_auth::{BackendAuth, BackendKey};
use common::secrets::{write_private, Secrets};
use common::HashPathSecret;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// `<data>/etc` holds the rings and the secret; `<data>/node<N>/sdb<N>` is node N's device.
#[derive(Debug, Clone)]
pub struct Layout {
    pub data_dir: PathBuf,
}

impl Layout {
    pub fn new(data_dir: &Path) -> Self {
        Layout { data_dir: data_dir.to_path_buf() }
    }

    pub fn etc(&self) -> PathBuf {
        self.data_dir.join("etc")
    }

    /// The devices dir of node `i` (0-based), holding one device.
    pub fn node_devices(&self, i: usize) -> PathBuf {
        self.data_dir.join(format!("node{}", i + 1))
    }

    pub fn device_name(i: usize) -> String {
        format!("sdb{}", i + 1)
    }

    pub fn create(&self, nodes: usize) -> std::io::Result<()> {
        std::fs::create_dir_all(self.etc())?;
        for i in 0..nodes {
            std::fs::create_dir_all(self.node_devices(i).join(Self::device_name(i)))?;
        }
        Ok(())
    }

    /// The cluster's secrets: the hash-path secret and the backend key, made once and kept
    /// in `etc/secret.toml` (mode 0600), so a restart finds every object where it was put.
    /// A data dir from before the backend key gets one added.
    pub fn secrets(&self) -> std::io::Result<Secrets> {
        let path = self.etc().join("secret.toml");
        let invalid = |e: &dyn std::fmt::Display| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
        };
        let mut file: SecretFile = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| invalid(&e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut rng = rand::thread_rng();
                let (prefix, suffix) = (hex::encode(rng.gen::<[u8; 16]>()), hex::encode(rng.gen::<[u8; 16]>()));
                SecretFile { hash_path: HashPathSecret::new(prefix, suffix), backend_key: None }
            }
            Err(e) => return Err(e),
        };
        let private = std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0);
        if file.backend_key.is_none() || !private {
            file.backend_key.get_or_insert_with(|| BackendKey::generate().to_hex());
            let text = toml::to_string(&file).map_err(std::io::Error::other)?;
            write_private(&path, text.as_bytes())?;
        }
        let key = BackendKey::from_hex(file.backend_key.as_deref().unwrap_or_default()).map_err(|e| invalid(&e))?;
        let backend = BackendAuth::new(&key, common::backend_auth::DEFAULT_WINDOW);
        Ok(Secrets { hash_path: file.hash_path, backend })
    }
}

/// `etc/secret.toml`.
#[derive(Debug, Serialize, Deserialize)]
struct SecretFile {
    #[serde(flatten)]
    hash_path: HashPathSecret,
    backend_key: Option<String>,
}
