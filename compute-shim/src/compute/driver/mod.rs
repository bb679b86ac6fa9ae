//! Drivers turn a boot request into the command that runs the server: `qemu` (a real VM,
//! TCG when there is no KVM) or `process` (a plain process, so the API works on machines
//! without qemu). Both write the server's console to `console.log`.

pub mod process;
pub mod qemu;

use crate::config::{ComputeConfig, DriverKind};
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Everything a driver needs to start one server.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BootSpec {
    pub server_id: String,
    pub name: String,
    pub console: PathBuf,
    /// The server's disk and its format (`raw`, `qcow2`), when the image is a disk.
    pub disk: Option<(PathBuf, String)>,
    pub kernel: Option<PathBuf>,
    pub ramdisk: Option<PathBuf>,
    pub cmdline: String,
    pub ram_mb: u64,
    pub vcpus: u32,
    pub network: bool,
    pub image_id: String,
    pub image_size: u64,
    pub image_md5: String,
}

pub fn command(kind: DriverKind, cfg: &ComputeConfig, spec: &BootSpec) -> Command {
    match kind {
        DriverKind::Qemu => qemu::command(&cfg.qemu_binary, &cfg.qemu_accel, spec),
        DriverKind::Process => process::command(spec),
    }
}

/// Whether a driver can run here: qemu needs its binary and `qemu-img` (which checks every
/// disk before qemu opens it) on PATH (or at the given paths).
pub fn available(kind: DriverKind, cfg: &ComputeConfig) -> bool {
    match kind {
        DriverKind::Process => true,
        DriverKind::Qemu => find_binary(&cfg.qemu_binary).is_some() && find_binary(&cfg.qemu_img_binary).is_some(),
    }
}

pub fn find_binary(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
}
