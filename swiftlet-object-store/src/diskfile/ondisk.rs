//! File names in an object's hash directory and the rule that picks the live ones.
//!
//! `<timestamp>.data` holds a body, `<timestamp>.meta` metadata from a POST, `<timestamp>.ts`
//! a tombstone. The newest timestamp wins: a tombstone hides every older file; of the data
//! files only the newest counts; a `.meta` counts only when newer than the data it annotates.

use common::Timestamp;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Data,
    Meta,
    Tombstone,
}

impl FileKind {
    pub fn ext(self) -> &'static str {
        match self {
            FileKind::Data => ".data",
            FileKind::Meta => ".meta",
            FileKind::Tombstone => ".ts",
        }
    }
}

/// One file of an object: its timestamp and kind (the file name is `<timestamp><ext>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OnDiskFile {
    pub timestamp: Timestamp,
    pub kind: FileKind,
}

impl OnDiskFile {
    pub fn new(timestamp: Timestamp, kind: FileKind) -> Self {
        OnDiskFile { timestamp, kind }
    }

    /// Parses `1700000000.00000.data` and friends; anything else is not ours.
    pub fn parse(name: &str) -> Option<Self> {
        let (stem, kind) = if let Some(s) = name.strip_suffix(".data") {
            (s, FileKind::Data)
        } else if let Some(s) = name.strip_suffix(".meta") {
            (s, FileKind::Meta)
        } else if let Some(s) = name.strip_suffix(".ts") {
            (s, FileKind::Tombstone)
        } else {
            return None;
        };
        let timestamp: Timestamp = stem.parse().ok()?;
        // Only the canonical spelling, so one state has one name.
        (timestamp.internal() == stem).then_some(OnDiskFile { timestamp, kind })
    }

    pub fn file_name(&self) -> String {
        format!("{}{}", self.timestamp.internal(), self.kind.ext())
    }
}

/// The live files of an object plus what can be deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSet {
    pub data: Option<OnDiskFile>,
    /// Only set together with `data`, and only when newer than it.
    pub meta: Option<OnDiskFile>,
    /// Only set when there is no live data.
    pub tombstone: Option<OnDiskFile>,
    /// Superseded files, safe to delete now.
    pub obsolete: Vec<OnDiskFile>,
    /// `.meta` files with no data to annotate: deleted once older than the reclaim age.
    pub orphan_meta: Vec<OnDiskFile>,
    /// Names that are not object files (left alone).
    pub unexpected: Vec<String>,
}

