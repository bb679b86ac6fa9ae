//! The keys of an object's stored metadata and typed access to them.
//!
//! Stored keys follow Swift: `name` (`/a/c/o`), `X-Timestamp`, `Content-Type`,
//! `Content-Length`, `ETag` (MD5 hex), user and system headers in Title-Case; Swiftlet adds
//! the body checksum (`xxh3-128`, or `blake3` on older objects: see `checksum.rs`).

use crate::error::{Result, StoreError};
use common::metadata::Metadata;
use common::Timestamp;

pub const NAME: &str = "name";
pub const X_TIMESTAMP: &str = "X-Timestamp";
pub const CONTENT_TYPE: &str = "Content-Type";
pub const CONTENT_TYPE_TIMESTAMP: &str = "Content-Type-Timestamp";
pub const CONTENT_LENGTH: &str = "Content-Length";
pub const ETAG: &str = "ETag";
pub const X_DELETE_AT: &str = "X-Delete-At";

/// Typed reads of a metadata map; a missing or malformed required key is an error that
/// callers turn into quarantine.
pub trait MetadataExt {
    fn str_of(&self, key: &str) -> Option<&str>;
    fn timestamp(&self) -> Result<Timestamp>;
    fn content_length(&self) -> Result<u64>;
    fn delete_at(&self) -> Result<Option<u64>>;
    fn name(&self) -> Option<&str>;
    fn etag(&self) -> Option<&str>;
}

impl MetadataExt for Metadata {
    fn str_of(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }

    fn timestamp(&self) -> Result<Timestamp> {
        let v =
            self.str_of(X_TIMESTAMP).ok_or_else(|| StoreError::Quarantined("metadata has no X-Timestamp".into()))?;
        v.parse().map_err(|_| StoreError::Quarantined(format!("bad X-Timestamp {v:?} in metadata")))
    }

    fn content_length(&self) -> Result<u64> {
        let v = self.str_of(CONTENT_LENGTH).ok_or_else(|| StoreError::Quarantined("missing content-length".into()))?;
        v.parse().map_err(|_| StoreError::Quarantined(format!("bad content-length {v:?} in metadata")))
    }

    fn delete_at(&self) -> Result<Option<u64>> {
        match self.str_of(X_DELETE_AT) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| StoreError::Quarantined(format!("bad x-delete-at value {v:?}"))),
        }
    }

    fn name(&self) -> Option<&str> {
        self.str_of(NAME)
    }

    fn etag(&self) -> Option<&str> {
        self.str_of(ETAG)
    }
}

/// Title-Cases a header name the way Swift stores it: `x-object-meta-color` -> `X-Object-Meta-Color`.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        upper = c == '-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads() {
        let mut m = Metadata::new();
        assert!(matches!(m.timestamp(), Err(StoreError::Quarantined(_))));
        m.insert(X_TIMESTAMP.into(), "1700000000.00000".into());
        m.insert(CONTENT_LENGTH.into(), "12".into());
        assert_eq!(m.timestamp().unwrap().normal(), "1700000000.00000");
        assert_eq!(m.content_length().unwrap(), 12);
        assert_eq!(m.delete_at().unwrap(), None);
        m.insert(X_DELETE_AT.into(), "nope".into());
        assert!(m.delete_at().is_err());
        assert_eq!(title_case("x-object-meta-FOO-bar"), "X-Object-Meta-Foo-Bar");
        assert_eq!(title_case("etag"), "Etag");
    }
}
