//! What every daemon of one storage node shares: its config, the three rings, an HTTP
//! client, and the storage handles — the object devices registry and the container and
//! account DB stores.
//!
//! RocksDB admits one opener per device DB and the DB stores cache open connections, so
//! daemons running inside the storage node's process must share the servers' handles
//! ([`Node::in_process`], as `saio` does). [`Node::standalone`] opens its own, for the
//! `replicator` binary on a node whose servers are stopped.

use crate::config::DaemonConfig;
use crate::error::Result;
use common::http::HttpClient;
use common::HashPathSecret;
use container_server::AccountUpdater;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_broker::{DbKind, Store};
use swiftlet_object_store::Devices;
use swiftlet_ring::{Device, Ring, SharedRing};

/// The object, container and account rings, each reloaded when its file changes.
#[derive(Clone, Debug)]
pub struct Rings {
    pub object: SharedRing,
    pub container: SharedRing,
    pub account: SharedRing,
}

impl Rings {
    pub fn open(dir: &Path, interval: Duration) -> Result<Rings> {
        Ok(Rings {
            object: SharedRing::open(&dir.join("object.ring"), interval)?,
            container: SharedRing::open(&dir.join("container.ring"), interval)?,
            account: SharedRing::open(&dir.join("account.ring"), interval)?,
        })
    }

    /// Re-reads every ring file that changed (instead of waiting for the watcher).
    pub fn reload(&self) -> Result<()> {
        for r in [&self.object, &self.container, &self.account] {
            r.reload_if_changed()?;
        }
        Ok(())
    }
}

/// The storage handles of one node.
pub struct Storage {
    pub objects: Arc<Devices>,
    pub containers: Arc<Store>,
    pub accounts: Arc<Store>,
    /// The container server's queue of account updates.
    pub account_updater: Arc<AccountUpdater>,
}

pub struct Node {
    pub config: DaemonConfig,
    pub secret: HashPathSecret,
    pub rings: Rings,
    pub client: HttpClient,
    pub storage: Storage,
}

/// `ip:port` of a device's replication address.
pub fn replication_addr(dev: &Device) -> String {
    format!("{}:{}", swiftlet_ring::device::bracket(&dev.replication_ip), dev.replication_port)
}

impl Node {
    /// Daemons inside the storage node's process, sharing its servers' handles.
    pub fn in_process(config: DaemonConfig, secret: HashPathSecret, rings: Rings, storage: Storage) -> Arc<Node> {
        let client = HttpClient::new(config.conn_timeout());
        Arc::new(Node { config, secret, rings, client, storage })
    }

    /// Daemons in their own process: opens the rings and the storage handles itself.
    pub fn standalone(config: DaemonConfig) -> Result<Arc<Node>> {
        let secret = config.hash_path.clone().with_env_overrides();
        let rings = Rings::open(&config.swift_dir, crate::config::secs(config.ring_check_interval))?;
        let objects = Devices::new(config.object_devices_config(), secret.clone());
        let containers = Store::new(DbKind::Container, config.store_config(), secret.clone());
        let accounts = Store::new(DbKind::Account, config.store_config(), secret.clone());
        let client = HttpClient::new(config.conn_timeout());
        let account_updater = AccountUpdater::new(containers.clone(), client, config.node_timeout());
        let storage = Storage { objects, containers, accounts, account_updater };
        Ok(Self::in_process(config, secret, rings, storage))
    }

    /// Whether `dev` is one of this node's devices for the server listening on `port`.
    pub fn is_local(&self, dev: &Device, port: u16) -> bool {
        dev.replication_port == port
            && swiftlet_ring::device::normalize_ip(&dev.replication_ip)
                == swiftlet_ring::device::normalize_ip(&self.config.ip)
    }

    /// This node's devices in `ring` (served on `port`), by name, each once.
    pub fn local_devices(&self, ring: &Ring, port: u16) -> Vec<String> {
        let mut names: Vec<String> =
            ring.devices().filter(|d| self.is_local(d, port)).map(|d| d.device.clone()).collect();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: u32, ip: &str, port: u16, name: &str) -> Device {
        Device {
            id,
            region: 1,
            zone: id + 1,
            ip: ip.into(),
            port,
            replication_ip: ip.into(),
            replication_port: port,
            device: name.into(),
            weight: 1.0,
            meta: String::new(),
        }
    }

    #[test]
    fn local_devices_match_address_and_port() {
        let devs = [
            dev(0, "127.0.0.1", 6200, "sdb1"),
            dev(1, "127.0.0.1", 6210, "sdb2"),
            dev(2, "10.0.0.1", 6200, "sdb3"),
            dev(3, "127.0.0.1", 6200, "sdb4"),
        ];
        let ring = Ring::new(1, 1, devs.iter().cloned().map(Some).collect(), vec![vec![0, 1], vec![2, 3]]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for kind in ["object", "container", "account"] {
            ring.save(&dir.path().join(format!("{kind}.ring"))).unwrap();
        }
        let config = DaemonConfig {
            devices: dir.path().into(),
            swift_dir: dir.path().into(),
            object_port: 6200,
            mount_check: false,
            ..Default::default()
        };
        let node = Node::standalone(config).unwrap();
        assert_eq!(node.local_devices(&ring, 6200), vec!["sdb1".to_string(), "sdb4".to_string()]);
        assert!(node.is_local(&devs[1], 6210) && !node.is_local(&devs[2], 6200));
        assert_eq!(replication_addr(&devs[2]), "10.0.0.1:6200");
        assert_eq!(replication_addr(&dev(9, "::1", 1, "x")), "[::1]:1");
        node.rings.reload().unwrap();
    }
}
