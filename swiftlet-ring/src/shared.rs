//! A ring that follows its file: servers hold a `SharedRing` and call `current()` per
//! request. A background thread checks the file's mtime (and size and inode) at most every
//! `interval` and swaps in the new ring; `current()` never touches the disk, so it is safe
//! on an async runtime. A file that fails to load is logged and the old ring kept.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use crate::{Ring, RingError};

/// What identifies one version of the file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    mtime: Option<SystemTime>,
    len: u64,
    ino: u64,
}

fn stamp(path: &Path) -> Result<Stamp, RingError> {
    let meta = std::fs::metadata(path).map_err(|e| RingError::io(path, e))?;
    Ok(Stamp { mtime: meta.modified().ok(), len: meta.len(), ino: meta.ino() })
}

struct Inner {
    path: PathBuf,
    ring: RwLock<(Arc<Ring>, Stamp)>,
    /// The version of the file that last failed to load, so the watcher warns once.
    failed: Mutex<Option<Stamp>>,
}

/// A reloading ring handle; cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct SharedRing {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SharedRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRing").field("path", &self.inner.path).finish()
    }
}

impl SharedRing {
    /// Loads the ring now (failing if it cannot) and watches the file every `interval`.
    pub fn open(path: &Path, interval: Duration) -> Result<SharedRing, RingError> {
        let before = stamp(path)?;
        let ring = Ring::load(path)?;
        let inner = Arc::new(Inner {
            path: path.to_path_buf(),
            ring: RwLock::new((Arc::new(ring), before)),
            failed: Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        let interval = interval.max(Duration::from_millis(10));
        std::thread::Builder::new()
            .name("ring-reload".into())
            .spawn(move || watch(weak, interval))
            .map_err(|e| RingError::io(path, e))?;
        Ok(SharedRing { inner })
    }

    /// The ring as of the last check.
    pub fn current(&self) -> Arc<Ring> {
        match self.inner.ring.read() {
            Ok(guard) => guard.0.clone(),
            // A panic while holding the lock cannot leave a half-swapped ring: the swap is
            // a single assignment. Keep serving the value inside.
            Err(poisoned) => poisoned.into_inner().0.clone(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checks the file now and reloads it if it changed; returns whether it did.
    pub fn reload_if_changed(&self) -> Result<bool, RingError> {
        check(&self.inner, true)
    }
}

fn check(inner: &Inner, retry_failed: bool) -> Result<bool, RingError> {
    let now = stamp(&inner.path)?;
    let known = match inner.ring.read() {
        Ok(g) => g.1,
        Err(p) => p.into_inner().1,
    };
    let mut failed = match inner.failed.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if now == known || (!retry_failed && *failed == Some(now)) {
        return Ok(false);
    }
    let ring = match Ring::load(&inner.path) {
        Ok(ring) => Arc::new(ring),
        Err(e) => {
            *failed = Some(now);
            return Err(e);
        }
    };
    let mut guard = match inner.ring.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    *guard = (ring, now);
    tracing::info!(path = %inner.path.display(), "reloaded ring");
    Ok(true)
}

/// Runs until every `SharedRing` handle is dropped.
fn watch(inner: Weak<Inner>, interval: Duration) {
    loop {
        std::thread::sleep(interval);
        let Some(inner) = inner.upgrade() else { return };
        if let Err(e) = check(&inner, false) {
            tracing::warn!(path = %inner.path.display(), error = %e, "ring file not reloaded; keeping the old ring");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Device, RingBuilder};

    fn ring(weights: &[f64]) -> Ring {
        let mut b = RingBuilder::new(4, 1.0, 0).unwrap();
        for (i, &w) in weights.iter().enumerate() {
            b.add_dev(Device::new(i as u32, (1, i as u32), ("127.0.0.1", 6000 + i as u16), "sdb", w)).unwrap();
        }
        b.rebalance(Some(1)).unwrap();
        b.get_ring()
    }

    #[test]
    fn reloads_when_the_file_changes_and_keeps_the_old_ring_on_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("object.ring");
        ring(&[1.0, 1.0]).save(&path).unwrap();
        let shared = SharedRing::open(&path, Duration::from_millis(20)).unwrap();
        assert_eq!(shared.current().devices().count(), 2);
        ring(&[1.0, 1.0, 1.0]).save(&path).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while shared.current().devices().count() != 3 {
            assert!(std::time::Instant::now() < deadline, "ring was not reloaded");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::fs::write(&path, b"SWLTRING garbage").unwrap();
        assert!(shared.reload_if_changed().is_err());
        assert_eq!(shared.current().devices().count(), 3, "a corrupt file never replaces a good ring");
        let clone = shared.clone();
        std::thread::spawn(move || clone.current().partition_count()).join().unwrap();
    }

    #[test]
    fn open_refuses_a_missing_file() {
        assert!(SharedRing::open(Path::new("/nonexistent/object.ring"), Duration::from_secs(1)).is_err());
    }
}
