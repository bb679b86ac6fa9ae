//! `DiskFileManager`: one device's paths, hash directories, cleanup of superseded files,
//! suffix hashes (cached in the device DB) and quarantine. The object server never builds
//! a path itself; the replicator and auditor walk a device through these methods.

use super::ondisk::FileSet;
use super::DiskFile;
use crate::devicedb::DeviceDb;
use crate::error::Result;
use common::{HashPathSecret, Timestamp};
use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub const OBJECTS_DIR: &str = "objects";
pub const TMP_DIR: &str = "tmp";
pub const QUARANTINE_DIR: &str = "quarantined/objects";

#[derive(Clone)]
pub struct DiskFileManager {
    inner: Arc<Inner>,
}

struct Inner {
    device: String,
    root: PathBuf,
    secret: HashPathSecret,
    reclaim_age: Duration,
    db: Arc<DeviceDb>,
}

impl std::fmt::Debug for DiskFileManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskFileManager").field("device", &self.inner.device).field("root", &self.inner.root).finish()
    }
}

/// A suffix directory name: three lowercase hex digits.
pub fn is_suffix(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An object hash directory name: 32 lowercase hex digits.
pub fn is_hash(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The suffix of a hash: its last three hex digits.
pub fn suffix_of(hash: &str) -> &str {
    &hash[hash.len().saturating_sub(3)..]
}

fn sorted_names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect();
    names.sort_unstable();
    Ok(names)
}

/// Lists a directory, treating "not there" as empty.
fn names_or_empty(dir: &Path) -> Result<Vec<String>> {
    match sorted_names(dir) {
        Ok(n) => Ok(n),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound) || e.raw_os_error() == Some(libc::ENOTDIR) => Ok(vec![]),
        Err(e) => Err(e.into()),
    }
}

impl DiskFileManager {
    pub fn new(device: &str, root: PathBuf, secret: HashPathSecret, reclaim_age: Duration, db: Arc<DeviceDb>) -> Self {
        DiskFileManager { inner: Arc::new(Inner { device: device.to_string(), root, secret, reclaim_age, db }) }
    }

    pub fn device(&self) -> &str {
        &self.inner.device
    }
    pub fn device_path(&self) -> &Path {
        &self.inner.root
    }
    pub fn db(&self) -> &Arc<DeviceDb> {
        &self.inner.db
    }
    pub fn secret(&self) -> &HashPathSecret {
        &self.inner.secret
    }
    pub fn reclaim_age(&self) -> Duration {
        self.inner.reclaim_age
    }
    pub fn objects_dir(&self) -> PathBuf {
        self.inner.root.join(OBJECTS_DIR)
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.inner.root.join(TMP_DIR)
    }
    pub fn quarantine_dir(&self) -> PathBuf {
        self.inner.root.join(QUARANTINE_DIR)
    }
    pub fn partition_dir(&self, partition: u32) -> PathBuf {
        self.objects_dir().join(partition.to_string())
    }

    /// `<dev>/objects/<partition>/<suffix>/<hash>`.
    pub fn hash_dir(&self, partition: u32, hash: &str) -> PathBuf {
        self.partition_dir(partition).join(suffix_of(hash)).join(hash)
    }

    /// The directory name of `/account/container/object`.
    pub fn object_hash(&self, account: &str, container: &str, obj: &str) -> String {
        self.inner.secret.hash_hex(account, Some(container), Some(obj))
    }

    /// The object named `/account/container/object` in `partition`.
    pub fn diskfile(&self, partition: u32, account: &str, container: &str, obj: &str) -> DiskFile {
        let hash = self.object_hash(account, container, obj);
        DiskFile::new(self.clone(), partition, hash, Some(format!("/{account}/{container}/{obj}")))
    }

    /// The object in a hash directory, name unknown (replication and auditing walk by hash).
    pub fn diskfile_for_hash(&self, partition: u32, hash: &str) -> DiskFile {
        DiskFile::new(self.clone(), partition, hash.to_string(), None)
    }

    /// Partitions present on this device.
    pub fn partitions(&self) -> Result<Vec<u32>> {
        let mut parts: Vec<u32> = names_or_empty(&self.objects_dir())?.iter().filter_map(|n| n.parse().ok()).collect();
        parts.sort_unstable();
        Ok(parts)
    }

    /// Suffix directories of a partition.
    pub fn suffixes(&self, partition: u32) -> Result<Vec<String>> {
        Ok(names_or_empty(&self.partition_dir(partition))?.into_iter().filter(|n| is_suffix(n)).collect())
    }

    /// Object hashes in one suffix directory.
    pub fn hashes(&self, partition: u32, suffix: &str) -> Result<Vec<String>> {
        let dir = self.partition_dir(partition).join(suffix);
        Ok(names_or_empty(&dir)?.into_iter().filter(|n| is_hash(n) && n.ends_with(suffix)).collect())
    }

