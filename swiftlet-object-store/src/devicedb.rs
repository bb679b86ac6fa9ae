//! The per-device RocksDB: cached suffix hashes (Swift's `hashes.pkl` + `hashes.invalid`)
//! and the async-pending queue of container updates (Swift's `async_pending/` dir).
//!
//! Keys, all in the default column family:
//! - `h/<partition:010>` -> the partition's suffix hashes: `[1] + JSON {suffix: md5 hex}`
//! - `i/<partition:010>/<suffix>` -> an invalidation token (8 bytes); a write to the suffix
//!   puts one, and recomputing the suffix deletes it only if it is still the token it read,
//!   so an invalidation racing with a recomputation is never lost.
//! - `a/<object hash>-<timestamp>` -> an async pending, a [`ContainerUpdate`] that could not
//!   be delivered: `[1] + JSON`
//!
//! RocksDB admits one process per database: the object server's process owns it, and
//! in-process daemons share the handle through [`crate::Devices`]. Hash caches and
//! invalidations go to the WAL without fsync: a process crash loses nothing, a machine
//! crash may lose the newest invalidations (Swift's `hashes.invalid` has the same window;
//! the replicator's periodic full rehash repairs it). An async pending is written with a
//! synced WAL write instead: it stands for an acknowledged write's listing row, which
//! nothing else would repair. (Concurrent synced writes share one fsync: RocksDB commits
//! them as a group.) Removing one is not synced: a lost removal only sends it again.

use crate::container_update::ContainerUpdate;
use crate::error::{Result, StoreError};
use common::Timestamp;
use rocksdb::{Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const FORMAT_VERSION: u8 = 1;

pub struct DeviceDb {
    db: DB,
    /// Serialises token compare-and-delete against new invalidations (held for microseconds).
    invalidation: Mutex<()>,
    next_token: AtomicU64,
}

impl std::fmt::Debug for DeviceDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceDb").field("path", &self.db.path()).finish()
    }
}

fn hashes_key(partition: u32) -> String {
    format!("h/{partition:010}")
}

fn invalid_prefix(partition: u32) -> String {
    format!("i/{partition:010}/")
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    let mut out = vec![FORMAT_VERSION];
    serde_json::to_writer(&mut out, v).map_err(|e| StoreError::Internal(format!("encode: {e}")))?;
    Ok(out)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, rest)) => {
            serde_json::from_slice(rest).map_err(|e| StoreError::Internal(format!("bad device db value: {e}")))
        }
        Some((v, _)) => Err(StoreError::Internal(format!("unknown device db value version {v}"))),
        None => Err(StoreError::Internal("empty device db value".into())),
    }
}

