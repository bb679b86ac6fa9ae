//! The files a commit made obsolete, removed only once the new file is durable.
//!
//! Why the order matters: a write with deferred fsyncs (see
//! [`DiskFileWriter::defer_sync`](super::DiskFileWriter::defer_sync)) is renamed into place
//! at once but reaches the disk only at the device's group sync. Unlinking the old `.data`
//! (or `.meta`) before that sync lets a crash in between lose both the old and the new
//! file, for a write that was never acknowledged, and an object that had been. So a
//! deferred commit hands back a [`Superseded`], which its caller removes after the sync.
//!
//! Only files older than the committed one are removed: a newer file in the directory may
//! itself be waiting for its sync, and is left to its own writer.

use super::manager::DiskFileManager;
use super::ondisk::{FileSet, OnDiskFile};
use crate::error::Result;
use common::Timestamp;
use std::path::{Path, PathBuf};

/// What a commit superseded, to remove once the committed file is durable.
#[derive(Debug, Default)]
#[must_use = "superseded files are only removed by `remove`, after the group sync"]
pub struct Superseded(Option<Pending>);

#[derive(Debug)]
struct Pending {
    manager: DiskFileManager,
    dir: PathBuf,
    committed: OnDiskFile,
}

impl Superseded {
    /// Nothing to remove.
    pub fn none() -> Superseded {
        Superseded(None)
    }

    /// The files in `dir` that `committed` makes obsolete, to remove later; none when
    /// nothing is (a first write costs no second job). Blocking.
    pub(crate) fn find(manager: &DiskFileManager, dir: &Path, committed: OnDiskFile) -> Result<Superseded> {
        if removable_before(manager, dir, committed)?.is_empty() {
            return Ok(Superseded::none());
        }
        Ok(Superseded(Some(Pending { manager: manager.clone(), dir: dir.to_path_buf(), committed })))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Removes what the committed file superseded. Call only once that file is durable
    /// (for a deferred write: after the device's group sync). Blocking.
    pub fn remove(self) -> Result<()> {
        let Some(p) = self.0 else { return Ok(()) };
        remove_superseded(&p.manager, &p.dir, p.committed)
    }
}

/// The files of `dir` that may go once `committed` is durable: those it supersedes,
/// judged among the files no newer than it.
fn removable_before(manager: &DiskFileManager, dir: &Path, committed: OnDiskFile) -> Result<Vec<OnDiskFile>> {
    let names = manager.names_in(dir)?;
    let older = names.iter().filter(|n| OnDiskFile::parse(n).is_some_and(|f| f.timestamp <= committed.timestamp));
    Ok(FileSet::select(older).removable(Timestamp::now(), manager.reclaim_age()))
}

/// Removes the files `committed` (now durable) supersedes; the directory too if nothing is
/// left (a racing writer's new file keeps it).
pub(crate) fn remove_superseded(manager: &DiskFileManager, dir: &Path, committed: OnDiskFile) -> Result<()> {
    let removable = removable_before(manager, dir, committed)?;
    manager.unlink_all(dir, &removable)
}
