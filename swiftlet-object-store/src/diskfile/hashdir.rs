//! A hash directory opened once: listed with `getdents` into a stack buffer, then its files
//! opened relative to it. A small GET spends most of its disk-side time here, and walking
//! the seven-component path once instead of twice, without `opendir`'s heap buffer, is
//! measurably cheaper.

use rustix::fs::{Mode, OFlags, RawDir};
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::Path;

pub struct HashDir(OwnedFd);

impl HashDir {
    /// Opens `path`; `None` when there is no such directory (never written, or reclaimed).
    pub fn open(path: &Path) -> io::Result<Option<HashDir>> {
        match rustix::fs::open(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => Ok(Some(HashDir(fd))),
            Err(e) if e == rustix::io::Errno::NOENT || e == rustix::io::Errno::NOTDIR => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The names in the directory (not `.` and `..`; names that are not UTF-8 are skipped,
    /// as no file Swiftlet writes has one).
    pub fn names(&self) -> io::Result<Vec<String>> {
        // A hash directory holds a handful of entries: one buffer is one syscall.
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut dir = RawDir::new(&self.0, &mut buf);
        let mut names = Vec::new();
        while let Some(entry) = dir.next() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if let Ok(name) = std::str::from_utf8(name) {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    /// Opens one of the directory's files for reading.
    pub fn open_file(&self, name: &str) -> io::Result<File> {
        let fd = rustix::fs::openat(&self.0, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
        Ok(File::from(fd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn lists_and_opens_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(HashDir::open(&tmp.path().join("missing")).unwrap().is_none());
        std::fs::write(tmp.path().join("f"), b"x").unwrap();
        assert!(HashDir::open(&tmp.path().join("f")).unwrap().is_none(), "a file is not a hash dir");
        // More names than one 4 KiB getdents buffer holds.
        for i in 0..300 {
            std::fs::write(tmp.path().join(format!("{i:040}.data")), b"").unwrap();
        }
        let dir = HashDir::open(tmp.path()).unwrap().unwrap();
        let mut names = dir.names().unwrap();
        names.sort();
        assert_eq!(names.len(), 301);
        assert_eq!(names[0], format!("{:040}.data", 0));
        assert_eq!(names[300], "f");
        let mut s = String::new();
        dir.open_file("f").unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "x");
        assert_eq!(dir.open_file("nope").unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
