//! The store's one error type. It names what went wrong on a device or with a peer, never
//! an HTTP status: the object server maps each variant to one in its own error type.

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An invalid device name.
    #[error("{0}")]
    Path(#[from] common::path::PathError),
    /// The stored name differs from the requested one under the same hash.
    #[error("Client path does not match path stored in object metadata")]
    Collision,
    #[error("{device} is not available: {reason}")]
    DeviceUnavailable { device: String, reason: String },
    #[error("{0}: the filesystem does not support user xattrs")]
    XattrNotSupported(String),
    #[error("no space left on device")]
    NoSpace,
    #[error("object quarantined: {0}")]
    Quarantined(String),
    #[error("device pool of {0} is shut down")]
    PoolClosed(String),
    /// An SSYNC stream that breaks the protocol (an oversized or unreadable frame header).
    #[error("{0}")]
    BadFrame(String),
    /// An SSYNC stream that ended in the middle of a frame.
    #[error("SSYNC stream ended mid-frame")]
    Truncated,
    /// A peer (object or container server) could not be reached or answered badly.
    #[error("{0}")]
    Remote(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("device database error: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    /// Maps a write-side I/O error: a full disk (or quota) is `NoSpace`.
    pub fn from_write(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => StoreError::NoSpace,
            _ => StoreError::Io(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disks_are_no_space() {
        let enospc = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(matches!(StoreError::from_write(enospc), StoreError::NoSpace));
        let eio = std::io::Error::from_raw_os_error(libc::EIO);
        assert!(matches!(StoreError::from_write(eio), StoreError::Io(_)));
    }
}
