//! The object server's TOML config: one serde struct, a default for every key.

use common::backend_auth::BackendConfig;
use common::server::StartError;
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
    /// Address to listen on, `IP:PORT` (the binary's `--bind` overrides it).
    #[serde(deserialize_with = "common::server::deserialize_bind")]
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
    /// Directory of `container.ring`: container updates go only to the devices it names.
    pub swift_dir: PathBuf,
    /// Seconds between checks of the ring file for changes.
    pub ring_check_interval: f64,
    /// The cluster's hash-path secret (names directories on disk; `SWIFTLET_HASH_PATH_PREFIX`
    /// and `_SUFFIX` override it). The binary refuses to start without one.
    pub hash_path: HashPathSecret,
    /// Where the cluster's backend key is: every request to this server must be signed with
    /// it, and so is every request it sends. The binary refuses to start without one.
    pub backend: BackendConfig,
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
            swift_dir: PathBuf::from("/etc/swiftlet"),
            ring_check_interval: 15.0,
            hash_path: HashPathSecret::default(),
            backend: BackendConfig::default(),
        }
    }
}

/// Seconds as a duration; negative is zero, and one too large for a `Duration` (`inf`) is
/// about a century instead of a panic.
fn secs(v: f64) -> Duration {
    Duration::try_from_secs_f64(v.max(0.0)).unwrap_or(Duration::from_secs(u32::MAX.into()))
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
    pub fn ring_check_interval(&self) -> Duration {
        secs(self.ring_check_interval)
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

impl common::server::ServerConfig for ObjectServerConfig {
    fn bind_addr(&self) -> (String, u16) {
        common::server::bind_pair(&self.bind)
    }

    fn set_bind_addr(&mut self, ip: String, port: u16) {
        self.bind = common::server::join_bind(&ip, port);
    }

    fn set_devices(&mut self, devices: PathBuf) -> Result<(), StartError> {
        self.devices = devices;
        Ok(())
    }

    fn set_mount_check(&mut self, on: bool) -> Result<(), StartError> {
        self.mount_check = on;
        Ok(())
    }

    fn set_swift_dir(&mut self, dir: PathBuf) -> Result<(), StartError> {
        self.swift_dir = dir;
        Ok(())
    }

    fn hash_path(&self) -> &HashPathSecret {
        &self.hash_path
    }

    fn backend(&self) -> &BackendConfig {
        &self.backend
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

    #[test]
    fn bind_is_one_address() {
        use common::server::ServerConfig;
        let mut c = ObjectServerConfig::default();
        assert_eq!(c.bind_addr(), ("127.0.0.1".to_string(), 6200));
        c.set_bind_addr("::1".into(), 7000);
        assert_eq!((c.bind.as_str(), c.bind_addr()), ("[::1]:7000", ("::1".to_string(), 7000)));
        assert!(toml::from_str::<ObjectServerConfig>("bind = '127.0.0.1'").is_err());
        let c: ObjectServerConfig = toml::from_str("node_timeout = inf\nconn_timeout = nan").unwrap();
        assert!(c.node_timeout() > Duration::from_secs(3_000_000_000) && c.conn_timeout().is_zero());
    }
}
