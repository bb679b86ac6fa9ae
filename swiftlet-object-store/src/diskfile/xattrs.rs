//! Where a file's metadata lives: user xattrs, or a spill area in the file itself.
//!
//! The encoded metadata (see `common::metadata`) goes into `user.swiftlet.metadata`, split
//! into 64 KiB values (`...metadata1`, `...metadata2`, ...) when larger (a value shorter than
//! a full chunk is the last one). ext4 keeps all of a file's xattrs in one 4 KiB block, so
//! an object with Swift's full 4096 bytes of user metadata does not fit there. Then the
//! writer *spills*: it appends the encoded metadata to the file right after the body (at
//! offset 0 for the body-less `.meta` and `.ts` files) and sets the small xattr
//! `user.swiftlet.spill = "1 <offset> <length>"` instead. Readers look for the metadata xattr
//! first and the spill pointer second; the body is always bytes `[0, Content-Length)`.
//! Spilling is decided by the filesystem's answer (ENOSPC/E2BIG/ERANGE from setxattr), so
//! XFS and friends keep everything in xattrs.

use crate::error::{Result, StoreError};
use common::metadata::{self, Metadata};
use std::ffi::{CStr, CString};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

const METADATA_NAME: &str = "user.swiftlet.metadata";
const SPILL_NAME: &CStr = c"user.swiftlet.spill";
/// Linux's XATTR_SIZE_MAX: the largest single xattr value.
pub const CHUNK_SIZE: usize = 65536;

/// Where [`write_metadata`] put the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Xattr,
    /// In the file at `offset`, `len` bytes long.
    Spilled {
        offset: u64,
        len: u64,
    },
}

fn chunk_name(i: usize) -> CString {
    let name = if i == 0 { METADATA_NAME.to_string() } else { format!("{METADATA_NAME}{i}") };
    // The name is built from ASCII without NUL bytes.
    CString::new(name).unwrap_or_default()
}

