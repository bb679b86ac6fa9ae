//! `DiskFileWriter`: writes one object file durably.
//!
//! A temp file in `<dev>/tmp` receives the body (hashed with MD5 for the ETag and the body
//! checksum for readers and the auditor as it streams), then the metadata ([`put`](DiskFileWriter::put): xattrs or spill,
//! then fsync), then [`commit`](DiskFileWriter::commit) renames it to
//! `<hash dir>/<timestamp>.<ext>`, fsyncs the directory (and the parents of any directory it
//! had to create), removes superseded files and invalidates the suffix hash. A writer told
//! to [`defer_sync`](DiskFileWriter::defer_sync) skips those fsyncs: its caller makes the
//! write durable with the device's group sync before acknowledging it, and only then
//! removes the files it superseded ([`Superseded`]). Until commit,
//! nothing is visible; dropping an uncommitted writer deletes its temp file, and a crash
//! leaves only a temp file that [`DiskFileManager::clean_tmp`] removes at startup.

use super::checksum::{Algorithm, BodyHasher};
use super::manager::DiskFileManager;
use super::ondisk::{FileKind, OnDiskFile};
use super::superseded::{remove_superseded, Superseded};
use super::xattrs::{self, Stored};
use crate::error::{Result, StoreError};
use common::metadata::Metadata;
use common::Timestamp;
use md5::{Digest, Md5};
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Bytes written between writeback kicks.
const WRITEBACK_EVERY: u64 = 8 << 20;

pub struct DiskFileWriter {
    manager: DiskFileManager,
    partition: u32,
    hash: String,
    tmp_path: PathBuf,
    file: File,
    written: u64,
    /// Bytes handed to writeback so far (see `start_writeback`).
    flushed: u64,
    /// `None` when the sender supplies the ETag itself (see `without_md5`).
    md5: Option<Md5>,
    checksum: BodyHasher,
    /// Fsyncs left to the caller's group sync (see `defer_sync`).
    sync_deferred: bool,
    committed: bool,
}

impl std::fmt::Debug for DiskFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskFileWriter").field("tmp", &self.tmp_path).field("written", &self.written).finish()
    }
}

fn open_tmp(dir: &Path) -> std::io::Result<(PathBuf, File)> {
    let path = dir.join(format!("{:032x}.tmp", rand::random::<u128>()));
    let file = File::options().write(true).create_new(true).mode(0o644).open(&path)?;
    Ok((path, file))
}

fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all().map_err(StoreError::from_write)
}

/// Creates `dir` and any missing parents, returning the directories it created (deepest last).
fn make_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => {
            created.push(dir.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let parent = dir.parent().ok_or_else(|| StoreError::Internal(format!("no parent of {}", dir.display())))?;
            make_dirs(parent, created)?;
            make_dirs(dir, created)
        }
        Err(e) => Err(StoreError::from_write(e)),
    }
}

