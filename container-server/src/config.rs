//! The container server's TOML config; every key has a default.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContainerConfig {
    pub bind_ip: String,
    pub bind_port: u16,
    /// The cluster's hash-path secret (`SWIFTLET_HASH_PATH_PREFIX/SUFFIX` override it).
    pub hash_path: common::HashPathSecret,
    /// Where the cluster's backend key is (every request to this server must be signed with it).
    pub backend: common::backend_auth::BackendConfig,
    /// The directory holding one directory per device.
    pub devices: PathBuf,
    /// Refuse (507) devices that are not mount points.
    pub mount_check: bool,
    /// Blocking threads one device's SQLite work may use at once.
    pub workers_per_device: usize,
    /// Open DB handles (with their connections) kept cached.
    pub max_open_dbs: usize,
    /// Object rows committed in one transaction at most.
    pub max_batch_rows: usize,
    /// Make DB commits durable with one filesystem sync shared by concurrent writers,
    /// instead of an fsync per commit.
    pub db_group_sync: bool,
    /// Seconds to connect to an account server.
    pub conn_timeout: f64,
    /// Seconds to wait for an account server's answer.
    pub node_timeout: f64,
    /// Seconds between sends of pending account updates (stats changes, retries); 0 = never
    /// (an updater daemon calls `run_pending_updates` instead).
    pub account_update_interval: f64,
    /// Seconds deleted rows are kept before they may be reclaimed.
    pub reclaim_age: u64,
    /// Valid storage policy indexes.
    pub storage_policies: Vec<u32>,
    /// Accounts whose containers are created on first object row (Swift's ".").
    pub auto_create_account_prefix: String,
    pub max_connections: usize,
}

impl Default for ContainerConfig {
    fn default() -> Self {
        ContainerConfig {
            bind_ip: "127.0.0.1".into(),
            bind_port: 6201,
            hash_path: common::HashPathSecret::default(),
            backend: common::backend_auth::BackendConfig::default(),
            devices: PathBuf::from("/srv/node"),
            mount_check: true,
            workers_per_device: 4,
            max_open_dbs: 256,
            max_batch_rows: 2000,
            db_group_sync: true,
            conn_timeout: 0.5,
            node_timeout: 3.0,
            account_update_interval: 1.0,
            reclaim_age: 7 * 24 * 3600,
            storage_policies: vec![0],
            auto_create_account_prefix: ".".into(),
            max_connections: 1024,
        }
    }
}

impl ContainerConfig {
    pub fn conn_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.conn_timeout.max(0.001))
    }

    pub fn node_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.node_timeout.max(0.001))
    }

    pub fn store_config(&self) -> swiftlet_broker::StoreConfig {
        swiftlet_broker::StoreConfig {
            devices: self.devices.clone(),
            mount_check: self.mount_check,
            workers_per_device: self.workers_per_device,
            max_open_dbs: self.max_open_dbs,
            max_batch_rows: self.max_batch_rows,
            group_sync: self.db_group_sync,
        }
    }
}

impl common::server::ServerConfig for ContainerConfig {
    fn bind_addr(&self) -> (String, u16) {
        (self.bind_ip.clone(), self.bind_port)
    }

    fn set_bind_addr(&mut self, ip: String, port: u16) {
        (self.bind_ip, self.bind_port) = (ip, port);
    }

    fn set_devices(&mut self, devices: PathBuf) {
        self.devices = devices;
    }

    fn set_mount_check(&mut self, on: bool) {
        self.mount_check = on;
    }

    fn hash_path(&self) -> &common::HashPathSecret {
        &self.hash_path
    }

    fn backend(&self) -> &common::backend_auth::BackendConfig {
        &self.backend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_default() {
        let c: ContainerConfig = toml::from_str("").unwrap();
        assert_eq!(c, ContainerConfig::default());
        let c: ContainerConfig = toml::from_str("devices = '/tmp/x'\nmount_check = false").unwrap();
        assert!(!c.mount_check && c.bind_port == 6201);
        assert!(toml::from_str::<ContainerConfig>("bogus = 1").is_err());
    }
}