fn last_os_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn fset(file: &File, name: &CStr, value: &[u8]) -> std::io::Result<()> {
    // SAFETY: fd is open for the life of `file`; name is NUL-terminated; value is a valid slice.
    let rc = unsafe { libc::fsetxattr(file.as_raw_fd(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(last_os_error())
    }
}

fn fremove(file: &File, name: &CStr) {
    // SAFETY: as in `fset`. Failure (e.g. ENODATA) leaves nothing to undo.
    unsafe { libc::fremovexattr(file.as_raw_fd(), name.as_ptr()) };
}

/// Reads one xattr value; `Ok(None)` when the file has no such attribute.
fn fget(file: &File, name: &CStr) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: buf is writable for buf.len() bytes; fd and name are valid.
        let n = unsafe { libc::fgetxattr(file.as_raw_fd(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(Some(buf));
        }
        let err = last_os_error();
        match err.raw_os_error() {
            Some(libc::ENODATA) => return Ok(None),
            Some(libc::ERANGE) => {
                // SAFETY: a zero-size query writes nothing.
                let size = unsafe { libc::fgetxattr(file.as_raw_fd(), name.as_ptr(), std::ptr::null_mut(), 0) };
                if size < 0 {
                    return Err(last_os_error());
                }
                buf = vec![0u8; size as usize + 1];
            }
            _ => return Err(err),
        }
    }
}

fn unsupported(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EOPNOTSUPP)
}

fn map_xattr_error(e: std::io::Error) -> StoreError {
    if unsupported(&e) {
        StoreError::XattrNotSupported("xattr".into())
    } else {
        StoreError::from_write(e)
    }
}

/// True if the filesystem holding `dir` supports user xattrs, asked without writing anything.
pub fn supports_user_xattrs(dir: &Path) -> Result<bool> {
    let path = CString::new(dir.as_os_str().as_bytes()).map_err(|_| StoreError::Internal("NUL in path".into()))?;
    // SAFETY: both strings are NUL-terminated; a zero-size query writes nothing.
    let rc = unsafe { libc::getxattr(path.as_ptr(), c"user.swiftlet.probe".as_ptr(), std::ptr::null_mut(), 0) };
    if rc >= 0 {
        return Ok(true);
    }
    let err = last_os_error();
    match err.raw_os_error() {
        Some(libc::ENODATA) => Ok(true),
        Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(StoreError::Io(err)),
    }
}

/// Stores `meta` on `file`; when the xattrs do not fit, spills it at `spill_offset`.
pub fn write_metadata(file: &File, meta: &Metadata, spill_offset: u64) -> Result<Stored> {
    write_encoded(file, &metadata::encode(meta), spill_offset, CHUNK_SIZE)
}

fn write_encoded(file: &File, encoded: &[u8], spill_offset: u64, chunk: usize) -> Result<Stored> {
    let mut written = 0;
    let mut failure = None;
    for (i, part) in encoded.chunks(chunk).enumerate() {
        if let Err(e) = fset(file, &chunk_name(i), part) {
            failure = Some(e);
            break;
        }
        written = i + 1;
    }
    let Some(err) = failure else { return Ok(Stored::Xattr) };
    let too_big = matches!(err.raw_os_error(), Some(libc::ENOSPC) | Some(libc::E2BIG) | Some(libc::ERANGE));
    if !too_big {
        return Err(map_xattr_error(err));
    }
    for i in 0..written {
        fremove(file, &chunk_name(i));
    }
    file.write_all_at(encoded, spill_offset).map_err(StoreError::from_write)?;
    let pointer = format!("1 {spill_offset} {}", encoded.len());
    fset(file, SPILL_NAME, pointer.as_bytes()).map_err(map_xattr_error)?;
    Ok(Stored::Spilled { offset: spill_offset, len: encoded.len() as u64 })
}

/// Reads the metadata of `file` and where it was stored. `StoreError::Quarantined` means the
/// metadata is missing or damaged.
pub fn read_metadata(file: &File) -> Result<(Metadata, Stored)> {
    read_encoded(file, CHUNK_SIZE)
}

fn read_encoded(file: &File, chunk: usize) -> Result<(Metadata, Stored)> {
    let first = fget(file, &chunk_name(0)).map_err(map_xattr_error)?;
    let (bytes, stored) = match first {
        Some(mut bytes) => {
            let mut last_len = bytes.len();
            let mut i = 1;
            while last_len == chunk {
                match fget(file, &chunk_name(i)).map_err(map_xattr_error)? {
                    Some(more) => {
                        last_len = more.len();
                        bytes.extend_from_slice(&more);
                    }
                    None => break,
                }
                i += 1;
            }
            (bytes, Stored::Xattr)
        }
        None => {
            let pointer = fget(file, SPILL_NAME)
                .map_err(map_xattr_error)?
                .ok_or_else(|| StoreError::Quarantined("no metadata".into()))?;
            let (offset, len) = parse_pointer(&pointer)?;
            let mut bytes = vec![0u8; len as usize];
            file.read_exact_at(&mut bytes, offset)
                .map_err(|e| StoreError::Quarantined(format!("spilled metadata unreadable: {e}")))?;
            (bytes, Stored::Spilled { offset, len })
        }
    };
    let meta = metadata::decode(&bytes).map_err(|e| StoreError::Quarantined(format!("bad metadata: {e}")))?;
    Ok((meta, stored))
}

fn parse_pointer(v: &[u8]) -> Result<(u64, u64)> {
    let bad = || StoreError::Quarantined("bad spill pointer".into());
    let s = std::str::from_utf8(v).map_err(|_| bad())?;
    let mut it = s.split(' ');
    if it.next() != Some("1") {
        return Err(bad());
    }
    let offset = it.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
    let len: u64 = it.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
    // Swift's limits keep metadata far below this; a huge length means damage.
    if len > 16 << 20 || it.next().is_some() {
        return Err(bad());
    }
    Ok((offset, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn meta_of(n: usize, value_len: usize) -> Metadata {
        (0..n).map(|i| (format!("X-Object-Meta-K{i:03}"), "v".repeat(value_len))).collect()
    }

    #[test]
    fn small_metadata_stays_in_one_xattr() {
        let dir = tempfile::tempdir().unwrap();
        let f = File::options().create_new(true).read(true).write(true).open(dir.path().join("f")).unwrap();
        let m = meta_of(3, 10);
        assert_eq!(write_metadata(&f, &m, 0).unwrap(), Stored::Xattr);
        assert_eq!(read_metadata(&f).unwrap(), (m, Stored::Xattr));
        assert!(supports_user_xattrs(dir.path()).unwrap());
    }

    #[test]
    fn chunks_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let f = File::options().create_new(true).read(true).write(true).open(dir.path().join("f")).unwrap();
        let m = meta_of(4, 20);
        let encoded = metadata::encode(&m);
        // Small chunks, so the split is exercised on any filesystem; also an exact multiple.
        assert_eq!(write_encoded(&f, &encoded, 0, 64).unwrap(), Stored::Xattr);
        assert_eq!(read_encoded(&f, 64).unwrap().0, m);
        let f2 = File::options().create_new(true).read(true).write(true).open(dir.path().join("g")).unwrap();
        let exact = encoded.len();
        assert_eq!(write_encoded(&f2, &encoded, 0, exact).unwrap(), Stored::Xattr);
        assert_eq!(read_encoded(&f2, exact).unwrap().0, m);
    }

    #[test]
    fn full_user_metadata_spills_on_ext4_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = File::options().create_new(true).read(true).write(true).open(dir.path().join("f")).unwrap();
        f.write_all(b"body").unwrap();
        // 16 items of 128 + 128 bytes: 4096 bytes of user metadata, Swift's maximum.
        let m: Metadata =
            (0..16).map(|i| (format!("X-Object-Meta-{}{i:02}", "k".repeat(112)), "v".repeat(128))).collect();
        let stored = write_metadata(&f, &m, 4).unwrap();
        let (back, how) = read_metadata(&f).unwrap();
        assert_eq!(back, m);
        assert_eq!(how, stored);
        if let Stored::Spilled { offset, len } = stored {
            assert_eq!(offset, 4);
            assert_eq!(f.metadata().unwrap().len(), 4 + len);
        }
    }

    #[test]
    fn damaged_or_missing_metadata_is_quarantine() {
        let dir = tempfile::tempdir().unwrap();
        let f = File::options().create_new(true).read(true).write(true).open(dir.path().join("f")).unwrap();
        assert!(matches!(read_metadata(&f), Err(StoreError::Quarantined(_))));
        fset(&f, &chunk_name(0), b"SWM\x01garbagegarbage").unwrap();
        assert!(matches!(read_metadata(&f), Err(StoreError::Quarantined(_))));
        assert!(parse_pointer(b"1 0 99999999999").is_err());
        assert_eq!(parse_pointer(b"1 5 7").unwrap(), (5, 7));
    }
}
