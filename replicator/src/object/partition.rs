//! One partition's replication job: `sync` for a primary partition, `revert` for a handoff.

use super::{Job, ObjectReport};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::time::Duration;
use swiftlet_object_store::diskfile::{DiskFileManager, OnDiskFile};
use swiftlet_object_store::ssync::{self, SsyncReport, SsyncTarget};

/// What a handoff partition held when its revert began: per object hash, its live files.
type Held = Vec<(String, Vec<OnDiskFile>)>;

/// Counts one push in the report and charges its bytes to the bandwidth limit.
async fn account_push(job: &Job, report: &mut ObjectReport, target: &SsyncTarget, r: &SsyncReport) {
    report.objects_pushed += r.puts + r.deletes + r.posts;
    report.bytes_pushed += r.bytes;
    for why in &r.remote.failed {
        report.failed.add(format!("{}/{} partition {}: {why}", target.addr, target.device, job.partition));
    }
    job.throttle.consume(r.bytes, &job.cancel).await;
}

/// Suffixes whose hash here differs from the peer's (or that the peer lacks).
fn differing(local: &BTreeMap<String, String>, remote: &BTreeMap<String, String>) -> Vec<String> {
    local.iter().filter(|(s, h)| remote.get(*s) != Some(*h)).map(|(s, _)| s.clone()).collect()
}

/// A primary partition: push to each other primary the suffixes it differs in.
pub(super) async fn sync(job: &Job, timeout: Duration) -> ObjectReport {
    let mut report = ObjectReport { partitions_checked: 1, ..Default::default() };
    let (manager, part, full) = (job.device.manager.clone(), job.partition, job.full_rehash);
    let hashed = job
        .device
        .pool
        .run_io(move || -> swiftlet_object_store::Result<_> {
            let recalc = if full { manager.suffixes(part)? } else { Vec::new() };
            let hashes = manager.get_hashes(part, &recalc)?;
            if hashes.is_empty() {
                // Nothing left (all reclaimed): drop the empty partition directory.
                let _ = std::fs::remove_dir(manager.partition_dir(part));
            }
            Ok(hashes)
        })
        .await;
    let local = match hashed {
        Ok(h) => h,
        Err(e) => {
            report.failed.add(format!("{} partition {part}: hashing: {e}", job.device.name));
            return report;
        }
    };
    report.suffixes_checked = local.len();
    if local.is_empty() {
        return report;
    }
    let client = &job.node.client;
    let node_timeout = job.node.config.node_timeout();
    for target in &job.targets {
        if job.cancel.is_cancelled() {
            break;
        }
        let remote = match ssync::fetch_remote_hashes(client, target, part, &[], node_timeout).await {
            Ok(r) => r,
            Err(e) => {
                report.failed.add(format!("{}/{} partition {part}: {e}", target.addr, target.device));
                continue;
            }
        };
        let diff = differing(&local, &remote);
        if diff.is_empty() {
            continue;
        }
        match ssync::send(client, &job.device, part, Some(diff.clone()), target, timeout).await {
            Ok(r) => account_push(job, &mut report, target, &r).await,
            Err(e) => {
                report.failed.add(format!("{}/{} partition {part}: ssync: {e}", target.addr, target.device));
                continue;
            }
        }
        // The peer rehashes what it just received; equal hashes confirm the suffix is synced
        // (a suffix where the peer holds something newer stays different: its own pass pushes it).
        match ssync::fetch_remote_hashes(client, target, part, &diff, node_timeout).await {
            Ok(after) => report.suffixes_synced += diff.iter().filter(|s| after.get(*s) == local.get(*s)).count(),
            Err(e) => report.failed.add(format!("{}/{} partition {part}: re-check: {e}", target.addr, target.device)),
        }
    }
    report
}

/// Lists a handoff partition's objects and their live files (after cleanup), blocking.
fn held(manager: &DiskFileManager, part: u32) -> swiftlet_object_store::Result<Held> {
    let mut out = Vec::new();
    for suffix in manager.suffixes(part)? {
        for hash in manager.hashes(part, &suffix)? {
            let set = manager.list_files(part, &hash)?;
            let files: Vec<OnDiskFile> = set.live().copied().chain(set.orphan_meta.iter().copied()).collect();
            if !files.is_empty() {
                out.push((hash, files));
            }
        }
    }
    Ok(out)
}

