//! The API limits, as Swift's `swift/common/constraints.py` defines them and `/info` reports.

pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * 1024;
pub const MAX_META_NAME_LENGTH: usize = 128;
pub const MAX_META_VALUE_LENGTH: usize = 256;
pub const MAX_META_COUNT: usize = 90;
pub const MAX_META_OVERALL_SIZE: usize = 4096;
pub const MAX_HEADER_SIZE: usize = 8192;
pub const MAX_HEADER_COUNT: usize = 256;
/// The most a server buffers of one connection's input: a request head beyond it is 431
/// at once, instead of read (and parsed again as it grows) up to hyper's ~400 KB default.
/// Room for every header at its limits that real requests send (metadata is 4 KiB at most).
pub const MAX_REQUEST_BUFFER: usize = 64 * 1024;
pub const MAX_OBJECT_NAME_LENGTH: usize = 1024;
pub const MAX_CONTAINER_NAME_LENGTH: usize = 256;
pub const MAX_ACCOUNT_NAME_LENGTH: usize = 256;
pub const CONTAINER_LISTING_LIMIT: usize = 10_000;
pub const ACCOUNT_LISTING_LIMIT: usize = 10_000;
pub const MAX_DEVICE_NAME_LENGTH: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("Metadata name cannot be empty")]
    EmptyName,
    #[error("Metadata name too long: {0}")]
    NameTooLong(String),
    #[error("Metadata value longer than {MAX_META_VALUE_LENGTH}: {0}")]
    ValueTooLong(String),
    #[error("Too many metadata items; max {MAX_META_COUNT}")]
    TooMany,
    #[error("Total metadata too large; max {MAX_META_OVERALL_SIZE}")]
    TooLarge,
}

/// Checks user metadata (`X-<type>-Meta-*` headers) the way Swift's `check_metadata` does.
///
/// `items` yields (name after the `X-<type>-Meta-` prefix, value).
pub fn check_metadata<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), MetadataError> {
    let mut count = 0;
    let mut size = 0;
    for (name, value) in items {
        if name.is_empty() {
            return Err(MetadataError::EmptyName);
        }
        if name.len() > MAX_META_NAME_LENGTH {
            return Err(MetadataError::NameTooLong(name.to_string()));
        }
        if value.len() > MAX_META_VALUE_LENGTH {
            return Err(MetadataError::ValueTooLong(name.to_string()));
        }
        count += 1;
        size += name.len() + value.len();
        if count > MAX_META_COUNT {
            return Err(MetadataError::TooMany);
        }
        if size > MAX_META_OVERALL_SIZE {
            return Err(MetadataError::TooLarge);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_limits() {
        assert!(check_metadata([("a", "b")]).is_ok());
        assert_eq!(check_metadata([("", "b")]), Err(MetadataError::EmptyName));
        let long = "x".repeat(MAX_META_NAME_LENGTH + 1);
        assert!(matches!(check_metadata([(long.as_str(), "b")]), Err(MetadataError::NameTooLong(_))));
        let names: Vec<String> = (0..=MAX_META_COUNT).map(|i| format!("k{i}")).collect();
        assert_eq!(check_metadata(names.iter().map(|n| (n.as_str(), "v"))), Err(MetadataError::TooMany));
        let v = "v".repeat(250);
        let names: Vec<String> = (0..17).map(|i| format!("k{i}")).collect();
        assert_eq!(check_metadata(names.iter().map(|n| (n.as_str(), v.as_str()))), Err(MetadataError::TooLarge));
    }
}
