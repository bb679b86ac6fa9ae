//! What the proxy needs beyond `common::headers` (which it uses for `get`, `set`,
//! `is_true` and `flag`): setting a header whose name is a `&'static str` without parsing
//! (nor allocating) the name, for the headers every backend request carries, and
//! comma-separated directives several steps may each extend.

use http::{HeaderMap, HeaderName, HeaderValue};

/// Sets `name` (a lowercase literal) to `value`; a value that is not a valid header is
/// skipped. Unlike `common::headers::set`, a custom name costs no allocation here.
pub(crate) fn set_static(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// Adds `value` to a comma-separated header list (backend directives several steps may
/// each extend, such as `X-Backend-Etag-Is-At`).
pub(crate) fn append_csv(h: &mut HeaderMap, name: &str, value: &str) {
    let joined = match common::headers::get(h, name).filter(|v| !v.is_empty()) {
        Some(old) if old.split(',').any(|v| v.trim().eq_ignore_ascii_case(value)) => return,
        Some(old) => format!("{old},{value}"),
        None => value.to_string(),
    };
    common::headers::set(h, name, &joined);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_grow_once_per_value() {
        let mut h = HeaderMap::new();
        append_csv(&mut h, "x-backend-etag-is-at", "a");
        append_csv(&mut h, "x-backend-etag-is-at", "b");
        append_csv(&mut h, "x-backend-etag-is-at", "A");
        assert_eq!(common::headers::get(&h, "x-backend-etag-is-at"), Some("a,b"));
        set_static(&mut h, "x-timestamp", "1");
        assert_eq!(common::headers::get(&h, "x-timestamp"), Some("1"));
    }
}