impl DiskFileWriter {
    /// Opens a temp file; with a known `size`, reserves the space first so a full disk
    /// fails before any body is read.
    pub(crate) fn create(manager: DiskFileManager, partition: u32, hash: String, size: Option<u64>) -> Result<Self> {
        let tmp = manager.tmp_dir();
        let (tmp_path, file) = match open_tmp(&tmp) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                std::fs::create_dir_all(&tmp).map_err(StoreError::from_write)?;
                open_tmp(&tmp)
            }
            r => r,
        }
        .map_err(StoreError::from_write)?;
        let writer = DiskFileWriter {
            manager,
            partition,
            hash,
            tmp_path,
            file,
            written: 0,
            flushed: 0,
            md5: Some(Md5::new()),
            checksum: BodyHasher::new(Algorithm::default()),
            sync_deferred: false,
            committed: false,
        };
        if let Some(size) = size.filter(|s| *s > 0) {
            // SAFETY: fd is open; KEEP_SIZE reserves blocks without changing the file length.
            let rc = unsafe { libc::fallocate(writer.file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, size as i64) };
            if rc != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EOPNOTSUPP) {
                    return Err(StoreError::from_write(err));
                }
            }
        }
        Ok(writer)
    }

    /// Appends body bytes.
    pub fn write(&mut self, buf: &[u8]) -> Result<()> {
        if let Some(md5) = &mut self.md5 {
            md5.update(buf);
        }
        self.checksum.update(buf);
        self.file.write_all(buf).map_err(StoreError::from_write)?;
        self.written += buf.len() as u64;
        if self.written - self.flushed >= WRITEBACK_EVERY {
            self.start_writeback();
        }
        Ok(())
    }

    /// Starts (without waiting for) writeback of what was written since the last call, so
    /// a large body reaches the disk while it streams instead of all at the final fsync,
    /// and dirty pages stay bounded.
    fn start_writeback(&mut self) {
        let len = self.written - self.flushed;
        // SAFETY: fd is open; the call only schedules I/O. It is advisory: the final fsync
        // reports any error.
        unsafe {
            libc::sync_file_range(self.file.as_raw_fd(), self.flushed as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE)
        };
        self.flushed = self.written;
    }

    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Stops computing the body's MD5: the proxy, which hashes the client's body once on
    /// its way to every replica, sends the ETag after the body. Integrity on this node is
    /// still covered by the body checksum every write computes.
    pub fn without_md5(mut self) -> Self {
        self.md5 = None;
        self
    }

    /// Skips the file and directory fsyncs of `put` and `commit`. The caller must then await
    /// the device's [`GroupSync`](common::group_sync::GroupSync) after `commit` and before
    /// acknowledging the write: for small objects, where one shared sync is far cheaper.
    pub fn defer_sync(mut self) -> Self {
        self.sync_deferred = true;
        self
    }

    /// MD5 hex of the body written so far (the ETag); `None` after `without_md5`.
    pub fn etag(&self) -> Option<String> {
        self.md5.as_ref().map(|m| hex::encode(m.clone().finalize()))
    }

    /// Computes the body checksum with `alg` instead of the default (an SSYNC receiver
    /// keeps the algorithm of the copy it is sent). Call before any `write`.
    pub fn with_checksum(mut self, alg: Algorithm) -> Self {
        self.checksum = BodyHasher::new(alg);
        self
    }

    /// The body checksum's metadata key and hex digest of the body written so far.
    pub fn checksum(&self) -> (&'static str, String) {
        (self.checksum.algorithm().key(), self.checksum.hex())
    }

    pub fn partition(&self) -> u32 {
        self.partition
    }

    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Stores the metadata (xattrs, or spilled after the body) and fsyncs the file (unless
    /// the sync is deferred).
    pub fn put(&mut self, metadata: &Metadata) -> Result<Stored> {
        let stored = xattrs::write_metadata(&self.file, metadata, self.written).map_err(|e| match e {
            StoreError::XattrNotSupported(_) => StoreError::XattrNotSupported(self.manager.device().to_string()),
            e => e,
        })?;
        if !self.sync_deferred {
            self.file.sync_all().map_err(StoreError::from_write)?;
        }
        Ok(stored)
    }

    /// Makes the file visible as `<timestamp><ext>` in the object's hash directory, durably
    /// (or, with the sync deferred, durable at the caller's group sync), and removes the
    /// files it supersedes once it is durable: here after its own fsyncs, or, with the sync
    /// deferred, by the caller after the group sync through the returned [`Superseded`].
    pub fn commit(mut self, timestamp: Timestamp, kind: FileKind) -> Result<Superseded> {
        let dir = self.manager.hash_dir(self.partition, &self.hash);
        let mut created = Vec::new();
        make_dirs(&dir, &mut created)?;
        let committed = OnDiskFile::new(timestamp, kind);
        std::fs::rename(&self.tmp_path, dir.join(committed.file_name())).map_err(StoreError::from_write)?;
        self.committed = true;
        if !self.sync_deferred {
            // The rename first, then the entries of new directories in their parents; on
            // ext4 the later fsyncs find their changes already in the committed journal.
            fsync_dir(&dir)?;
            for d in created.iter().rev() {
                if let Some(parent) = d.parent() {
                    fsync_dir(parent)?;
                }
            }
        }
        // A new directory holds nothing to supersede.
        let superseded = match (created.is_empty(), self.sync_deferred) {
            (false, _) => Superseded::none(),
            (true, true) => Superseded::find(&self.manager, &dir, committed)?,
            (true, false) => {
                remove_superseded(&self.manager, &dir, committed)?;
                Superseded::none()
            }
        };
        self.manager.invalidate(self.partition, &self.hash)?;
        Ok(superseded)
    }
}