impl DeviceDb {
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, &Self::options())
    }

    fn options() -> Options {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.set_max_open_files(64);
        opts.set_keep_log_file_num(2);
        opts.set_max_log_file_size(1 << 20);
        // Small buffers: the data is tiny, and small devices (tests) must not fill up.
        opts.set_write_buffer_size(1 << 20);
        opts.set_manifest_preallocation_size(64 << 10);
        opts
    }

    fn open_with(path: &Path, opts: &Options) -> Result<Self> {
        let db = DB::open(opts, path)?;
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Ok(DeviceDb { db, invalidation: Mutex::new(()), next_token: AtomicU64::new(seed.as_nanos() as u64) })
    }

    /// Marks a suffix as changed; its hash is recomputed on the next [`crate::DiskFileManager::get_hashes`].
    pub fn invalidate_suffix(&self, partition: u32, suffix: &str) -> Result<()> {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let _guard = self.invalidation.lock().unwrap_or_else(|p| p.into_inner());
        self.db.put(format!("{}{suffix}", invalid_prefix(partition)), token)?;
        Ok(())
    }

    /// The cached suffix hashes of a partition, if they were ever computed.
    pub fn cached_hashes(&self, partition: u32) -> Result<Option<BTreeMap<String, String>>> {
        self.db.get(hashes_key(partition))?.map(|v| decode(&v)).transpose()
    }

    /// Suffixes invalidated since the last store, with the tokens to hand back to [`store_hashes`](Self::store_hashes).
    pub fn invalid_suffixes(&self, partition: u32) -> Result<Vec<(String, Vec<u8>)>> {
        let prefix = invalid_prefix(partition);
        let mut out = Vec::new();
        for item in self.db.iterator(IteratorMode::From(prefix.as_bytes(), Direction::Forward)) {
            let (k, v) = item?;
            let Some(suffix) = k.strip_prefix(prefix.as_bytes()) else { break };
            out.push((String::from_utf8_lossy(suffix).into_owned(), v.to_vec()));
        }
        Ok(out)
    }

    /// Stores freshly computed hashes and clears the invalidations they account for.
    pub fn store_hashes(
        &self,
        partition: u32,
        hashes: &BTreeMap<String, String>,
        consumed: &[(String, Vec<u8>)],
    ) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.put(hashes_key(partition), encode(hashes)?);
        let _guard = self.invalidation.lock().unwrap_or_else(|p| p.into_inner());
        let prefix = invalid_prefix(partition);
        for (suffix, token) in consumed {
            let key = format!("{prefix}{suffix}");
            // Keep an invalidation that arrived while we were hashing.
            if self.db.get(&key)?.as_deref() == Some(token.as_slice()) {
                batch.delete(key);
            }
        }
        self.db.write(batch)?;
        Ok(())
    }

    /// Forgets a partition's cached hashes (e.g. after the partition was handed off and removed).
    pub fn forget_partition(&self, partition: u32) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.delete(hashes_key(partition));
        for (suffix, _) in self.invalid_suffixes(partition)? {
            batch.delete(format!("{}{suffix}", invalid_prefix(partition)));
        }
        self.db.write(batch)?;
        Ok(())
    }

    /// Queues an update under `<object hash>-<timestamp>`, on disk when this returns; a
    /// second failure for the same update replaces the first. Returns the key.
    pub fn enqueue_async_pending(
        &self,
        obj_hash: &str,
        timestamp: Timestamp,
        pending: &ContainerUpdate,
    ) -> Result<String> {
        let key = format!("a/{obj_hash}-{}", timestamp.internal());
        let mut durable = WriteOptions::default();
        durable.set_sync(true);
        self.db.put_opt(&key, encode(pending)?, &durable)?;
        Ok(key)
    }

    /// Up to `limit` queued updates in key order, starting after `after` (a key from a
    /// previous call). Unreadable entries are returned as errors for the caller to drop.
    pub fn async_pendings(&self, after: Option<&str>, limit: usize) -> Result<Vec<(String, Result<ContainerUpdate>)>> {
        let start = after.map(|a| format!("{a}\0")).unwrap_or_else(|| "a/".into());
        let mut out = Vec::new();
        for item in self.db.iterator(IteratorMode::From(start.as_bytes(), Direction::Forward)) {
            let (k, v) = item?;
            if !k.starts_with(b"a/") || out.len() >= limit {
                break;
            }
            out.push((String::from_utf8_lossy(&k).into_owned(), decode(&v)));
        }
        Ok(out)
    }

    pub fn remove_async_pending(&self, key: &str) -> Result<()> {
        self.db.delete(key)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::container_update::UpdateOp;

    fn pending(obj: &str) -> ContainerUpdate {
        ContainerUpdate {
            op: UpdateOp::Put,
            account: "a".into(),
            container: "c".into(),
            obj: obj.into(),
            headers: BTreeMap::from([("x-size".to_string(), "3".to_string())]),
            container_path: None,
        }
    }

    #[test]
    fn async_pending_queue() {
        let dir = tempfile::tempdir().unwrap();
        let db = DeviceDb::open(dir.path()).unwrap();
        let ts: Timestamp = "1700000000.00000".parse().unwrap();
        let k1 = db.enqueue_async_pending("aa", ts, &pending("o1")).unwrap();
        let k2 = db.enqueue_async_pending("bb", ts, &pending("o2")).unwrap();
        assert_eq!(db.enqueue_async_pending("aa", ts, &pending("o1")).unwrap(), k1);
        db.invalidate_suffix(1, "abc").unwrap();
        let all = db.async_pendings(None, 10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].1.as_ref().unwrap(), &pending("o1"));
        let page = db.async_pendings(Some(&k1), 10).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].0, k2);
        db.remove_async_pending(&k1).unwrap();
        assert_eq!(db.async_pendings(None, 10).unwrap().len(), 1);
        assert_eq!(db.async_pendings(None, 0).unwrap().len(), 0);
    }

    /// How many times RocksDB synced its write-ahead log, by its own statistics.
    fn wal_syncs(opts: &Options) -> u64 {
        let stats = opts.get_statistics().expect("statistics are on");
        let line = stats.lines().find(|l| l.starts_with("rocksdb.wal.synced ")).expect("the WAL sync ticker");
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn queued_updates_are_on_disk_before_enqueue_returns() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = DeviceDb::options();
        opts.enable_statistics();
        let db = DeviceDb::open_with(dir.path(), &opts).unwrap();
        let before = wal_syncs(&opts);
        // Invalidations may be lost in a crash (the replicator's full rehash repairs them) ...
        db.invalidate_suffix(1, "abc").unwrap();
        assert_eq!(wal_syncs(&opts), before);
        // ... an acknowledged write's pending container update may not.
        let ts: Timestamp = "1700000000.00000".parse().unwrap();
        db.enqueue_async_pending("aa", ts, &pending("o1")).unwrap();
        assert_eq!(wal_syncs(&opts), before + 1, "the pending update was not synced");
    }

    #[test]
    fn invalidation_racing_with_store_survives() {
        let dir = tempfile::tempdir().unwrap();
        let db = DeviceDb::open(dir.path()).unwrap();
        assert_eq!(db.cached_hashes(5).unwrap(), None);
        db.invalidate_suffix(5, "abc").unwrap();
        db.invalidate_suffix(5, "def").unwrap();
        db.invalidate_suffix(6, "abc").unwrap();
        let seen = db.invalid_suffixes(5).unwrap();
        assert_eq!(seen.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["abc", "def"]);
        // A write lands on "def" while the hashes are being computed.
        db.invalidate_suffix(5, "def").unwrap();
        let hashes = BTreeMap::from([("abc".to_string(), "00".to_string())]);
        db.store_hashes(5, &hashes, &seen).unwrap();
        assert_eq!(db.cached_hashes(5).unwrap(), Some(hashes));
        let left = db.invalid_suffixes(5).unwrap();
        assert_eq!(left.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["def"]);
        assert_eq!(db.invalid_suffixes(6).unwrap().len(), 1);
        db.forget_partition(5).unwrap();
        assert_eq!(db.cached_hashes(5).unwrap(), None);
        assert!(db.invalid_suffixes(5).unwrap().is_empty());
    }
}
