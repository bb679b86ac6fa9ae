//! The registry of this storage node's devices: each opened device has its blocking pool,
//! its RocksDB ([`DeviceDb`]) and its [`DiskFileManager`]. The server opens devices on first
//! use; in-process daemons (replicator, auditor, updater) take the same handles from here,
//! because RocksDB admits one opener per database.
//!
//! A device is refused and never written to when its directory is missing, when
//! `mount_check` is on and it is not a mount point, or when its filesystem lacks user xattrs.

use crate::config::DevicesConfig;
use crate::devicedb::DeviceDb;
use crate::diskfile::xattrs::supports_user_xattrs;
use crate::diskfile::{DiskFileManager, Superseded};
use crate::error::{Result, StoreError};
use crate::pool::DevicePool;
use common::group_sync::GroupSync;
use common::HashPathSecret;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The name of each device's RocksDB directory.
pub const DEVICE_DB_DIR: &str = "objects-db";

pub struct Device {
    pub name: String,
    pub path: PathBuf,
    pub pool: DevicePool,
    pub manager: DiskFileManager,
    /// Group commit of the device's filesystem, for writes made with deferred fsyncs.
    pub sync: Arc<GroupSync>,
    mount_check: bool,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").field("name", &self.name).field("path", &self.path).finish()
    }
}

/// True if `path` is a mount point (its device differs from its parent's, or it is `/`).
pub fn is_mount(path: &Path) -> bool {
    let (Ok(me), Ok(parent)) = (std::fs::metadata(path), std::fs::metadata(path.join(".."))) else { return false };
    me.is_dir() && (me.dev() != parent.dev() || me.ino() == parent.ino())
}

fn check_path(name: &str, path: &Path, mount_check: bool) -> Result<()> {
    let unavailable =
        |reason: &str| StoreError::DeviceUnavailable { device: name.to_string(), reason: reason.to_string() };
    if mount_check {
        if !is_mount(path) {
            return Err(unavailable("not mounted"));
        }
    } else if !path.is_dir() {
        return Err(unavailable("not a directory"));
    }
    Ok(())
}

impl Device {
    pub fn db(&self) -> &Arc<DeviceDb> {
        self.manager.db()
    }

    /// Re-checks that the device is still mounted (blocking; call it on the pool).
    pub fn check(&self) -> Result<()> {
        if self.mount_check {
            check_path(&self.name, &self.path, true)?;
        }
        Ok(())
    }

    /// Waits for the device's group sync: writes made with deferred fsyncs are durable after it.
    pub async fn wait_synced(&self) -> Result<()> {
        self.sync.wait().await.map_err(StoreError::from_write)
    }

    /// Waits for the group sync that makes a deferred write durable, then removes the files
    /// it superseded (`superseded.rs` says why in that order). A failed removal is only
    /// logged: the write is durable, and the next cleanup of the directory retries it.
    pub async fn sync_then_remove(&self, superseded: Superseded) -> Result<()> {
        self.wait_synced().await?;
        if superseded.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.pool.run_io(move || superseded.remove()).await {
            tracing::warn!(device = %self.name, error = %e, "superseded files not removed");
        }
        Ok(())
    }
}

pub struct Devices {
    root: PathBuf,
    config: DevicesConfig,
    secret: HashPathSecret,
    open: RwLock<HashMap<String, Arc<Device>>>,
    opening: Mutex<()>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices").field("root", &self.root).finish()
    }
}