impl FileSet {
    /// Applies the newest-wins rule to the names in a hash directory.
    pub fn select<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> FileSet {
        let mut set = FileSet::default();
        let mut files = Vec::new();
        for name in names {
            match OnDiskFile::parse(name.as_ref()) {
                Some(f) => files.push(f),
                None => set.unexpected.push(name.as_ref().to_string()),
            }
        }
        // Newest first; at equal timestamps a tombstone outranks data, data outranks meta.
        files.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(b.kind.cmp(&a.kind)));
        let newest_ts = files.iter().find(|f| f.kind == FileKind::Tombstone).map(|f| f.timestamp);
        let newest_data = files.iter().find(|f| f.kind == FileKind::Data && newest_ts.is_none_or(|t| f.timestamp > t));
        let newest_data = newest_data.copied();
        for f in files {
            let keep = match f.kind {
                FileKind::Tombstone => newest_data.is_none() && set.tombstone.is_none(),
                FileKind::Data => Some(f) == newest_data,
                FileKind::Meta => match newest_data {
                    Some(d) => set.meta.is_none() && f.timestamp > d.timestamp,
                    None => newest_ts.is_none_or(|t| f.timestamp > t),
                },
            };
            match (keep, f.kind, newest_data) {
                (true, FileKind::Tombstone, _) => set.tombstone = Some(f),
                (true, FileKind::Data, _) => set.data = Some(f),
                (true, FileKind::Meta, Some(_)) => set.meta = Some(f),
                (true, FileKind::Meta, None) => set.orphan_meta.push(f),
                (false, ..) => set.obsolete.push(f),
            }
        }
        set
    }

    /// Files that may be deleted at `now`: the obsolete ones, plus tombstones and orphaned
    /// metadata older than `reclaim_age` (kept until then so replication can spread deletes).
    pub fn removable(&self, now: Timestamp, reclaim_age: Duration) -> Vec<OnDiskFile> {
        let age = |f: &OnDiskFile| now.as_secs_f64() - f.timestamp.as_secs_f64();
        let old = |f: &&OnDiskFile| age(f) > reclaim_age.as_secs_f64();
        let mut out = self.obsolete.clone();
        out.extend(self.tombstone.iter().filter(old));
        out.extend(self.orphan_meta.iter().filter(old));
        out
    }

    /// The newest timestamp that decides whether a write is new: live data or tombstone.
    pub fn newest_timestamp(&self) -> Option<Timestamp> {
        self.data.or(self.tombstone).map(|f| f.timestamp)
    }

    /// The files that define the object's state, in the order they feed the suffix hash.
    pub fn live(&self) -> impl Iterator<Item = &OnDiskFile> {
        self.data.iter().chain(self.meta.iter()).chain(self.tombstone.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(secs: u64, kind: FileKind) -> OnDiskFile {
        OnDiskFile::new(Timestamp::from_ticks(secs * 100_000), kind)
    }

    fn names(files: &[OnDiskFile]) -> Vec<String> {
        files.iter().map(|f| f.file_name()).collect()
    }

    #[test]
    fn parses_only_canonical_names() {
        let d = f(1_700_000_000, FileKind::Data);
        assert_eq!(d.file_name(), "1700000000.00000.data");
        assert_eq!(OnDiskFile::parse("1700000000.00000.data"), Some(d));
        assert!(OnDiskFile::parse("1700000000.data").is_none());
        assert!(OnDiskFile::parse("x.ts").is_none());
        assert!(OnDiskFile::parse(".1700000000.00000.data.tmp").is_none());
        let o = OnDiskFile::parse("1700000000.00000_000000000000000a.ts").unwrap();
        assert_eq!(o.timestamp.offset(), 10);
    }

    #[test]
    fn newest_data_wins_with_newer_meta() {
        let (d1, d2, m1, m3, t0) = (
            f(1_700_000_001, FileKind::Data),
            f(1_700_000_002, FileKind::Data),
            f(1_700_000_001, FileKind::Meta),
            f(1_700_000_003, FileKind::Meta),
            f(1_700_000_000, FileKind::Tombstone),
        );
        let set = FileSet::select(names(&[d1, d2, m1, m3, t0]).iter().chain(["junk".to_string()].iter()));
        assert_eq!(set.data, Some(d2));
        assert_eq!(set.meta, Some(m3));
        assert_eq!(set.tombstone, None);
        assert_eq!(set.unexpected, vec!["junk".to_string()]);
        let mut obsolete = set.obsolete.clone();
        obsolete.sort_by_key(|f| f.file_name());
        assert_eq!(obsolete, vec![t0, d1, m1]);
        assert_eq!(set.newest_timestamp(), Some(d2.timestamp));
    }

    #[test]
    fn tombstone_hides_older_and_equal() {
        let (d1, t2, m3, d2) = (
            f(1_700_000_001, FileKind::Data),
            f(1_700_000_002, FileKind::Tombstone),
            f(1_700_000_003, FileKind::Meta),
            f(1_700_000_002, FileKind::Data),
        );
        let set = FileSet::select(names(&[d1, t2, m3, d2]));
        assert_eq!(set.data, None);
        assert_eq!(set.tombstone, Some(t2));
        assert_eq!(set.meta, None);
        assert_eq!(set.orphan_meta, vec![m3]);
        assert_eq!(set.obsolete.len(), 2);
        let now = Timestamp::from_ticks(1_700_000_010 * 100_000);
        assert_eq!(set.removable(now, Duration::from_secs(60)).len(), 2);
        assert_eq!(set.removable(now, Duration::from_secs(5)).len(), 4);
    }

    #[test]
    fn data_newer_than_tombstone_resurrects() {
        let (t1, d2) = (f(1_700_000_001, FileKind::Tombstone), f(1_700_000_002, FileKind::Data));
        let set = FileSet::select(names(&[t1, d2]));
        assert_eq!((set.data, set.tombstone, set.obsolete), (Some(d2), None, vec![t1]));
        assert!(FileSet::select(Vec::<String>::new()).newest_timestamp().is_none());
    }
}
