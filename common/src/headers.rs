//! Reading and writing header values: the one helper every server uses.

use http::{HeaderMap, HeaderName, HeaderValue};

/// A header's value as text; UTF-8 values (Swift allows them in metadata) included.
pub fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// Sets `name` to `value`; a name or value that is not a valid header is skipped.
pub fn set(h: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        h.insert(n, v);
    }
}

/// Swift's notion of a true config, header or query value.
pub fn is_true(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on" | "t" | "y")
}

/// Whether header `name` is present and true.
pub fn flag(h: &HeaderMap, name: &str) -> bool {
    get(h, name).is_some_and(is_true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_flags() {
        let mut h = HeaderMap::new();
        set(&mut h, "x-meta", "ü");
        set(&mut h, "x-bad", "a\nb");
        set(&mut h, "x-on", "Yes");
        assert_eq!(get(&h, "x-meta"), Some("ü"));
        assert_eq!(get(&h, "x-bad"), None);
        assert!(flag(&h, "x-on") && !flag(&h, "x-meta") && !flag(&h, "x-none"));
    }
}
