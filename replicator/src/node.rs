//! What every daemon of one storage node shares: its config, the three rings, an HTTP
//! client, and the storage handles — the object devices registry and the container and
//! account DB stores.
//!
//! RocksDB admits one opener per device DB and the DB stores cache open connections, so
//! daemons running inside the storage node's process must share the servers' handles
//! ([`Node::in_process`], as `saio` does). [`Node::standalone`] opens its own, for the
//! `replicator` binary on a node whose servers are stopped.
//!
//! Every request the daemons send (REPLICATE, SSYNC, DB replication, container and account
//! updates, the expirer's deletes) goes through [`Node::client`], which signs it with the
//! cluster's backend key: storage servers refuse unsigned requests.

use crate::config::DaemonConfig;
use crate::error::Result;
use common::http::HttpClient;
use common::secrets::Secrets;
use common::HashPathSecret;
use container_server::AccountUpdater;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_broker::{DbKind, Store};
use swiftlet_object_store::{Device as ObjectDevice, Devices};
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
    /// The placement secret (the rings' and the disk layout's hashes).
    pub secret: HashPathSecret,
    pub rings: Rings,
    /// Signs every request with the cluster's backend key.
    pub client: HttpClient,
    pub storage: Storage,
}

fn signing_client(config: &DaemonConfig, secrets: &Secrets) -> HttpClient {
    HttpClient::new(config.conn_timeout()).with_signer(secrets.backend.signer.clone())
}

/// `ip:port` of a device's replication address.
pub fn replication_addr(dev: &Device) -> String {
    format!("{}:{}", swiftlet_ring::device::bracket(&dev.replication_ip), dev.replication_port)
}

impl Node {
    /// Daemons inside the storage node's process, sharing its servers' handles and secrets.
    pub fn in_process(config: DaemonConfig, secrets: &Secrets, rings: Rings, storage: Storage) -> Arc<Node> {
        let client = signing_client(&config, secrets);
        Arc::new(Node { config, secret: secrets.hash_path.clone(), rings, client, storage })
    }

    /// Daemons in their own process: loads the secrets (refusing to run without a
    /// placement secret and a private backend key), opens the rings and the storage handles.
    pub fn standalone(config: DaemonConfig) -> Result<Arc<Node>> {
        let secrets = Secrets::load(&config.hash_path, &config.backend)?;
        let secret = secrets.hash_path.clone();
        let rings = Rings::open(&config.swift_dir, crate::config::secs(config.ring_check_interval))?;
        let objects = Devices::new(config.object_devices_config(), secret.clone());
        let containers = Store::new(DbKind::Container, config.store_config(), secret.clone());
        let accounts = Store::new(DbKind::Account, config.store_config(), secret);
        let client = signing_client(&config, &secrets);
        let account_updater = AccountUpdater::new(containers.clone(), client, config.node_timeout());
        let storage = Storage { objects, containers, accounts, account_updater };
        Ok(Self::in_process(config, &secrets, rings, storage))
    }

    /// Whether `dev` is one of this node's devices for the server listening on `port`.
    pub fn is_local(&self, dev: &Device, port: u16) -> bool {
        dev.replication_port == port
            && swiftlet_ring::device::normalize_ip(&dev.replication_ip)
                == swiftlet_ring::device::normalize_ip(&self.config.ip)
    }

    /// Object device `name` and its partitions, or why they could not be read (for a
    /// pass's report).
    pub async fn object_partitions(&self, name: &str) -> std::result::Result<(Arc<ObjectDevice>, Vec<u32>), String> {
        let device = self.storage.objects.get(name).await.map_err(|e| format!("device {name}: {e}"))?;
        let manager = device.manager.clone();
        let parts = device
            .pool
            .run_io(move || manager.partitions())
            .await
            .map_err(|e| format!("device {name}: listing partitions: {e}"))?;
        Ok((device, parts))
    }

    /// This node's object devices, by name, each once.
    pub fn local_object_devices(&self) -> Vec<String> {
        self.local_devices(&self.rings.object.current(), self.config.object_port)
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
    use common::backend_auth::{BackendConfig, BackendKey};

    fn dev(id: u32, ip: &str, port: u16, name: &str) -> Device {
        Device::new(id, (1, id + 1), (ip, port), name, 1.0)
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
            hash_path: HashPathSecret::new("", "s3cr3t"),
            backend: BackendConfig { key: Some(BackendKey::generate().to_hex()), ..Default::default() },
            ..Default::default()
        };
        let node = Node::standalone(config.clone()).unwrap();
        assert_eq!(node.local_devices(&ring, 6200), vec!["sdb1".to_string(), "sdb4".to_string()]);
        assert!(node.is_local(&devs[1], 6210) && !node.is_local(&devs[2], 6200));
        assert_eq!(replication_addr(&devs[2]), "10.0.0.1:6200");
        assert_eq!(replication_addr(&dev(9, "::1", 1, "x")), "[::1]:1");
        node.rings.reload().unwrap();
    }

    #[test]
    fn standalone_daemons_refuse_to_run_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let base = DaemonConfig { devices: dir.path().into(), swift_dir: dir.path().into(), ..Default::default() };
        let no_hash_path = DaemonConfig {
            backend: BackendConfig { key: Some(BackendKey::generate().to_hex()), ..Default::default() },
            ..base.clone()
        };
        let err = Node::standalone(no_hash_path).err().unwrap().to_string();
        assert!(err.contains("[hash_path]"), "{err}");
        let no_key = DaemonConfig { hash_path: HashPathSecret::new("", "s3cr3t"), ..base };
        if std::env::var_os(common::backend_auth::KEY_ENV).is_none() {
            let err = Node::standalone(no_key).err().unwrap().to_string();
            assert!(err.contains("no backend key"), "{err}");
        }
    }
}
