//! Client headers on their way to the storage nodes: which are copied, removals
//! (`X-Remove-*`), and the user metadata the limits are checked on.

use http::{HeaderMap, HeaderValue};

/// Copies the client headers whose lowercase names start with one of `prefixes`, or equal one of `names`.
pub(crate) fn copy_headers(src: &HeaderMap, dst: &mut HeaderMap, prefixes: &[&str], names: &[&str]) {
    for (name, value) in src {
        let n = name.as_str();
        if prefixes.iter().any(|p| n.starts_with(p)) || names.contains(&n) {
            dst.append(name.clone(), value.clone());
        }
    }
}

/// `X-Remove-<Type>-Meta-Foo: x` becomes `X-<Type>-Meta-Foo:` (empty value deletes it).
pub(crate) fn apply_removals(src: &HeaderMap, dst: &mut HeaderMap, kind: &str) {
    let prefix = format!("x-remove-{kind}-");
    for name in src.keys() {
        if let Some(rest) = name.as_str().strip_prefix(&prefix) {
            if let Ok(n) = http::HeaderName::from_bytes(format!("x-{kind}-{rest}").as_bytes()) {
                dst.insert(n, HeaderValue::from_static(""));
            }
        }
    }
}

/// The user metadata of a request (`X-<kind>-Meta-*` name suffixes and values) for limit checks.
pub(crate) fn user_metadata<'a>(headers: &'a HeaderMap, kind: &str) -> Vec<(&'a str, &'a str)> {
    let prefix = format!("x-{kind}-meta-");
    headers
        .iter()
        .filter_map(|(n, v)| {
            Some((n.as_str().strip_prefix(prefix.as_str())?, std::str::from_utf8(v.as_bytes()).unwrap_or("")))
        })
        .collect()
}
