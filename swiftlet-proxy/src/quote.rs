//! The one path quoter: decoded names (`/a/c/o`) quoted for a request line, as Swift's
//! `quote` does (everything but unreserved characters and `/`).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Encode everything but unreserved characters and '/', which object names may contain.
const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Quotes a decoded path (`/a/c/o`) for a request line.
pub fn quote(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// `/a[/c[/o]]`, quoted: a resource on a storage node.
pub(crate) fn resource_path(account: &str, container: Option<&str>, object: Option<&str>) -> String {
    let mut p = format!("/{account}");
    if let Some(c) = container {
        p.push('/');
        p.push_str(c);
        if let Some(o) = object {
            p.push('/');
            p.push_str(o);
        }
    }
    quote(&p)
}

/// `/v1/<account>[/<container>[/<object>]]`, quoted: a resource of the Swift API.
pub fn swift_path(account: &str, container: Option<&str>, object: Option<&str>) -> String {
    format!("/v1{}", resource_path(account, container, object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_slashes() {
        assert_eq!(resource_path("AUTH_t", Some("c"), Some("a b/ü?")), "/AUTH_t/c/a%20b/%C3%BC%3F");
        assert_eq!(resource_path("AUTH_t", None, None), "/AUTH_t");
        assert_eq!(swift_path("AUTH_t", Some("c"), Some("a b")), "/v1/AUTH_t/c/a%20b");
    }
}
