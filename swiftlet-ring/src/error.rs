//! The one error type of the ring crate.

use std::path::PathBuf;

/// Everything that can go wrong while loading, building or saving a ring.
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a {expected} file (bad magic)", path.display())]
    BadMagic { path: PathBuf, expected: &'static str },
    #[error("{}: unsupported {kind} format version {version}", path.display())]
    UnsupportedVersion { path: PathBuf, kind: &'static str, version: u32 },
    #[error("{}: corrupt file: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("duplicate device: {0}")]
    DuplicateDevice(String),
    #[error("no device with id {0}")]
    NoSuchDevice(u32),
    #[error("device {0} is marked for removal")]
    DeviceMarkedForRemoval(u32),
    #[error("replica count of {replicas} requires more than {devices} devices with weight")]
    NotEnoughDevices { replicas: f64, devices: usize },
    #[error("there are no devices with weight in this ring (total weight is zero)")]
    EmptyRing,
    #[error("the ring has never been rebalanced")]
    NotRebalanced,
    #[error("ring validation failed: {0}")]
    Validation(String),
}

impl RingError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        RingError::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn corrupt(path: &std::path::Path, reason: impl Into<String>) -> Self {
        RingError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
    }
}
