//! The framing shared by ring and builder files.
//!
//! ```text
//! magic (8) | format version u32 | body length u64 | compressed length u64 |
//! zstd(body) | xxh3_64 of all preceding bytes (8)
//! ```
//! All integers are little-endian.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::RingError;

const HEADER_LEN: usize = 8 + 4 + 8 + 8;
const TRAILER_LEN: usize = 8;
/// Refuse to inflate anything larger: a part-power-23 ring with 8 replicas is ~130 MiB.
const MAX_BODY_LEN: u64 = 1 << 32;

/// What kind of file a container holds.
pub(crate) struct Kind {
    pub magic: &'static [u8; 8],
    pub name: &'static str,
    pub version: u32,
}

/// Frames, compresses and writes `body` atomically: temp file in the same directory,
/// fsync, rename over `path`, fsync the directory.
pub(crate) fn write(path: &Path, kind: &Kind, body: &[u8]) -> Result<(), RingError> {
    let io = |e| RingError::io(path, e);
    let compressed = zstd::bulk::compress(body, 3).map_err(io)?;
    let mut out = Vec::with_capacity(HEADER_LEN + compressed.len() + TRAILER_LEN);
    out.extend_from_slice(kind.magic);
    out.extend_from_slice(&kind.version.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
    out.extend_from_slice(&compressed);
    let sum = xxhash_rust::xxh3::xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir).map_err(io)?;
    tmp.write_all(&out).map_err(io)?;
    // Servers running as another user must be able to read rings (temp files start 0600).
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

/// Reads, verifies and inflates a container of `kind`; returns the body.
pub(crate) fn read(path: &Path, kind: &Kind) -> Result<Vec<u8>, RingError> {
    let mut raw = Vec::new();
    File::open(path).and_then(|mut f| f.read_to_end(&mut raw)).map_err(|e| RingError::io(path, e))?;
    decode(path, kind, &raw)
}

pub(crate) fn decode(path: &Path, kind: &Kind, raw: &[u8]) -> Result<Vec<u8>, RingError> {
    if raw.len() < 8 || &raw[..8] != kind.magic {
        return Err(RingError::BadMagic { path: path.to_path_buf(), expected: kind.name });
    }
    if raw.len() < HEADER_LEN + TRAILER_LEN {
        return Err(RingError::corrupt(path, "truncated header"));
    }
    let u64_at = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().unwrap_or([0; 8]));
    let version = u32::from_le_bytes(raw[8..12].try_into().unwrap_or([0; 4]));
    if version != kind.version {
        return Err(RingError::UnsupportedVersion { path: path.to_path_buf(), kind: kind.name, version });
    }
    let body_len = u64_at(12);
    let compressed_len = u64_at(20);
    if compressed_len != (raw.len() - HEADER_LEN - TRAILER_LEN) as u64 {
        return Err(RingError::corrupt(
            path,
            format!(
                "length mismatch: header says {compressed_len} compressed bytes, file holds {}",
                raw.len() - HEADER_LEN - TRAILER_LEN
            ),
        ));
    }
    let (framed, trailer) = raw.split_at(raw.len() - TRAILER_LEN);
    if xxhash_rust::xxh3::xxh3_64(framed).to_le_bytes() != trailer {
        return Err(RingError::corrupt(path, "checksum mismatch"));
    }
    if body_len > MAX_BODY_LEN {
        return Err(RingError::corrupt(path, format!("body of {body_len} bytes is too large")));
    }
    let body = zstd::bulk::decompress(&framed[HEADER_LEN..], body_len as usize)
        .map_err(|e| RingError::corrupt(path, format!("bad compressed body: {e}")))?;
    if body.len() as u64 != body_len {
        return Err(RingError::corrupt(path, "body length mismatch"));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: Kind = Kind { magic: b"TESTFILE", name: "test", version: 3 };

    #[test]
    fn round_trips_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        let body: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        write(&path, &KIND, &body).unwrap();
        assert_eq!(read(&path, &KIND).unwrap(), body);
        let raw = std::fs::read(&path).unwrap();
        for cut in [0, 7, 20, raw.len() / 2, raw.len() - 1] {
            assert!(decode(&path, &KIND, &raw[..cut]).is_err(), "truncated at {cut}");
        }
        for flip in [9, 30, raw.len() / 2, raw.len() - 3] {
            let mut bad = raw.clone();
            bad[flip] ^= 0x40;
            assert!(decode(&path, &KIND, &bad).is_err(), "flipped byte {flip}");
        }
        let other = Kind { magic: b"TESTFILE", name: "test", version: 4 };
        assert!(matches!(decode(&path, &other, &raw), Err(RingError::UnsupportedVersion { version: 3, .. })));
        let other = Kind { magic: b"OTHERFIL", name: "other", version: 3 };
        assert!(matches!(decode(&path, &other, &raw), Err(RingError::BadMagic { .. })));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temp files left behind: {names:?}");
    }
}
