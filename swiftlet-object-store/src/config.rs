//! What the device registry needs to open a node's devices. The object server and the
//! standalone daemons each build one from their own TOML config.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct DevicesConfig {
    /// Directory holding one directory (or mount point) per device.
    pub devices: PathBuf,
    /// Refuse a device that is not a mount point, so a missing disk never fills the root fs.
    pub mount_check: bool,
    /// Blocking threads per device; concurrent writes to one device overlap their fsyncs up to this.
    pub threads_per_device: usize,
    /// Jobs that may wait for a device's threads before callers wait asynchronously.
    pub queue_per_device: usize,
    /// Seconds after which tombstones and orphaned `.meta` files are removed.
    pub reclaim_age: u64,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        DevicesConfig {
            devices: PathBuf::from("/srv/node"),
            mount_check: true,
            threads_per_device: 32,
            queue_per_device: 1024,
            reclaim_age: 7 * 24 * 3600,
        }
    }
}

impl DevicesConfig {
    pub fn reclaim_age(&self) -> Duration {
        Duration::from_secs(self.reclaim_age)
    }
}
