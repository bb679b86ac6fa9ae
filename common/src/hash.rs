//! Placement hashing: `xxh3_128(prefix + "/a/c/o" + suffix)`.
//!
//! The prefix and suffix are a cluster secret, so clients cannot aim many names at one
//! partition. The hash picks the partition (its top bits) and names the object's
//! directory on disk (32 hex digits).

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// The cluster's hash-path prefix and suffix (Swift's `swift_hash_path_prefix/suffix`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashPathSecret {
    pub prefix: String,
    pub suffix: String,
}

impl HashPathSecret {
    pub fn new(prefix: impl Into<String>, suffix: impl Into<String>) -> Self {
        HashPathSecret { prefix: prefix.into(), suffix: suffix.into() }
    }

    /// Applies `SWIFTLET_HASH_PATH_PREFIX` / `SWIFTLET_HASH_PATH_SUFFIX` from the environment
    /// over the configured values, so every server of a node can share one secret without
    /// writing it into each config file.
    pub fn with_env_overrides(mut self) -> Self {
        if let Ok(p) = std::env::var("SWIFTLET_HASH_PATH_PREFIX") {
            self.prefix = p;
        }
        if let Ok(s) = std::env::var("SWIFTLET_HASH_PATH_SUFFIX") {
            self.suffix = s;
        }
        self
    }

    /// The 128-bit placement hash of an account, container or object path.
    pub fn hash(&self, account: &str, container: Option<&str>, object: Option<&str>) -> u128 {
        let mut h = Xxh3::new();
        h.update(self.prefix.as_bytes());
        h.update(b"/");
        h.update(account.as_bytes());
        if let Some(c) = container {
            h.update(b"/");
            h.update(c.as_bytes());
            if let Some(o) = object {
                h.update(b"/");
                h.update(o.as_bytes());
            }
        }
        h.update(self.suffix.as_bytes());
        h.digest128()
    }

    /// The hash as 32 lowercase hex digits, the on-disk directory name.
    pub fn hash_hex(&self, account: &str, container: Option<&str>, object: Option<&str>) -> String {
        format!("{:032x}", self.hash(account, container, object))
    }
}

/// The partition of a hash in a ring of `part_power` bits: its top bits.
pub fn partition_of(hash: u128, part_power: u8) -> u32 {
    if part_power == 0 {
        0
    } else {
        (hash >> (128 - u32::from(part_power))) as u32
    }
}

/// The partition encoded in a 32-hex-digit hash (for walking directories on disk).
pub fn partition_of_hex(hash_hex: &str, part_power: u8) -> Option<u32> {
    u128::from_str_radix(hash_hex, 16).ok().map(|h| partition_of(h, part_power))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_changes_placement() {
        let a = HashPathSecret::new("", "x");
        let b = HashPathSecret::new("", "y");
        assert_ne!(a.hash("AUTH_t", Some("c"), Some("o")), b.hash("AUTH_t", Some("c"), Some("o")));
        assert_eq!(a.hash_hex("AUTH_t", None, None).len(), 32);
    }

    #[test]
    fn hashes_prefix_path_suffix() {
        // Container names cannot hold '/', so "p" + "/a/c" + "s" names one path only.
        let s = HashPathSecret::new("p", "s");
        assert_eq!(s.hash("a", Some("c"), None), {
            let mut h = Xxh3::new();
            h.update(b"p/a/cs");
            h.digest128()
        });
    }

    #[test]
    fn partition_is_top_bits() {
        assert_eq!(partition_of(u128::MAX, 10), 1023);
        assert_eq!(partition_of(1u128 << 127, 1), 1);
        assert_eq!(partition_of(12345, 0), 0);
        assert_eq!(partition_of_hex(&format!("{:032x}", u128::MAX), 23), Some((1 << 23) - 1));
    }
}
