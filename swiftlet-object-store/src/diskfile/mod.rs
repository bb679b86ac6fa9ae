//! The diskfile: objects as files on one device.
//!
//! Layout: `<dev>/objects/<partition>/<suffix>/<hash>/<timestamp>.data|.meta|.ts`, where
//! `hash` is the placement hash of `/a/c/o` (32 hex digits) and `suffix` its last three.
//! Writes go through `<dev>/tmp`; damaged objects move to `<dev>/quarantined/objects/`.
//!
//! Layers (as Swift's `diskfile.py`, split by job):
//! - [`DiskFileManager`] (`manager.rs`): paths, walking partitions/suffixes/hashes, cleanup,
//!   suffix hashes, quarantine;
//! - [`DiskFileWriter`] (`writer.rs`): temp file, stream, fsync, metadata, rename, dir fsync;
//! - [`DiskFileReader`] (`reader.rs`): block reads, checksum verification, quarantine;
//! - `checksum.rs`: the body checksum (XXH3-128; BLAKE3 on older objects);
//! - [`DiskFile`] (here): open an object, read its metadata, write `.meta`/`.ts` files.
//!
//! Metadata storage (xattrs, or spilled into the file when ext4's single 4 KiB xattr block
//! is too small) is described in `xattrs.rs`. Every call here blocks: run it on the
//! device's [`crate::pool::DevicePool`].

pub mod checksum;
pub mod hashdir;
pub mod manager;
pub mod metadata;
pub mod ondisk;
pub mod reader;
pub mod superseded;
pub mod writer;
pub mod xattrs;

pub use manager::DiskFileManager;
pub use ondisk::{FileKind, FileSet, OnDiskFile};
pub use reader::DiskFileReader;
pub use superseded::Superseded;
pub use writer::DiskFileWriter;

use crate::error::{Result, StoreError};
use common::metadata::Metadata;
use common::Timestamp;
use hashdir::HashDir;
use metadata::{MetadataExt, CONTENT_TYPE, CONTENT_TYPE_TIMESTAMP, NAME, X_TIMESTAMP};
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use xattrs::Stored;

/// One object (by name, or by hash when walking a device).
#[derive(Debug, Clone)]
pub struct DiskFile {
    manager: DiskFileManager,
    partition: u32,
    hash: String,
    name: Option<String>,
}

/// What an object is, right now, on this device.
#[derive(Debug)]
pub enum ObjectState {
    /// Nothing (or only damaged files, now quarantined).
    Missing,
    /// A tombstone is the newest state.
    Deleted {
        timestamp: Timestamp,
    },
    /// The object exists but its X-Delete-At has passed.
    Expired {
        timestamp: Timestamp,
        metadata: Metadata,
    },
    Exists(Box<OpenObject>),
}

/// An opened object: its data file stays open, so a concurrent overwrite does not disturb readers.
#[derive(Debug)]
pub struct OpenObject {
    pub file: Arc<File>,
    /// Data-file metadata overlaid with the newest `.meta` (what GET/HEAD report).
    pub metadata: Metadata,
    pub data_metadata: Metadata,
    pub meta_metadata: Option<Metadata>,
    pub files: FileSet,
    pub data_path: PathBuf,
    pub content_length: u64,
    pub data_timestamp: Timestamp,
}

impl OpenObject {
    /// The timestamp clients see: the newest of data and `.meta`.
    pub fn timestamp(&self) -> Timestamp {
        self.metadata.timestamp().unwrap_or(self.data_timestamp)
    }

    /// When the current Content-Type was set.
    pub fn content_type_timestamp(&self) -> Timestamp {
        self.metadata.str_of(CONTENT_TYPE_TIMESTAMP).and_then(|t| t.parse().ok()).unwrap_or(self.data_timestamp)
    }
}

/// Keys a `.meta` cannot override: they describe the body.
fn is_data_system_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    matches!(k.as_str(), "name" | "content-length" | "etag" | "deleted" | "x-static-large-object")
        || checksum::Algorithm::is_checksum_key(&k)
        || k.starts_with("x-object-sysmeta-")
}

