//! The versioned metadata codec: one explicit, checksummed byte format for a map of string
//! keys to string values (an object's name, timestamps, ETag, user headers, ...).
//!
//! Swift pickles a dict into xattrs; Swiftlet stores
//!
//! ```text
//! "SWM" | version (1 byte, currently 1) | xxh3-64 of the payload (8 bytes, little endian) | payload
//! ```
//!
//! where the version-1 payload is a JSON object of strings. The checksum catches a torn or
//! bit-rotted value, so a reader can tell "damaged" (quarantine it) from "absent".

use std::collections::BTreeMap;
use xxhash_rust::xxh3::xxh3_64;

/// Metadata: header-like keys (case preserved) to values, sorted for a stable encoding.
pub type Metadata = BTreeMap<String, String>;

const MAGIC: &[u8; 3] = b"SWM";
/// The format version this build writes; it reads every version it knows.
pub const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1 + 8;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetadataCodecError {
    #[error("metadata too short ({0} bytes)")]
    TooShort(usize),
    #[error("metadata has no SWM magic")]
    BadMagic,
    #[error("unknown metadata format version {0}")]
    UnknownVersion(u8),
    #[error("metadata checksum mismatch")]
    BadChecksum,
    #[error("metadata payload is not a JSON object of strings: {0}")]
    BadPayload(String),
}

/// Encodes `meta` in the current format version.
pub fn encode(meta: &Metadata) -> Vec<u8> {
    // A map of strings always serializes; the fallback keeps this infallible without a panic.
    let payload = serde_json::to_vec(meta).unwrap_or_else(|_| b"{}".to_vec());
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes bytes written by [`encode`], verifying magic, version and checksum.
pub fn decode(bytes: &[u8]) -> Result<Metadata, MetadataCodecError> {
    if bytes.len() < HEADER_LEN {
        return Err(MetadataCodecError::TooShort(bytes.len()));
    }
    if &bytes[..3] != MAGIC {
        return Err(MetadataCodecError::BadMagic);
    }
    match bytes[3] {
        1 => {
            let mut sum = [0u8; 8];
            sum.copy_from_slice(&bytes[4..HEADER_LEN]);
            let payload = &bytes[HEADER_LEN..];
            if xxh3_64(payload) != u64::from_le_bytes(sum) {
                return Err(MetadataCodecError::BadChecksum);
            }
            serde_json::from_slice(payload).map_err(|e| MetadataCodecError::BadPayload(e.to_string()))
        }
        v => Err(MetadataCodecError::UnknownVersion(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Metadata {
        let mut m = Metadata::new();
        m.insert("name".into(), "/a/c/o ü".into());
        m.insert("X-Timestamp".into(), "1700000000.00000".into());
        m.insert("X-Object-Meta-Color".into(), "blue\"quoted\"".into());
        m
    }

    #[test]
    fn round_trips() {
        let m = sample();
        let bytes = encode(&m);
        assert_eq!(&bytes[..4], b"SWM\x01");
        assert_eq!(decode(&bytes).unwrap(), m);
        assert_eq!(decode(&encode(&Metadata::new())).unwrap(), Metadata::new());
    }

    #[test]
    fn detects_damage() {
        let mut bytes = encode(&sample());
        assert_eq!(decode(&bytes[..5]), Err(MetadataCodecError::TooShort(5)));
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        assert_eq!(decode(&bytes), Err(MetadataCodecError::BadChecksum));
        bytes[3] = 9;
        assert_eq!(decode(&bytes), Err(MetadataCodecError::UnknownVersion(9)));
        bytes[0] = b'X';
        assert_eq!(decode(&bytes), Err(MetadataCodecError::BadMagic));
    }

    #[test]
    fn rejects_non_string_payload() {
        let payload = br#"{"a": 1}"#;
        let mut bytes = b"SWM\x01".to_vec();
        bytes.extend_from_slice(&xxh3_64(payload).to_le_bytes());
        bytes.extend_from_slice(payload);
        assert!(matches!(decode(&bytes), Err(MetadataCodecError::BadPayload(_))));
    }
}