    /// The live files of an object after removing what is superseded or reclaimable.
    pub fn list_files(&self, partition: u32, hash: &str) -> Result<FileSet> {
        self.cleanup_hash_dir(&self.hash_dir(partition, hash))
    }

    /// Deletes superseded files (and old tombstones) in a hash directory; removes the
    /// directory when nothing is left. Returns what remains live.
    ///
    /// The files that supersede the removed ones are fsynced first, with the directory: one
    /// may be a write still waiting for its group sync (see `superseded.rs`), and a crash
    /// must not find the old file gone and the new one not yet on disk. This costs fsyncs
    /// only when something is removed, which a writer normally does itself after its sync.
    pub fn cleanup_hash_dir(&self, dir: &Path) -> Result<FileSet> {
        let set = FileSet::select(names_or_empty(dir)?);
        let removable = set.removable(Timestamp::now(), self.inner.reclaim_age);
        if removable.is_empty() {
            return Ok(set);
        }
        for f in set.live().filter(|f| !removable.contains(f)) {
            match std::fs::File::open(dir.join(f.file_name())) {
                Ok(file) => file.sync_all()?,
                // A racing cleanup removed it: nothing of it is ours to protect.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        std::fs::File::open(dir)?.sync_all()?;
        self.unlink_all(dir, &removable)?;
        Ok(FileSet::select(names_or_empty(dir)?))
    }

    /// The names in a directory ("not there" is empty).
    pub(crate) fn names_in(&self, dir: &Path) -> Result<Vec<String>> {
        names_or_empty(dir)
    }

    /// Unlinks `files` from `dir` (ones already gone are fine), then removes `dir` if no
    /// object file is left in it.
    pub(crate) fn unlink_all(&self, dir: &Path, files: &[super::OnDiskFile]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        for f in files {
            match std::fs::remove_file(dir.join(f.file_name())) {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        let set = FileSet::select(names_or_empty(dir)?);
        if set.live().next().is_none() && set.orphan_meta.is_empty() && set.unexpected.is_empty() {
            // A racing writer may have just added a file: then the directory is not empty.
            let _ = std::fs::remove_dir(dir);
        }
        Ok(())
    }

    /// The MD5 over every object's live file names in a suffix (Swift's suffix hash), after
    /// cleanup; `None` when the suffix holds nothing (its directory is then removed).
    pub fn hash_suffix(&self, partition: u32, suffix: &str) -> Result<Option<String>> {
        let dir = self.partition_dir(partition).join(suffix);
        let mut md5 = Md5::new();
        let mut any = false;
        for hash in self.hashes(partition, suffix)? {
            let set = self.cleanup_hash_dir(&dir.join(&hash))?;
            for f in set.live() {
                md5.update(f.file_name().as_bytes());
                any = true;
            }
        }
        if !any {
            let _ = std::fs::remove_dir(&dir);
            return Ok(None);
        }
        Ok(Some(hex::encode(md5.finalize())))
    }

    /// The suffix hashes of a partition (what REPLICATE answers). Cached in the device DB:
    /// only suffixes invalidated by writes since the last call, plus `recalculate`, are
    /// rehashed; a partition never hashed before is hashed entirely.
    pub fn get_hashes(&self, partition: u32, recalculate: &[String]) -> Result<BTreeMap<String, String>> {
        let db = &self.inner.db;
        let invalid = db.invalid_suffixes(partition)?;
        let (mut hashes, todo): (BTreeMap<String, String>, Vec<String>) = match db.cached_hashes(partition)? {
            Some(cached) => {
                let mut todo: Vec<String> = invalid.iter().map(|(s, _)| s.clone()).collect();
                todo.extend(recalculate.iter().filter(|s| is_suffix(s)).cloned());
                (cached, todo)
            }
            None => (BTreeMap::new(), self.suffixes(partition)?),
        };
        for suffix in todo {
            match self.hash_suffix(partition, &suffix)? {
                Some(h) => hashes.insert(suffix, h),
                None => hashes.remove(&suffix),
            };
        }
        db.store_hashes(partition, &hashes, &invalid)?;
        Ok(hashes)
    }

    /// Marks the suffix holding `hash` as changed.
    pub fn invalidate(&self, partition: u32, hash: &str) -> Result<()> {
        self.inner.db.invalidate_suffix(partition, suffix_of(hash))
    }

    /// Moves a damaged object's hash directory to `<dev>/quarantined/objects/`, where the
    /// replicator no longer sees it (so it restores a good copy).
    pub fn quarantine(&self, partition: u32, hash: &str, reason: &str) -> Result<PathBuf> {
        let from = self.hash_dir(partition, hash);
        let qdir = self.quarantine_dir();
        std::fs::create_dir_all(&qdir)?;
        let mut to = qdir.join(hash);
        if to.exists() {
            to = qdir.join(format!("{hash}-{:016x}", rand::random::<u64>()));
        }
        std::fs::rename(&from, &to)?;
        tracing::warn!(device = %self.inner.device, from = %from.display(), to = %to.display(), reason, "quarantined object");
        self.invalidate(partition, hash)?;
        Ok(to)
    }

    /// Removes temp files left by writes that never finished (a crash or kill mid-upload).
    /// With `older_than`, only files at least that old (so in-flight writes are spared).
    pub fn clean_tmp(&self, older_than: Option<Duration>) -> Result<usize> {
        let dir = self.tmp_dir();
        let now = SystemTime::now();
        let mut removed = 0;
        for name in names_or_empty(&dir)? {
            let path = dir.join(&name);
            if let Some(age) = older_than {
                let modified = std::fs::metadata(&path).and_then(|m| m.modified()).unwrap_or(now);
                if now.duration_since(modified).unwrap_or_default() < age {
                    continue;
                }
            }
            if std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diskfile::ondisk::{FileKind, OnDiskFile};

    fn manager(dir: &Path) -> DiskFileManager {
        let db = Arc::new(DeviceDb::open(&dir.join("db")).unwrap());
        DiskFileManager::new("sda", dir.to_path_buf(), HashPathSecret::new("p", "s"), Duration::from_secs(3600), db)
    }

    fn touch(dir: &Path, f: OnDiskFile) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(f.file_name()), b"").unwrap();
    }

    #[test]
    fn walks_and_hashes_with_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let m = manager(tmp.path());
        let hash = m.object_hash("a", "c", "o");
        let dir = m.hash_dir(7, &hash);
        let now = Timestamp::now();
        touch(&dir, OnDiskFile::new(now, FileKind::Data));
        assert_eq!(m.partitions().unwrap(), vec![7]);
        let suffix = suffix_of(&hash).to_string();
        assert_eq!(m.suffixes(7).unwrap(), vec![suffix.clone()]);
        assert_eq!(m.hashes(7, &suffix).unwrap(), vec![hash.clone()]);
        let h1 = m.get_hashes(7, &[]).unwrap();
        assert_eq!(h1.len(), 1);
        // A write that is not invalidated is not seen (the cache is trusted) ...
        let newer = Timestamp::from_ticks(now.ticks() + 1);
        touch(&dir, OnDiskFile::new(newer, FileKind::Tombstone));
        assert_eq!(m.get_hashes(7, &[]).unwrap(), h1);
        // ... until the suffix is invalidated or explicitly recalculated.
        m.invalidate(7, &hash).unwrap();
        let h2 = m.get_hashes(7, &[]).unwrap();
        assert_ne!(h2, h1);
        assert_eq!(m.list_files(7, &hash).unwrap().tombstone.map(|f| f.timestamp), Some(newer));
        // The superseded data file was cleaned up while hashing.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert_eq!(m.get_hashes(7, std::slice::from_ref(&suffix)).unwrap(), h2);
    }

    #[test]
    fn old_tombstones_are_reclaimed_and_dirs_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let m = manager(tmp.path());
        let hash = m.object_hash("a", "c", "old");
        let dir = m.hash_dir(1, &hash);
        touch(&dir, OnDiskFile::new("1000000000.00000".parse().unwrap(), FileKind::Tombstone));
        assert_eq!(m.get_hashes(1, &[]).unwrap(), BTreeMap::new());
        assert!(!dir.exists());
        assert!(!dir.parent().unwrap().exists());
    }

    #[test]
    fn quarantine_and_tmp_cleanup() {
        let tmp = tempfile::tempdir().unwrap();
        let m = manager(tmp.path());
        let hash = m.object_hash("a", "c", "q");
        touch(&m.hash_dir(2, &hash), OnDiskFile::new(Timestamp::now(), FileKind::Data));
        let to = m.quarantine(2, &hash, "test").unwrap();
        assert!(to.starts_with(m.quarantine_dir()));
        assert!(!m.hash_dir(2, &hash).exists());
        std::fs::create_dir_all(m.tmp_dir()).unwrap();
        std::fs::write(m.tmp_dir().join("x.tmp"), b"partial").unwrap();
        assert_eq!(m.clean_tmp(Some(Duration::from_secs(3600))).unwrap(), 0);
        assert_eq!(m.clean_tmp(None).unwrap(), 1);
        assert!(is_suffix("0af") && !is_suffix("0AF") && !is_suffix("../"));
        assert!(is_hash(&hash) && !is_hash("x"));
    }
}
