//! The services' TOML config; every key has a default.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ShimConfig {
    pub bind_ip: String,
    pub identity_port: u16,
    pub image_port: u16,
    pub compute_port: u16,
    /// The SQLite databases and the compute hosts' files (image cache, consoles).
    pub state_dir: PathBuf,
    /// The proxy's public Swift API: the image store and the catalog's object-store.
    pub proxy_url: String,
    /// The cluster's token key (`[token] key_file`, or `SWIFTLET_TOKEN_KEY`): Keystone
    /// tokens are signed with a key derived from it, and the proxy holds the same key.
    pub token: swiftlet_token::TokenConfig,
    pub identity: IdentityConfig,
    pub image: ImageConfig,
    pub compute: ComputeConfig,
}

impl Default for ShimConfig {
    fn default() -> Self {
        ShimConfig {
            bind_ip: "127.0.0.1".into(),
            identity_port: 5000,
            image_port: 9292,
            compute_port: 8774,
            state_dir: PathBuf::from("./cloud-data"),
            proxy_url: "http://127.0.0.1:8080".into(),
            token: swiftlet_token::TokenConfig::default(),
            identity: IdentityConfig::default(),
            image: ImageConfig::default(),
            compute: ComputeConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentityConfig {
    /// Seconds a token is valid (Keystone's default is an hour).
    pub token_life: u64,
    pub region: String,
    /// The admin user's password when the database is new. Required (here or in
    /// `admin_password_file`), and never a well-known one: the services refuse to start
    /// otherwise.
    pub admin_password: String,
    /// A file holding the admin password instead; when it is missing, a random password
    /// is generated and written there (mode 0600).
    pub admin_password_file: Option<PathBuf>,
    /// The demo user (member of project `demo`) is created only with a password of its own.
    pub demo_password: String,
    /// saio only, never from a config file: the known test credentials (admin/admin,
    /// demo/demo) are allowed.
    #[serde(skip)]
    pub test_credentials: bool,
    /// Password hashes (argon2, ~19 MiB each) that run at once; 0 is one per core.
    pub password_hash_concurrency: usize,
    /// Logins that may wait for a hash; past them, 503 with Retry-After at once.
    pub password_hash_queue: usize,
    /// Seconds a login waits for a hash before it is answered 503.
    pub password_hash_wait: f64,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            token_life: 3600,
            region: "RegionOne".into(),
            admin_password: String::new(),
            admin_password_file: None,
            demo_password: String::new(),
            test_credentials: false,
            password_hash_concurrency: 0,
            password_hash_queue: 16,
            password_hash_wait: 5.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    /// The container of the service account that holds image data.
    pub container: String,
    /// Images larger than this are stored as segments plus a manifest.
    pub large_object_threshold: u64,
    pub segment_size: u64,
    pub max_image_size: u64,
    /// Seconds to wait for the object store's response headers (small requests).
    pub store_timeout: f64,
    /// Seconds a client may pause between chunks of an upload.
    pub client_timeout: f64,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            container: "glance".into(),
            large_object_threshold: 64 << 20,
            segment_size: 64 << 20,
            max_image_size: 1 << 40,
            store_timeout: 30.0,
            client_timeout: 60.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    Qemu,
    Process,
}

impl DriverKind {
    pub fn name(self) -> &'static str {
        match self {
            DriverKind::Qemu => "qemu",
            DriverKind::Process => "process",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostConfig {
    pub name: String,
    pub driver: DriverKind,
    pub ram_mb: u64,
    pub vcpus: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ComputeConfig {
    /// Compute hosts; a qemu host registers only when the qemu binary is found.
    pub hosts: Vec<HostConfig>,
    pub qemu_binary: String,
    /// Inspects and converts disk images before a VM may open them; a qemu host registers
    /// only when it is found too.
    pub qemu_img_binary: String,
    /// `tcg` (always works) or `kvm`.
    pub qemu_accel: String,
    /// The largest virtual size (bytes) of a disk image the qemu driver boots.
    pub max_disk_virtual_size: u64,
    /// Seconds a boot may spend fetching its images before it fails.
    pub image_timeout: f64,
}

impl Default for ComputeConfig {
    fn default() -> Self {
        ComputeConfig {
            hosts: vec![
                HostConfig { name: "qemu1".into(), driver: DriverKind::Qemu, ram_mb: 4096, vcpus: 2 },
                HostConfig { name: "proc1".into(), driver: DriverKind::Process, ram_mb: 8192, vcpus: 4 },
            ],
            qemu_binary: "qemu-system-x86_64".into(),
            qemu_img_binary: "qemu-img".into(),
            qemu_accel: "tcg".into(),
            // The largest flavor's root disk (m1.xlarge, 160 GB).
            max_disk_virtual_size: 160 << 30,
            image_timeout: 300.0,
        }
    }
}
