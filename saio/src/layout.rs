//! Where a cluster keeps its files under the data dir, and the cluster secret.

use common::HashPathSecret;
use rand::Rng;
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

    /// The cluster's hash-path secret: made once, kept in `etc/secret.toml`, so a restart
    /// finds every object where it was put.
    pub fn secret(&self) -> std::io::Result<HashPathSecret> {
        let path = self.etc().join("secret.toml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return toml::from_str(&text)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display())));
        }
        let mut rng = rand::thread_rng();
        let secret = HashPathSecret::new(hex::encode(rng.gen::<[u8; 16]>()), hex::encode(rng.gen::<[u8; 16]>()));
        let text = toml::to_string(&secret).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        Ok(secret)
    }
}
