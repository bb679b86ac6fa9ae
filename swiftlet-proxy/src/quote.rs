//! Paths of resources, quoted with the cluster's one path quoter (`common::path::quote`).

pub use common::path::quote;

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
