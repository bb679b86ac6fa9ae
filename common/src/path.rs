//! Request path parsing and validation, so no handler ever sees `..`, NUL or an overlong name.

use crate::constraints::{
    MAX_ACCOUNT_NAME_LENGTH, MAX_CONTAINER_NAME_LENGTH, MAX_DEVICE_NAME_LENGTH, MAX_OBJECT_NAME_LENGTH,
};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("Invalid path: {0}")]
    Invalid(String),
    #[error("Invalid UTF8 or contains NULL")]
    BadEncoding,
    #[error("Invalid device name {0:?}")]
    BadDevice(String),
    #[error("Invalid partition {0:?}")]
    BadPartition(String),
    #[error("{kind} name length of {len} longer than {max}")]
    TooLong { kind: &'static str, len: usize, max: usize },
}

/// A storage-node request path: `/<dev>/<part>/<account>[/<container>[/<object>]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoragePath {
    pub device: String,
    pub partition: u32,
    pub account: String,
    pub container: Option<String>,
    pub object: Option<String>,
}

/// A REPLICATE-style path: `/<dev>/<part>[/<rest>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePath {
    pub device: String,
    pub partition: u32,
    pub rest: Option<String>,
}

/// Percent-decodes a raw URI path; rejects invalid UTF-8 and NUL.
/// What [`quote`] leaves as it is: unreserved characters and '/', which names may contain.
const UNQUOTED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// The one path quoter: a decoded path (`/dev/part/a/c/o`) quoted for a request line, as
/// Swift's `quote` does (everything but unreserved characters and '/'); [`decode`] undoes it.
pub fn quote(path: &str) -> String {
    utf8_percent_encode(path, UNQUOTED).to_string()
}

pub fn decode(raw: &str) -> Result<String, PathError> {
    let s = percent_decode_str(raw).decode_utf8().map_err(|_| PathError::BadEncoding)?;
    if s.contains('\0') {
        return Err(PathError::BadEncoding);
    }
    Ok(s.into_owned())
}

/// Splits a decoded path like Swift's `split_path`: `min..=max` segments, the last one
/// keeping any further slashes when `rest_with_last` (object names may contain '/').
/// Empty segments are allowed only in the trailing position of a shorter path.
pub fn split_path(path: &str, min: usize, max: usize, rest_with_last: bool) -> Result<Vec<String>, PathError> {
    let invalid = || PathError::Invalid(path.chars().take(256).collect());
    let body = path.strip_prefix('/').ok_or_else(invalid)?;
    let parts: Vec<&str> = if rest_with_last { body.splitn(max, '/').collect() } else { body.split('/').collect() };
    if parts.len() > max {
        return Err(invalid());
    }
    // Drop one trailing empty segment ("/a/c/" is the container).
    let mut parts = parts;
    if parts.len() > min && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() < min || parts.iter().take(min).any(|p| p.is_empty()) {
        return Err(invalid());
    }
    if parts[..parts.len().saturating_sub(usize::from(rest_with_last))].iter().any(|p| p.is_empty()) {
        return Err(invalid());
    }
    Ok(parts.into_iter().map(str::to_owned).collect())
}

/// A device name must be one plain path component: it is joined onto the devices dir.
pub fn validate_device(device: &str) -> Result<(), PathError> {
    let ok = !device.is_empty()
        && device.len() <= MAX_DEVICE_NAME_LENGTH
        && !device.starts_with('.')
        && device.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(PathError::BadDevice(device.chars().take(80).collect()))
    }
}

fn check_len(kind: &'static str, name: &str, max: usize) -> Result<(), PathError> {
    if name.len() > max {
        return Err(PathError::TooLong { kind, len: name.len(), max });
    }
    Ok(())
}

fn parse_partition(p: &str) -> Result<u32, PathError> {
    if p.is_empty() || p.len() > 10 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PathError::BadPartition(p.chars().take(20).collect()));
    }
    p.parse().map_err(|_| PathError::BadPartition(p.to_string()))
}