/// Swift's merge of a `.data` file's metadata with the newest `.meta`.
fn merge(data: &Metadata, meta: Option<&Metadata>, data_ts: Timestamp) -> Metadata {
    let Some(meta) = meta else { return data.clone() };
    let mut merged = meta.clone();
    merged.extend(data.iter().filter(|(k, _)| is_data_system_key(k)).map(|(k, v)| (k.clone(), v.clone())));
    let ctype_ts: Option<Timestamp> = meta.str_of(CONTENT_TYPE_TIMESTAMP).and_then(|t| t.parse().ok());
    if !(meta.contains_key(CONTENT_TYPE) && ctype_ts.is_some_and(|t| t > data_ts)) {
        if let Some(ct) = data.get(CONTENT_TYPE) {
            merged.insert(CONTENT_TYPE.into(), ct.clone());
        }
        merged.remove(CONTENT_TYPE_TIMESTAMP);
    }
    merged
}

impl DiskFile {
    pub(crate) fn new(manager: DiskFileManager, partition: u32, hash: String, name: Option<String>) -> Self {
        DiskFile { manager, partition, hash, name }
    }

    pub fn hash(&self) -> &str {
        &self.hash
    }
    pub fn partition(&self) -> u32 {
        self.partition
    }
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    pub fn manager(&self) -> &DiskFileManager {
        &self.manager
    }
    pub fn hash_dir(&self) -> PathBuf {
        self.manager.hash_dir(self.partition, &self.hash)
    }

    /// The live files (no cleanup; reads never delete).
    pub fn files(&self) -> Result<FileSet> {
        Ok(Self::open_dir(&self.hash_dir())?.1)
    }

    /// The hash directory at `path`, opened, and its live files; `None` for a missing directory.
    fn open_dir(path: &std::path::Path) -> Result<(Option<HashDir>, FileSet)> {
        let Some(dir) = HashDir::open(path)? else { return Ok((None, FileSet::default())) };
        let files = FileSet::select(dir.names()?);
        Ok((Some(dir), files))
    }

    /// Opens the object as of `now`. Damaged files are quarantined and reported as missing;
    /// a name that differs from the stored one is a `Collision`.
    pub fn open(&self, now: Timestamp, open_expired: bool) -> Result<ObjectState> {
        match self.open_or_quarantine(now, open_expired) {
            Err(StoreError::Quarantined(_)) => Ok(ObjectState::Missing),
            r => r,
        }
    }

