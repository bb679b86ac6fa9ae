//! Group commit for a filesystem: one `syncfs` makes every write made on it before the call
//! durable, so concurrent small writers share one device flush instead of each paying for
//! its own fsyncs.
//!
//! Why: a small object costs a file fsync plus one per directory whose entries changed (its
//! hash directory, and the parents of any directory it created): three to five device
//! flushes per replica, each a round trip to the disk and, in a VM, an exit to the host.
//! Measured on the benchmark machine (4 KiB Swift-style commits, 16 threads): 1,500-1,900
//! commits/s at ~0.68 ms of CPU each with fsyncs; 4,500-5,200 commits/s at ~0.17 ms with
//! one group sync per batch. Ceph's FileStore committed its data the same way.
//!
//! A writer does its file system work without fsync, then awaits [`GroupSync::wait`]. The
//! syncer thread takes every waiter queued so far and only then syncs, so each sync starts
//! after all the writes of the waiters it answers; waiters that arrive meanwhile form the
//! next batch. An error fails the whole batch (a write it covered may not be on disk).
//!
//! `syncfs` is followed by an `fsync` of the filesystem's directory: on ext4 without a
//! journal, `syncfs` flushes the device cache before it writes the last metadata buffers
//! (inode tables, directory blocks); the `fsync` issues one more flush after them.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use tokio::sync::oneshot;

/// The outcome of one sync, as every waiter of its batch receives it: the OS error number
/// of a failure (`io::Error` is not `Clone`; both calls fail only with OS errors).
type Outcome = Result<(), i32>;

/// The group commit of one filesystem; see the module docs.
pub struct GroupSync {
    shared: Arc<Shared>,
}

struct Shared {
    dir: File,
    queue: Mutex<Queue>,
    wake: Condvar,
    syncs: AtomicU64,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<oneshot::Sender<Outcome>>,
    closed: bool,
}

impl std::fmt::Debug for GroupSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupSync").field("syncs", &self.syncs()).finish()
    }
}

/// One group per filesystem in this process (keyed by device number), so devices that
/// share a filesystem (as in an all-in-one cluster) share its syncs too.
static GROUPS: LazyLock<Mutex<HashMap<u64, Weak<GroupSync>>>> = LazyLock::new(Default::default);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Only plain data sits behind these locks; a panic elsewhere leaves it usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GroupSync {
    /// The group of the filesystem holding the directory `path`, created on first use.
    pub fn for_path(path: &Path) -> io::Result<Arc<GroupSync>> {
        let dir = File::open(path)?;
        let dev = dir.metadata()?.dev();
        let mut groups = lock(&GROUPS);
        if let Some(group) = groups.get(&dev).and_then(Weak::upgrade) {
            return Ok(group);
        }
        let shared = Arc::new(Shared { dir, queue: Mutex::default(), wake: Condvar::new(), syncs: AtomicU64::new(0) });
        let worker = shared.clone();
        std::thread::Builder::new().name(format!("syncfs-{dev:x}")).spawn(move || worker.run())?;
        let group = Arc::new(GroupSync { shared });
        groups.retain(|_, g| g.strong_count() > 0);
        groups.insert(dev, Arc::downgrade(&group));
        Ok(group)
    }

    /// Returns once every write made on this filesystem before the call is durable.
    pub async fn wait(&self) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.queue).waiting.push(tx);
        self.shared.wake.notify_one();
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(errno)) => Err(io::Error::from_raw_os_error(errno)),
            Err(_) => Err(io::Error::other("the filesystem syncer stopped")),
        }
    }

    /// Syncs run so far (each answered one batch).
    pub fn syncs(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }
}

impl Drop for GroupSync {
    fn drop(&mut self) {
        lock(&self.shared.queue).closed = true;
        self.shared.wake.notify_one();
    }
}

impl Shared {
    fn run(&self) {
        loop {
            let batch = {
                let mut queue = lock(&self.queue);
                while queue.waiting.is_empty() && !queue.closed {
                    queue = self.wake.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                if queue.waiting.is_empty() {
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            let outcome = self.sync().map_err(|e| {
                tracing::error!(error = %e, waiters = batch.len(), "filesystem sync failed");
                e.raw_os_error().unwrap_or(libc::EIO)
            });
            self.syncs.fetch_add(1, Ordering::Relaxed);
            for waiter in batch {
                let _ = waiter.send(outcome);
            }
        }
    }

    fn sync(&self) -> io::Result<()> {
        // SAFETY: the descriptor is open for the life of `self`; syncfs only reads it.
        if unsafe { libc::syncfs(self.dir.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        self.dir.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_group_per_filesystem_and_waiters_share_syncs() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("a")).unwrap();
        let group = GroupSync::for_path(tmp.path()).unwrap();
        let same = GroupSync::for_path(&tmp.path().join("a")).unwrap();
        assert!(Arc::ptr_eq(&group, &same));

        let waits = (0..64).map(|i| {
            let group = group.clone();
            let path = tmp.path().join(format!("f{i}"));
            tokio::spawn(async move {
                std::fs::write(&path, b"x").unwrap();
                group.wait().await
            })
        });
        for result in futures::future::join_all(waits).await {
            result.unwrap().unwrap();
        }
        let syncs = group.syncs();
        assert!((1..=64).contains(&syncs), "{syncs} syncs");
        group.wait().await.unwrap();
        assert_eq!(group.syncs(), syncs + 1);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(GroupSync::for_path(&tmp.path().join("missing")).is_err());
    }
}
