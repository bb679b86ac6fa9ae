//! Headers only an account's owner is shown (Swift's `swift_owner_headers`): who may read
//! and write, where and with what key a container syncs, and the TempURL keys anyone
//! holding could sign requests with. Everyone else (ACL grantees, referrers, Keystone
//! readers, TempURL users) gets the rest of the metadata without them.

use http::HeaderMap;

/// The owner-only headers of a container.
pub(crate) const CONTAINER: &[&str] = &[
    "x-container-read",
    "x-container-write",
    "x-container-sync-to",
    "x-container-sync-key",
    "x-container-meta-temp-url-key",
    "x-container-meta-temp-url-key-2",
];

/// The owner-only headers of an account.
pub(crate) const ACCOUNT: &[&str] =
    &["x-account-meta-temp-url-key", "x-account-meta-temp-url-key-2", "x-account-access-control"];

pub(crate) fn is_owner_only(name: &str) -> bool {
    CONTAINER.contains(&name) || ACCOUNT.contains(&name)
}

/// Removes the owner-only headers from a response to someone who is not the owner.
pub(crate) fn strip(headers: &mut HeaderMap) {
    for name in CONTAINER.iter().chain(ACCOUNT) {
        headers.remove(*name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn strips_keys_acls_and_sync_only() {
        let mut h = HeaderMap::new();
        for n in CONTAINER.iter().chain(ACCOUNT).chain(&["x-container-meta-color", "x-account-meta-temp-url"]) {
            h.insert(http::HeaderName::from_static(n), HeaderValue::from_static("1"));
        }
        strip(&mut h);
        assert_eq!(h.len(), 2);
        assert!(h.contains_key("x-container-meta-color") && h.contains_key("x-account-meta-temp-url"));
        assert!(is_owner_only("x-container-meta-temp-url-key-2") && !is_owner_only("x-container-meta-color"));
    }
}
