//! Where databases live on disk, device checks (507 for a missing or unmounted device),
//! quarantine of damaged databases, and walking a device's databases.
//!
//! `<devices>/<dev>/<datadir>/<part>/<suffix>/<hash>/<hash>.db`, `suffix` being the last
//! three hex digits of the hash; a damaged DB's whole `<hash>` directory moves to
//! `<devices>/<dev>/quarantined/<datadir>/<hash>[-<random>]`.

use super::error::{BrokerError, Result};
use super::DbKind;
use common::path::validate_device;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where one DB lives: device, partition and the 32-hex-digit placement hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DbLocation {
    pub device: String,
    pub partition: u32,
    pub hash: String,
}

pub fn is_hash(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The path of the DB at `loc` (validating the device name and the hash).
pub fn db_path(devices: &Path, kind: DbKind, loc: &DbLocation) -> Result<PathBuf> {
    validate_device(&loc.device).map_err(|e| BrokerError::BadDevice(e.to_string()))?;
    if !is_hash(&loc.hash) {
        return Err(BrokerError::BadInput(format!("Invalid hash {:?}", loc.hash.chars().take(40).collect::<String>())));
    }
    let suffix = &loc.hash[loc.hash.len() - 3..];
    Ok(devices
        .join(&loc.device)
        .join(kind.datadir())
        .join(loc.partition.to_string())
        .join(suffix)
        .join(&loc.hash)
        .join(format!("{}.db", loc.hash)))
}

/// Checks the device is usable: a mount point when `mount_check`, else a directory.
pub fn check_device(devices: &Path, device: &str, mount_check: bool) -> Result<PathBuf> {
    validate_device(device).map_err(|e| BrokerError::BadDevice(e.to_string()))?;
    let path = devices.join(device);
    let ok = if mount_check { is_mount(&path) } else { path.is_dir() };
    if ok {
        Ok(path)
    } else {
        Err(BrokerError::Unmounted(device.to_string()))
    }
}

fn is_mount(path: &Path) -> bool {
    let (Ok(me), Ok(parent)) = (std::fs::metadata(path), std::fs::metadata(path.join(".."))) else {
        return false;
    };
    me.is_dir() && (me.dev() != parent.dev() || me.ino() == parent.ino())
}

/// Moves the DB's directory aside; returns where it went.
pub fn quarantine(devices: &Path, kind: DbKind, loc: &DbLocation, reason: &str) -> Result<PathBuf> {
    let db = db_path(devices, kind, loc)?;
    let dir = db.parent().map(Path::to_path_buf).ok_or_else(|| BrokerError::NotFound(db.clone()))?;
    let qdir = devices.join(&loc.device).join("quarantined").join(kind.datadir());
    std::fs::create_dir_all(&qdir).map_err(|e| BrokerError::io(&qdir, e))?;
    let mut dest = qdir.join(&loc.hash);
    if dest.exists() {
        dest = qdir.join(format!("{}-{:016x}", loc.hash, rand::random::<u64>()));
    }
    std::fs::rename(&dir, &dest).map_err(|e| BrokerError::io(&dir, e))?;
    tracing::error!(db = %db.display(), to = %dest.display(), reason, "quarantined database");
    Ok(dest)
}

/// Every DB on `device` (for replicators and updaters), in no particular order.
pub fn walk(devices: &Path, kind: DbKind, device: &str) -> Result<Vec<DbLocation>> {
    let root = devices.join(device).join(kind.datadir());
    let mut found = Vec::new();
    let read = |p: &Path| -> Vec<(String, PathBuf)> {
        std::fs::read_dir(p)
            .map(|it| {
                it.filter_map(|e| e.ok()).map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())).collect()
            })
            .unwrap_or_default()
    };
    for (part, part_path) in read(&root) {
        let Ok(partition) = part.parse::<u32>() else { continue };
        for (_suffix, suffix_path) in read(&part_path) {
            for (hash, hash_path) in read(&suffix_path) {
                if is_hash(&hash) && hash_path.join(format!("{hash}.db")).is_file() {
                    found.push(DbLocation { device: device.to_string(), partition, hash });
                }
            }
        }
    }
    Ok(found)
}
