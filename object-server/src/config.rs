//! The object server's TOML config: one serde struct, a default for every key.

use common::HashPathSecret;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use swiftlet_object_store::DevicesConfig;

/// Headers a client may set on an object besides `X-Object-Meta-*` (Swift's `allowed_headers`).
pub const DEFAULT_ALLOWED_HEADERS: &[&str] = &[
    "content-disposition",
    "content-encoding",
    "x-delete-at",
    "x-object-manifest",
    "x-static-large-object",
    "cache-control",
    "content-language",
    "expires",
    "x-robots-tag",
];

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectServerConfig {
    /// Address to listen on (the binary's `--bind` overrides it).
    pub bind: String,
    /// Directory holding one directory (or mount point) per device.
    pub devices: PathBuf,
    /// Refuse (507) a device that is not a mount point, so a missing disk never fills the root fs.
    pub mount_check: bool,
    /// Blocking threads per device; concurrent PUTs to one device overlap their fsyncs up to this.
    pub threads_per_device: usize,
    /// Jobs that may wait for a device's threads before callers wait asynchronously.
    pub queue_per_device: usize,
    /// Seconds a PUT/POST/DELETE waits for its container updates before answering anyway.
    pub container_update_timeout: f64,
    /// Seconds to connect to a container server.
    pub conn_timeout: f64,
    /// Seconds a container server has to answer an update.
    pub node_timeout: f64,
    /// Seconds to wait for each chunk of a client's request body.
    pub client_timeout: f64,
    /// Bytes per disk read/write job when streaming bodies.
    pub disk_chunk_size: usize,
    /// Tombstones and orphaned `.meta` files older than this many seconds are removed.
    pub reclaim_age: u64,
    /// Headers stored with an object and returned on GET/HEAD.
    pub allowed_headers: Vec<String>,
    /// Connections served at once.
    pub max_connections: usize,
    /// The cluster's hash-path secret (names directories on disk). `serve` takes it explicitly.
    pub hash_path: HashPathSecret,
}

impl Default for ObjectServerConfig {
    fn default() -> Self {
        ObjectServerConfig {
            bind: "127.0.0.1:6200".into(),
            devices: PathBuf::from("/srv/node"),
            mount_check: true,
            threads_per_device: 32,
            queue_per_device: 1024,
            container_update_timeout: 1.0,
            conn_timeout: 0.5,
            node_timeout: 3.0,
            client_timeout: 60.0,
            disk_chunk_size: 1 << 20,
            reclaim_age: 7 * 24 * 3600,
            allowed_headers: DEFAULT_ALLOWED_HEADERS.iter().map(|s| s.to_string()).collect(),
            max_connections: 4096,
            hash_path: HashPathSecret::default(),
        }
    }
}

fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.0))
}

impl ObjectServerConfig {
    pub fn container_update_timeout(&self) -> Duration {
        secs(self.container_update_timeout)
    }
    pub fn conn_timeout(&self) -> Duration {
        secs(self.conn_timeout)
    }
    pub fn node_timeout(&self) -> Duration {
        secs(self.node_timeout)
    }
    pub fn client_timeout(&self) -> Duration {
        secs(self.client_timeout)
    }
    /// What the store's device registry takes from this config.
    pub fn devices_config(&self) -> DevicesConfig {
        DevicesConfig {
            devices: self.devices.clone(),
            mount_check: self.mount_check,
            threads_per_device: self.threads_per_device,
            queue_per_device: self.queue_per_device,
            reclaim_age: self.reclaim_age,
        }
    }
    /// Allowed headers, lowercased, minus the ones the server computes itself.
    pub fn allowed_headers(&self) -> Vec<String> {
        self.allowed_headers
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty() && !matches!(h.as_str(), "content-length" | "etag" | "deleted"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_default() {
        let c: ObjectServerConfig = toml::from_str("").unwrap();
        assert_eq!(c, ObjectServerConfig::default());
        let c: ObjectServerConfig =
            toml::from_str("mount_check = false\nthreads_per_device = 4\n[hash_path]\nsuffix = 's'\n").unwrap();
        assert!(!c.mount_check);
        assert_eq!(c.threads_per_device, 4);
        assert_eq!(c.hash_path.suffix, "s");
        assert!(toml::from_str::<ObjectServerConfig>("no_such_key = 1").is_err());
        let c = ObjectServerConfig { allowed_headers: vec![" ETag".into(), "X-Foo".into()], ..Default::default() };
        assert_eq!(c.allowed_headers(), vec!["x-foo".to_string()]);
    }
}
