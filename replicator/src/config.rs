//! The daemons' TOML config: one serde struct, a default for every key, one section per
//! daemon. The node-wide keys say where the devices and rings are and which ring devices
//! are this node's (those whose replication address is `ip` and the server's port).

use common::backend_auth::BackendConfig;
use common::HashPathSecret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonConfig {
    /// Directory holding one directory (or mount point) per device.
    pub devices: PathBuf,
    /// Skip devices that are not mount points.
    pub mount_check: bool,
    /// Directory of `object.ring`, `container.ring` and `account.ring`.
    pub swift_dir: PathBuf,
    /// This node's replication IP as the rings spell it.
    pub ip: String,
    /// The ports of this node's servers, as in the rings.
    pub object_port: u16,
    pub container_port: u16,
    pub account_port: u16,
    /// Where each daemon writes its last pass report as `<daemon>.json` (none when unset).
    pub recon_dir: Option<PathBuf>,
    /// The cluster's hash-path secret (names directories on disk; `SWIFTLET_HASH_PATH_PREFIX`
    /// and `_SUFFIX` override it). The `replicator` binary refuses to run without one.
    pub hash_path: HashPathSecret,
    /// Where the cluster's backend key is: every request the daemons send is signed with it.
    /// The `replicator` binary refuses to run without one.
    pub backend: BackendConfig,
    /// Seconds between checks of the ring files for changes.
    pub ring_check_interval: f64,
    /// Seconds to connect to a peer.
    pub conn_timeout: f64,
    /// Seconds a peer has to answer one request (REPLICATE calls, updates, deletes).
    pub node_timeout: f64,
    /// Seconds after which tombstones (object `.ts` files, DB rows) and deleted DBs are removed.
    pub reclaim_age: u64,
    pub object_replicator: ObjectReplicatorConfig,
    pub db_replicator: DbReplicatorConfig,
    pub auditor: AuditorConfig,
    pub updater: UpdaterConfig,
    pub expirer: ExpirerConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectReplicatorConfig {
    /// Seconds between the starts of two passes.
    pub interval: f64,
    /// Partitions replicated at once on the whole node.
    pub concurrency: usize,
    /// Partitions replicated at once on one device.
    pub concurrency_per_device: usize,
    /// Object bytes pushed per second, node-wide, averaged over pushes (0 = unlimited).
    pub max_bytes_per_sec: u64,
    /// Seconds one SSYNC push (a partition's differing suffixes) may take.
    pub ssync_timeout: f64,
    /// Every this many passes, rehash every suffix (not only those writes invalidated):
    /// reclaims old tombstones and repairs invalidations a machine crash lost.
    pub full_rehash_every: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbReplicatorConfig {
    pub interval: f64,
    /// DBs replicated at once per device.
    pub concurrency: usize,
    /// Rows per `merge_items` call.
    pub per_diff: usize,
    /// `merge_items` calls per DB and peer in one pass; the rest waits for the next pass.
    pub max_diffs: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditorConfig {
    pub interval: f64,
    /// Object bytes read per second while auditing (0 = unlimited).
    pub bytes_per_sec: u64,
    /// Objects opened per second (0 = unlimited).
    pub files_per_sec: u64,
    /// Databases checked per second (0 = unlimited).
    pub dbs_per_sec: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdaterConfig {
    pub interval: f64,
    /// Updates sent at once.
    pub concurrency: usize,
    /// Updates sent per second (0 = unlimited).
    pub updates_per_sec: u64,
    /// The longest wait, in seconds, before a failing update is retried.
    pub max_backoff: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpirerConfig {
    pub interval: f64,
    /// Objects examined per second (0 = unlimited).
    pub objects_per_sec: u64,
    /// Expired objects deleted at once.
    pub concurrency: usize,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            devices: PathBuf::from("/srv/node"),
            mount_check: true,
            swift_dir: PathBuf::from("/etc/swiftlet"),
            ip: "127.0.0.1".into(),
            object_port: 6200,
            container_port: 6201,
            account_port: 6202,
            recon_dir: None,
            hash_path: HashPathSecret::default(),
            backend: BackendConfig::default(),
            ring_check_interval: 15.0,
            conn_timeout: 0.5,
            node_timeout: 10.0,
            reclaim_age: 7 * 24 * 3600,
            object_replicator: ObjectReplicatorConfig::default(),
            db_replicator: DbReplicatorConfig::default(),
            auditor: AuditorConfig::default(),
            updater: UpdaterConfig::default(),
            expirer: ExpirerConfig::default(),
        }
    }
}

impl Default for ObjectReplicatorConfig {
    fn default() -> Self {
        ObjectReplicatorConfig {
            interval: 30.0,
            concurrency: 4,
            concurrency_per_device: 2,
            max_bytes_per_sec: 0,
            ssync_timeout: 1800.0,
            full_rehash_every: 10,
        }
    }
}

impl Default for DbReplicatorConfig {
    fn default() -> Self {
        DbReplicatorConfig { interval: 30.0, concurrency: 4, per_diff: 1000, max_diffs: 100 }
    }
}

impl Default for AuditorConfig {
    fn default() -> Self {
        AuditorConfig { interval: 300.0, bytes_per_sec: 10 << 20, files_per_sec: 20, dbs_per_sec: 50 }
    }
}

impl Default for UpdaterConfig {
    fn default() -> Self {
        UpdaterConfig { interval: 30.0, concurrency: 8, updates_per_sec: 50, max_backoff: 300.0 }
    }
}

impl Default for ExpirerConfig {
    fn default() -> Self {
        ExpirerConfig { interval: 60.0, objects_per_sec: 0, concurrency: 4 }
    }
}

pub(crate) fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(if v.is_finite() { v.max(0.0) } else { 0.0 })
}

impl DaemonConfig {
    pub fn conn_timeout(&self) -> Duration {
        secs(self.conn_timeout.max(0.001))
    }
    pub fn node_timeout(&self) -> Duration {
        secs(self.node_timeout.max(0.001))
    }
    pub fn reclaim_age(&self) -> Duration {
        Duration::from_secs(self.reclaim_age)
    }

    /// The object store settings the daemons need to open devices themselves.
    pub fn object_devices_config(&self) -> swiftlet_object_store::DevicesConfig {
        swiftlet_object_store::DevicesConfig {
            devices: self.devices.clone(),
            mount_check: self.mount_check,
            reclaim_age: self.reclaim_age,
            ..Default::default()
        }
    }

    /// The broker settings for the container or account databases on these devices.
    pub fn store_config(&self) -> swiftlet_broker::StoreConfig {
        swiftlet_broker::StoreConfig {
            devices: self.devices.clone(),
            mount_check: self.mount_check,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_default() {
        let c: DaemonConfig = toml::from_str("").unwrap();
        assert_eq!(c, DaemonConfig::default());
        let c: DaemonConfig = toml::from_str(
            "devices = '/d'\nobject_port = 7000\n[object_replicator]\nmax_bytes_per_sec = 5\n[auditor]\nbytes_per_sec = 9\n",
        )
        .unwrap();
        assert_eq!(c.devices, PathBuf::from("/d"));
        assert_eq!(c.object_port, 7000);
        assert_eq!(c.object_replicator.max_bytes_per_sec, 5);
        assert_eq!(c.object_replicator.concurrency, 4);
        assert_eq!(c.auditor.bytes_per_sec, 9);
        assert!(toml::from_str::<DaemonConfig>("nope = 1").is_err());
        assert!(toml::from_str::<DaemonConfig>("[updater]\nnope = 1").is_err());
        assert_eq!(c.object_devices_config().reclaim_age, c.reclaim_age);
        assert_eq!(secs(f64::NAN), Duration::ZERO);
    }
}