    /// Like [`open`](Self::open), but reports a quarantine as `StoreError::Quarantined` (after
    /// moving the object away) instead of `Missing`.
    pub fn open_or_quarantine(&self, now: Timestamp, open_expired: bool) -> Result<ObjectState> {
        // A concurrent write may remove the file we just listed: list again.
        for _ in 0..3 {
            match self.try_open(now, open_expired) {
                Err(StoreError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(StoreError::Quarantined(reason)) => {
                    if self.hash_dir().exists() {
                        self.manager.quarantine(self.partition, &self.hash, &reason)?;
                    }
                    return Err(StoreError::Quarantined(reason));
                }
                r => return r,
            }
        }
        Err(StoreError::Internal(format!("object files of {} kept changing", self.hash)))
    }

    fn try_open(&self, now: Timestamp, open_expired: bool) -> Result<ObjectState> {
        let hash_dir = self.hash_dir();
        let (dir, files) = Self::open_dir(&hash_dir)?;
        let (Some(dir), Some(data)) = (dir, files.data) else {
            return Ok(match files.tombstone {
                Some(ts) => ObjectState::Deleted { timestamp: ts.timestamp },
                None => ObjectState::Missing,
            });
        };
        let data_name = data.file_name();
        let file = dir.open_file(&data_name)?;
        let (data_metadata, stored) = self.read_xattrs(&file)?;
        let meta_metadata = match files.meta {
            Some(m) => Some(self.read_xattrs(&dir.open_file(&m.file_name())?)?.0),
            None => None,
        };
        let stored_name =
            data_metadata.name().ok_or_else(|| StoreError::Quarantined("missing name metadata".into()))?;
        if let Some(name) = &self.name {
            if name != stored_name {
                tracing::error!(client = %name, stored = %stored_name, "object name does not match its hash dir");
                return Err(StoreError::Collision);
            }
        }
        let metadata = merge(&data_metadata, meta_metadata.as_ref(), data.timestamp);
        if let Some(at) = metadata.delete_at()? {
            if at <= now.secs() && !open_expired {
                let timestamp = metadata.timestamp().unwrap_or(data.timestamp);
                return Ok(ObjectState::Expired { timestamp, metadata });
            }
        }
        let content_length = data_metadata.content_length()?;
        let spill = match stored {
            Stored::Spilled { len, .. } => len,
            Stored::Xattr => 0,
        };
        let size = file.metadata()?.len();
        if size != content_length + spill {
            return Err(StoreError::Quarantined(format!(
                "metadata content-length {content_length} != file size {size}"
            )));
        }
        Ok(ObjectState::Exists(Box::new(OpenObject {
            file: Arc::new(file),
            metadata,
            data_metadata,
            meta_metadata,
            data_path: hash_dir.join(data_name),
            files,
            content_length,
            data_timestamp: data.timestamp,
        })))
    }

    fn read_xattrs(&self, file: &File) -> Result<(Metadata, Stored)> {
        xattrs::read_metadata(file).map_err(|e| match e {
            StoreError::XattrNotSupported(_) => StoreError::XattrNotSupported(self.manager.device().to_string()),
            e => e,
        })
    }

    /// A reader over an opened object's body.
    pub fn reader(&self, obj: &OpenObject) -> DiskFileReader {
        DiskFileReader::new(
            self.manager.clone(),
            self.partition,
            self.hash.clone(),
            obj.data_path.clone(),
            obj.file.clone(),
            obj.content_length,
            checksum::Algorithm::stored_in(&obj.data_metadata).map(|(alg, hex)| (alg, hex.to_string())),
        )
    }

    /// A writer for a new `.data` file (`size` reserves space when known).
    pub fn writer(&self, size: Option<u64>) -> Result<DiskFileWriter> {
        DiskFileWriter::create(self.manager.clone(), self.partition, self.hash.clone(), size)
    }

    /// Writes a body-less `.meta` or `.ts` file carrying `metadata` (which must hold
    /// `X-Timestamp`; `name` is added when known). Its fsyncs are left to the device's
    /// group sync: hand what it returns to `Device::sync_then_remove` before acknowledging
    /// the write.
    pub fn write_marker_unsynced(&self, kind: FileKind, mut metadata: Metadata) -> Result<Superseded> {
        let timestamp = metadata.timestamp().map_err(|_| StoreError::Internal("marker without X-Timestamp".into()))?;
        if let Some(name) = &self.name {
            metadata.entry(NAME.into()).or_insert_with(|| name.clone());
        }
        let mut w = self.writer(None)?.defer_sync();
        w.put(&metadata)?;
        w.commit(timestamp, kind)
    }

    /// Writes a tombstone at `timestamp` (unsynced, as `write_marker_unsynced`).
    pub fn delete_unsynced(&self, timestamp: Timestamp) -> Result<Superseded> {
        let metadata = Metadata::from([(X_TIMESTAMP.to_string(), timestamp.internal())]);
        self.write_marker_unsynced(FileKind::Tombstone, metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> Metadata {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn meta_overrides_user_keys_not_body_keys() {
        let data = m(&[
            ("name", "/a/c/o"),
            ("Content-Length", "3"),
            ("ETag", "e"),
            ("Content-Type", "text/plain"),
            ("X-Object-Meta-A", "1"),
            ("X-Object-Sysmeta-S", "s"),
            ("X-Timestamp", "1700000000.00000"),
        ]);
        let meta = m(&[("X-Object-Meta-B", "2"), ("X-Timestamp", "1700000001.00000"), ("ETag", "forged")]);
        let merged = merge(&data, Some(&meta), "1700000000.00000".parse().unwrap());
        assert_eq!(merged.get("ETag").unwrap(), "e");
        assert_eq!(merged.get("X-Object-Meta-B").unwrap(), "2");
        assert!(!merged.contains_key("X-Object-Meta-A"));
        assert_eq!(merged.get("X-Object-Sysmeta-S").unwrap(), "s");
        assert_eq!(merged.get("Content-Type").unwrap(), "text/plain");
        assert_eq!(merged.get("X-Timestamp").unwrap(), "1700000001.00000");

        let meta = m(&[
            ("X-Timestamp", "1700000001.00000"),
            ("Content-Type", "image/png"),
            ("Content-Type-Timestamp", "1700000001.00000"),
        ]);
        let merged = merge(&data, Some(&meta), "1700000000.00000".parse().unwrap());
        assert_eq!(merged.get("Content-Type").unwrap(), "image/png");
    }
}