/// Checks account/container/object names against Swift's limits.
pub fn validate_names(account: &str, container: Option<&str>, object: Option<&str>) -> Result<(), PathError> {
    check_len("Account", account, MAX_ACCOUNT_NAME_LENGTH)?;
    if let Some(c) = container {
        check_len("Container", c, MAX_CONTAINER_NAME_LENGTH)?;
        if c.contains('/') {
            return Err(PathError::Invalid(c.to_string()));
        }
    }
    if let Some(o) = object {
        check_len("Object", o, MAX_OBJECT_NAME_LENGTH)?;
    }
    Ok(())
}

impl StoragePath {
    /// Parses a raw (percent-encoded) storage-node path; `min_segments` is 3 for an
    /// account, 4 for a container, 5 for an object request.
    pub fn parse(raw: &str, min_segments: usize) -> Result<Self, PathError> {
        let decoded = decode(raw)?;
        let parts = split_path(&decoded, min_segments, 5, true)?;
        let mut it = parts.into_iter();
        let device = it.next().unwrap_or_default();
        validate_device(&device)?;
        let partition = parse_partition(&it.next().unwrap_or_default())?;
        let account = it.next().unwrap_or_default();
        let container = it.next().filter(|c| !c.is_empty());
        let object = it.next().filter(|o| !o.is_empty());
        validate_names(&account, container.as_deref(), object.as_deref())?;
        Ok(StoragePath { device, partition, account, container, object })
    }
}

impl DevicePath {
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        let decoded = decode(raw)?;
        let parts = split_path(&decoded, 2, 3, true)?;
        let mut it = parts.into_iter();
        let device = it.next().unwrap_or_default();
        validate_device(&device)?;
        let partition = parse_partition(&it.next().unwrap_or_default())?;
        Ok(DevicePath { device, partition, rest: it.next().filter(|r| !r.is_empty()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_object_paths_with_slashes() {
        let p = StoragePath::parse("/sda1/12/AUTH_t/c/a/b%20c", 5).unwrap();
        assert_eq!(p.device, "sda1");
        assert_eq!(p.partition, 12);
        assert_eq!(p.container.as_deref(), Some("c"));
        assert_eq!(p.object.as_deref(), Some("a/b c"));
    }

    #[test]
    fn container_and_account_paths() {
        let c = StoragePath::parse("/sda1/0/AUTH_t/c", 4).unwrap();
        assert_eq!((c.container.as_deref(), c.object), (Some("c"), None));
        let a = StoragePath::parse("/sda1/0/AUTH_t", 3).unwrap();
        assert_eq!(a.container, None);
        assert!(StoragePath::parse("/sda1/0/AUTH_t", 4).is_err());
    }

    #[test]
    fn rejects_traversal_and_garbage() {
        for bad in [
            "/../0/a/c/o",
            "/./0/a/c/o",
            "/sd%2Fa/0/a/c/o",
            "/sda/x/a/c/o",
            "/sda/-1/a/c/o",
            "/sda/0/a/c/o%00",
            "sda/0/a/c/o",
            "/sda/0/a/c%ff/o",
            "/sda/0//c/o",
        ] {
            assert!(StoragePath::parse(bad, 5).is_err(), "{bad}");
        }
        let long = format!("/sda/0/a/c/{}", "o".repeat(1025));
        assert!(matches!(StoragePath::parse(&long, 5), Err(PathError::TooLong { .. })));
    }

    #[test]
    fn device_path() {
        let p = DevicePath::parse("/sdb/7/abc-def").unwrap();
        assert_eq!((p.device.as_str(), p.partition, p.rest.as_deref()), ("sdb", 7, Some("abc-def")));
        assert_eq!(DevicePath::parse("/sdb/7").unwrap().rest, None);
    }
}