impl Drop for DiskFileWriter {
    fn drop(&mut self) {
        if !self.committed {
            if let Err(e) = std::fs::remove_file(&self.tmp_path) {
                tracing::warn!(path = %self.tmp_path.display(), error = %e, "could not remove temp file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devicedb::DeviceDb;
    use common::HashPathSecret;
    use std::sync::Arc;
    use std::time::Duration;

    fn manager(dir: &Path) -> DiskFileManager {
        let db = Arc::new(DeviceDb::open(&dir.join("db")).unwrap());
        DiskFileManager::new("sda", dir.to_path_buf(), HashPathSecret::default(), Duration::from_secs(60), db)
    }

    #[test]
    fn commit_makes_visible_and_drop_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        let m = manager(tmp.path());
        let hash = m.object_hash("a", "c", "o");
        let mut w = DiskFileWriter::create(m.clone(), 3, hash.clone(), Some(5)).unwrap();
        w.write(b"hello").unwrap();
        assert_eq!(w.etag().as_deref(), Some("5d41402abc4b2a76b9719d911017c592"));
        let meta = Metadata::from([("X-Timestamp".to_string(), "1700000000.00000".to_string())]);
        w.put(&meta).unwrap();
        assert_eq!(std::fs::read_dir(m.tmp_dir()).unwrap().count(), 1);
        assert!(w.commit("1700000000.00000".parse().unwrap(), FileKind::Data).unwrap().is_empty());
        assert_eq!(std::fs::read_dir(m.tmp_dir()).unwrap().count(), 0);
        let data = m.hash_dir(3, &hash).join("1700000000.00000.data");
        assert_eq!(std::fs::read(&data).unwrap(), b"hello");
        assert_eq!(m.db().invalid_suffixes(3).unwrap().len(), 1);

        // An abandoned write leaves nothing behind.
        let mut w = DiskFileWriter::create(m.clone(), 3, hash.clone(), None).unwrap();
        w.write(b"partial").unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(m.tmp_dir()).unwrap().count(), 0);

        // A newer file supersedes the old one on commit.
        // (A recent tombstone: old ones are reclaimed right away.)
        let now = Timestamp::now();
        let mut w = DiskFileWriter::create(m.clone(), 3, hash.clone(), None).unwrap();
        w.put(&meta).unwrap();
        assert!(w.commit(now, FileKind::Tombstone).unwrap().is_empty(), "removed at once: it was fsynced");
        let names: Vec<_> = std::fs::read_dir(m.hash_dir(3, &hash)).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(format!("{}.ts", now.internal()))]);
    }

    #[test]
    fn a_deferred_overwrite_keeps_the_old_file_until_the_new_one_is_durable() {
        let tmp = tempfile::tempdir().unwrap();
        let m = manager(tmp.path());
        let hash = m.object_hash("a", "c", "o");
        let (t1, t2) = (Timestamp::now(), Timestamp::from_ticks(Timestamp::now().ticks() + 1000));
        let meta = Metadata::from([("X-Timestamp".to_string(), t1.internal())]);
        let mut w = DiskFileWriter::create(m.clone(), 3, hash.clone(), None).unwrap();
        w.write(b"old").unwrap();
        w.put(&meta).unwrap();
        assert!(w.commit(t1, FileKind::Data).unwrap().is_empty());
        let old = m.hash_dir(3, &hash).join(format!("{}.data", t1.internal()));
        // The overwrite is renamed into place but not yet synced (the group sync comes later):
        // a crash now could lose the new file, so the old one must still be there.
        let mut w = DiskFileWriter::create(m.clone(), 3, hash.clone(), None).unwrap().defer_sync();
        w.write(b"new").unwrap();
        w.put(&meta).unwrap();
        let superseded = w.commit(t2, FileKind::Data).unwrap();
        let new = m.hash_dir(3, &hash).join(format!("{}.data", t2.internal()));
        assert!(new.exists() && old.exists(), "the old file was removed before the new one was durable");
        // A newer write lands meanwhile, itself unsynced: removing t2's superseded files
        // must leave it (and t2, which it supersedes) for its own writer.
        let t3 = Timestamp::from_ticks(t2.ticks() + 1000);
        let mut w = DiskFileWriter::create(m.clone(), 3, hash.clone(), None).unwrap().defer_sync();
        w.put(&meta).unwrap();
        let superseded3 = w.commit(t3, FileKind::Tombstone).unwrap();
        // After the group sync, the caller removes what t2 superseded: t1 only.
        superseded.remove().unwrap();
        assert!(!old.exists() && new.exists());
        superseded3.remove().unwrap();
        let names: Vec<_> = std::fs::read_dir(m.hash_dir(3, &hash)).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(format!("{}.ts", t3.internal()))]);
    }
}