impl Devices {
    pub fn new(config: DevicesConfig, secret: HashPathSecret) -> Arc<Self> {
        Arc::new(Devices {
            root: config.devices.clone(),
            config,
            secret,
            open: RwLock::new(HashMap::new()),
            opening: Mutex::new(()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn secret(&self) -> &HashPathSecret {
        &self.secret
    }

    fn cached(&self, name: &str) -> Option<Arc<Device>> {
        self.open.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// The device, opened on first use (without blocking the runtime).
    pub async fn get(self: &Arc<Self>, name: &str) -> Result<Arc<Device>> {
        if let Some(d) = self.cached(name) {
            return Ok(d);
        }
        let me = self.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || me.get_blocking(&name))
            .await
            .map_err(|e| StoreError::Internal(format!("device open task failed: {e}")))?
    }

    /// The device, opened on first use (blocks: for daemon threads and pool jobs).
    pub fn get_blocking(&self, name: &str) -> Result<Arc<Device>> {
        if let Some(d) = self.cached(name) {
            return Ok(d);
        }
        common::path::validate_device(name)?;
        let _guard = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = self.cached(name) {
            return Ok(d);
        }
        let device = Arc::new(self.open_device(name)?);
        self.open.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), device.clone());
        Ok(device)
    }

    fn open_device(&self, name: &str) -> Result<Device> {
        let path = self.root.join(name);
        check_path(name, &path, self.config.mount_check)?;
        if !supports_user_xattrs(&path)? {
            return Err(StoreError::XattrNotSupported(name.to_string()));
        }
        let db = Arc::new(DeviceDb::open(&path.join(DEVICE_DB_DIR))?);
        let manager = DiskFileManager::new(name, path.clone(), self.secret.clone(), self.config.reclaim_age(), db);
        // This process now owns the device: temp files left by a crash are garbage.
        let removed = manager.clean_tmp(None)?;
        if removed > 0 {
            tracing::info!(device = name, removed, "removed temp files of unfinished writes");
        }
        let pool = DevicePool::new(name, self.config.threads_per_device, self.config.queue_per_device)?;
        let sync = GroupSync::for_path(&path)?;
        tracing::info!(device = name, path = %path.display(), "device opened");
        Ok(Device { name: name.to_string(), path, pool, manager, sync, mount_check: self.config.mount_check })
    }

    /// Opens every device directory under the root that passes the checks (blocking).
    pub fn open_all_blocking(&self) -> Vec<(String, Result<Arc<Device>>)> {
        let Ok(rd) = std::fs::read_dir(&self.root) else { return vec![] };
        let mut names: Vec<String> =
            rd.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect();
        names.sort();
        names
            .into_iter()
            .filter(|n| common::path::validate_device(n).is_ok())
            .map(|n| {
                let r = self.get_blocking(&n);
                (n, r)
            })
            .collect()
    }

    /// The devices opened so far.
    pub fn opened(&self) -> Vec<Arc<Device>> {
        let mut v: Vec<_> = self.open.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_once_and_refuses_missing() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("sda/tmp")).unwrap();
        std::fs::write(tmp.path().join("sda/tmp/stale.tmp"), b"x").unwrap();
        let config = DevicesConfig { devices: tmp.path().into(), mount_check: false, ..Default::default() };
        let devices = Devices::new(config, HashPathSecret::default());
        let a = devices.get("sda").await.unwrap();
        let b = devices.get("sda").await.unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!tmp.path().join("sda/tmp/stale.tmp").exists());
        assert!(matches!(devices.get("sdb").await, Err(StoreError::DeviceUnavailable { .. })));
        assert!(matches!(devices.get("..").await, Err(StoreError::Path(_))));
        assert_eq!(devices.opened().len(), 1);
        let all = devices.open_all_blocking();
        assert_eq!(all.len(), 1);
        // With mount_check, a plain directory is refused.
        let config = DevicesConfig { devices: tmp.path().into(), mount_check: true, ..Default::default() };
        let strict = Devices::new(config, HashPathSecret::default());
        std::fs::create_dir_all(tmp.path().join("sdc")).unwrap();
        assert!(matches!(strict.get("sdc").await, Err(StoreError::DeviceUnavailable { .. })));
        assert!(!tmp.path().join("sdc").join(DEVICE_DB_DIR).exists());
        assert!(is_mount(Path::new("/")));
    }
}
