//! The header side of the DB servers: request timestamps and policy indexes, metadata
//! taken from request headers, and a DB's info and metadata as response headers.
//! Errors are messages for a 400; the servers choose the status.

use super::meta::Metadata;
use super::{DbInfo, DbKind};
use common::constraints::check_metadata;
use common::Timestamp;
use http::{HeaderMap, HeaderName, HeaderValue};

/// A header's value as UTF-8 (header values may carry UTF-8 bytes; anything else is refused).
pub fn header_utf8<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, String> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => std::str::from_utf8(v.as_bytes()).map(Some).map_err(|_| format!("{name} header is not valid UTF-8")),
    }
}

/// An optional timestamp header.
pub fn header_timestamp(headers: &HeaderMap, name: &str) -> Result<Option<Timestamp>, String> {
    match header_utf8(headers, name)? {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            format!("{name} should be a UNIX timestamp float value; was {:?}", v.chars().take(40).collect::<String>())
        }),
    }
}

/// The required `X-Timestamp`.
pub fn x_timestamp(headers: &HeaderMap) -> Result<Timestamp, String> {
    header_timestamp(headers, "x-timestamp")?.ok_or_else(|| "Missing X-Timestamp header".to_string())
}

/// A required integer header (e.g. `X-Size`, `X-Object-Count`).
pub fn header_int(headers: &HeaderMap, name: &str) -> Result<i64, String> {
    let v = header_utf8(headers, name)?.ok_or_else(|| format!("Missing {name} header"))?;
    v.trim().parse().map_err(|_| format!("Invalid {name} header {:?}", v.chars().take(40).collect::<String>()))
}

/// A policy index header, checked against the configured policies.
pub fn policy_index(headers: &HeaderMap, name: &str, valid: &[u32]) -> Result<Option<u32>, String> {
    match header_utf8(headers, name)? {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(i) if valid.contains(&i) => Ok(Some(i)),
            _ => Err(format!("Invalid {name} {v:?}")),
        },
    }
}

/// Title-cases a lowercase header name (`x-container-meta-a` -> `X-Container-Meta-A`).
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The metadata a request sets: `X-<Kind>-Meta-*`, `X-<Kind>-Sysmeta-*` and the named
/// `saved` headers (ACLs and the like), stamped with `t`; user metadata is checked
/// against Swift's limits.
pub fn metadata_from_headers(
    headers: &HeaderMap,
    kind: DbKind,
    saved: &[&str],
    t: Timestamp,
) -> Result<Metadata, String> {
    let word = match kind {
        DbKind::Account => "account",
        DbKind::Container => "container",
    };
    let (user, sys) = (format!("x-{word}-meta-"), format!("x-{word}-sysmeta-"));
    let mut md = Metadata::new();
    let mut user_items = Vec::new();
    for name in headers.keys() {
        let n = name.as_str();
        let is_user = n.len() > user.len() && n.starts_with(&user);
        let is_sys = n.len() > sys.len() && n.starts_with(&sys);
        if !(is_user || is_sys || saved.contains(&n)) {
            continue;
        }
        let value = header_utf8(headers, n)?.unwrap_or("").to_string();
        if is_user {
            user_items.push((n[user.len()..].to_string(), value.clone()));
        }
        md.insert(title_case(n), (value, t));
    }
    check_metadata(user_items.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| e.to_string())?;
    Ok(md)
}

fn put(out: &mut HeaderMap, name: &str, value: impl ToString) {
    if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value.to_string())) {
        out.insert(n, v);
    }
}

/// Metadata with a value as response headers (deletion markers are not shown).
pub fn metadata_to_headers(md: &Metadata, out: &mut HeaderMap) {
    for (k, (v, _)) in md {
        if v.is_empty() {
            continue;
        }
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_bytes(v.as_bytes())) {
            out.insert(n, v);
        }
    }
}

/// The `X-Backend-*` headers (always sent, so proxies can compare replicas even of a
/// deleted container) and, unless deleted, the container's public stats headers.
pub fn container_headers(info: Option<&DbInfo>, deleted: bool, out: &mut HeaderMap) {
    let zero = Timestamp::default();
    let get = |f: fn(&DbInfo) -> Timestamp| info.map(f).unwrap_or(zero);
    put(out, "x-backend-timestamp", get(|i| i.created_at).internal());
    put(out, "x-backend-put-timestamp", get(|i| i.put_timestamp).internal());
    put(out, "x-backend-delete-timestamp", get(|i| i.delete_timestamp).internal());
    put(out, "x-backend-status-changed-at", get(|i| i.status_changed_at).internal());
    put(out, "x-backend-storage-policy-index", info.map(|i| i.storage_policy_index).unwrap_or(0));
    if let (Some(i), false) = (info, deleted) {
        put(out, "x-container-object-count", i.object_count);
        put(out, "x-container-bytes-used", i.bytes_used);
        put(out, "x-timestamp", i.created_at.normal());
        put(out, "x-put-timestamp", i.put_timestamp.normal());
        put(out, "x-backend-sharding-state", "unsharded");
        put(out, "last-modified", http_date(i.put_timestamp));
    }
}

/// An account's stats headers.
pub fn account_headers(info: &DbInfo, out: &mut HeaderMap) {
    put(out, "x-account-container-count", info.container_count);
    put(out, "x-account-object-count", info.object_count);
    put(out, "x-account-bytes-used", info.bytes_used);
    put(out, "x-timestamp", info.created_at.normal());
    put(out, "x-put-timestamp", info.put_timestamp.normal());
    put(out, "last-modified", http_date(info.put_timestamp));
}

/// RFC 7231 date of `t`, rounded up to the second (as Swift's Last-Modified is).
pub fn http_date(t: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = t.secs() + u64::from(!t.ticks().is_multiple_of(100_000));
    let iso = common::timestamp::iso8601(Timestamp::from_ticks(secs * 100_000));
    // iso is "YYYY-MM-DDTHH:MM:SS.ffffff"
    let (date, time) = iso.split_once('T').unwrap_or((&iso, "00:00:00"));
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next().unwrap_or("1970"), parts.next().unwrap_or("01"), parts.next().unwrap_or("01"));
    let month = m.parse::<usize>().unwrap_or(1).clamp(1, 12);
    format!("{}, {d} {} {y} {} GMT", DAYS[(secs / 86_400 % 7) as usize], MONTHS[month - 1], &time[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_names() {
        assert_eq!(http_date("1700000000.5".parse().unwrap()), "Tue, 14 Nov 2023 22:13:21 GMT");
        assert_eq!(http_date(Timestamp::default()), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(title_case("x-container-meta-a-b"), "X-Container-Meta-A-B");
    }

    #[test]
    fn metadata_headers_are_checked() {
        let mut h = HeaderMap::new();
        h.insert("x-container-meta-color", HeaderValue::from_static("blue"));
        h.insert("x-container-read", HeaderValue::from_static(".r:*"));
        h.insert("x-object-meta-no", HeaderValue::from_static("x"));
        let t = Timestamp::from_ticks(1);
        let md = metadata_from_headers(&h, DbKind::Container, &["x-container-read"], t).unwrap();
        assert_eq!(md.len(), 2);
        assert_eq!(md["X-Container-Meta-Color"].0, "blue");
        h.insert("x-container-meta-big", HeaderValue::from_str(&"v".repeat(300)).unwrap());
        assert!(metadata_from_headers(&h, DbKind::Container, &[], t).is_err());
    }
}