/// Deletes exactly the files recorded in `held` (a newer file written meanwhile stays, and
/// keeps its directory), then the directories left empty. Returns (objects removed,
/// whether the partition directory is gone). Blocking.
fn remove_held(manager: &DiskFileManager, part: u32, held: &Held) -> swiftlet_object_store::Result<(usize, bool)> {
    let gone = |r: std::io::Result<()>| match r {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    let mut removed = 0;
    for (hash, files) in held {
        let dir = manager.hash_dir(part, hash);
        for f in files {
            gone(std::fs::remove_file(dir.join(f.file_name())))?;
        }
        if std::fs::remove_dir(&dir).is_ok() {
            removed += 1;
        }
        if let Some(suffix_dir) = dir.parent() {
            let _ = std::fs::remove_dir(suffix_dir);
        }
        manager.invalidate(part, hash)?;
    }
    let part_gone = std::fs::remove_dir(manager.partition_dir(part)).is_ok() || !manager.partition_dir(part).exists();
    if part_gone {
        manager.db().forget_partition(part)?;
    }
    Ok((removed, part_gone))
}

/// A handoff partition: push everything to every primary; once each one accepted every
/// object it was offered (or already had it, or something newer), delete what was pushed.
pub(super) async fn revert(job: &Job, timeout: Duration) -> ObjectReport {
    let mut report = ObjectReport { partitions_checked: 1, handoff_partitions: 1, ..Default::default() };
    let part = job.partition;
    let manager = job.device.manager.clone();
    let snapshot = match job.device.pool.run_io(move || held(&manager, part)).await {
        Ok(h) => h,
        Err(e) => {
            report.failed.add(format!("{} handoff partition {part}: listing: {e}", job.device.name));
            return report;
        }
    };
    let mut confirmed = !job.targets.is_empty();
    if !snapshot.is_empty() {
        for target in &job.targets {
            if job.cancel.is_cancelled() {
                return report;
            }
            match ssync::send(&job.node.client, &job.device, part, None, target, timeout).await {
                Ok(r) => {
                    let frames = (r.puts + r.deletes + r.posts) as u64;
                    let accepted = r.remote.failed.is_empty() && r.remote.applied + r.remote.skipped == frames;
                    account_push(job, &mut report, target, &r).await;
                    if !accepted {
                        confirmed = false;
                        report.failed.add(format!(
                            "{}/{} handoff partition {part}: not every object was accepted",
                            target.addr, target.device
                        ));
                    }
                }
                Err(e) => {
                    confirmed = false;
                    report
                        .failed
                        .add(format!("{}/{} handoff partition {part}: ssync: {e}", target.addr, target.device));
                }
            }
        }
    }
    if !confirmed {
        return report;
    }
    let manager = job.device.manager.clone();
    match job.device.pool.run_io(move || remove_held(&manager, part, &snapshot)).await {
        Ok((removed, part_gone)) => {
            report.objects_removed += removed;
            report.handoffs_removed += usize::from(part_gone);
        }
        Err(e) => report.failed.add(format!("{} handoff partition {part}: removing: {e}", job.device.name)),
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::{HashPathSecret, Timestamp};
    use std::sync::Arc;
    use swiftlet_object_store::diskfile::FileKind;
    use swiftlet_object_store::DeviceDb;

    fn touch(manager: &DiskFileManager, part: u32, hash: &str, f: OnDiskFile) {
        let dir = manager.hash_dir(part, hash);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(f.file_name()), b"").unwrap();
    }

    #[test]
    fn differing_suffixes() {
        let local = BTreeMap::from([("abc".to_string(), "1".to_string()), ("def".to_string(), "2".to_string())]);
        let remote = BTreeMap::from([("abc".to_string(), "1".to_string()), ("def".to_string(), "9".to_string())]);
        assert_eq!(differing(&local, &remote), vec!["def".to_string()]);
        assert_eq!(differing(&local, &BTreeMap::new()).len(), 2);
        assert!(differing(&BTreeMap::new(), &remote).is_empty());
    }

    #[test]
    fn removes_only_what_was_pushed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(DeviceDb::open(&dir.path().join("db")).unwrap());
        let m =
            DiskFileManager::new("sda", dir.path().into(), HashPathSecret::default(), Duration::from_secs(3600), db);
        let (a, b) = (m.object_hash("a", "c", "one"), m.object_hash("a", "c", "two"));
        let t1 = Timestamp::now();
        let t2 = Timestamp::from_ticks(t1.ticks() + 1);
        touch(&m, 5, &a, OnDiskFile::new(t1, FileKind::Data));
        touch(&m, 5, &b, OnDiskFile::new(t1, FileKind::Tombstone));
        let snapshot = held(&m, 5).unwrap();
        assert_eq!(snapshot.len(), 2);
        // A newer write lands on `b` after the snapshot: it must survive the removal.
        touch(&m, 5, &b, OnDiskFile::new(t2, FileKind::Data));
        let (removed, part_gone) = remove_held(&m, 5, &snapshot).unwrap();
        assert_eq!((removed, part_gone), (1, false));
        assert!(!m.hash_dir(5, &a).exists());
        let left = m.list_files(5, &b).unwrap();
        assert_eq!(left.data.map(|f| f.timestamp), Some(t2));
        // Once that is pushed too, the partition goes entirely.
        let (removed, part_gone) = remove_held(&m, 5, &held(&m, 5).unwrap()).unwrap();
        assert_eq!((removed, part_gone), (1, true));
        assert!(!m.partition_dir(5).exists());
        assert!(m.db().cached_hashes(5).unwrap().is_none());
    }
}
