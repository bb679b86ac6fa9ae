//! The headers of an object write: which client headers an object keeps, the metadata
//! and expiry checks, the per-replica container updates, the guessed content type, and the
//! `swift_bytes` parameter clients never see.

use super::headers::user_metadata;
use crate::error::{ProxyError, Result};
use crate::headers::set_static;
use crate::state::info::ContainerInfo;
use common::constraints::check_metadata;
use common::Timestamp;
use http::HeaderMap;

/// Object headers a client may set and the object keeps (Swift's `allowed_headers`).
pub(crate) const OBJECT_HEADERS: &[&str] = &[
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "cache-control",
    "expires",
    "x-robots-tag",
    "x-delete-at",
    "x-object-manifest",
    "x-static-large-object",
];

/// Header prefixes an object keeps: user metadata, and system metadata and backend
/// directives, which only middlewares can set (the gatekeeper strips them from clients).
pub(crate) const OBJECT_PREFIXES: &[&str] =
    &["x-object-meta-", "x-object-sysmeta-", "x-object-transient-sysmeta-", "x-backend-"];

/// Checks object metadata and turns `X-Delete-After` into `X-Delete-At`.
pub(crate) fn check_object_headers(client: &HeaderMap, out: &mut HeaderMap) -> Result<()> {
    check_metadata(user_metadata(client, "object"))?;
    let now = Timestamp::now().as_secs_f64();
    let int = |name: &str, what: &str| {
        client
            .get(name)
            .map(|v| {
                clamped_int(v.to_str().unwrap_or(""))
                    .ok_or_else(|| ProxyError::BadRequest(format!("Non-integer {what}")))
            })
            .transpose()
    };
    // Swift's bounds: expiry times are ten-digit seconds.
    const LATEST: i64 = 9_999_999_999;
    if let Some(after) = int("x-delete-after", "X-Delete-After")? {
        let at = (now as i64).saturating_add(after).clamp(0, LATEST);
        if (at as f64) <= now {
            return Err(ProxyError::BadRequest("X-Delete-After in past".into()));
        }
        set_static(out, "x-delete-at", &at.to_string());
    } else if let Some(at) = int("x-delete-at", "X-Delete-At")? {
        let at = at.clamp(0, LATEST);
        if (at as f64) <= now {
            return Err(ProxyError::BadRequest("X-Delete-At in past".into()));
        }
        set_static(out, "x-delete-at", &at.to_string());
    }
    Ok(())
}

/// An integer as Python's `int()` reads it (sign, surrounding spaces), saturated far
/// beyond any expiry time instead of overflowing.
fn clamped_int(v: &str) -> Option<i64> {
    let v = v.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = digits.trim_start_matches('0');
    let magnitude: i64 = if n.len() > 15 { 1_000_000_000_000_000 } else { n.parse().unwrap_or(0) };
    Some(if neg { -magnitude } else { magnitude })
}

/// Per-replica headers naming the container replica each object server updates.
pub(crate) fn with_container_updates(base: &HeaderMap, info: &ContainerInfo, replicas: usize) -> Vec<HeaderMap> {
    (0..replicas)
        .map(|i| {
            let mut h = base.clone();
            if let Some(node) = info.nodes.get(i % info.nodes.len().max(1)) {
                set_static(&mut h, "x-container-host", &format!("{}:{}", node.dev.ip, node.dev.port));
                set_static(&mut h, "x-container-device", &node.dev.device);
                set_static(&mut h, "x-container-partition", &info.partition.to_string());
            }
            h
        })
        .collect()
}

/// The content type Swift would guess from a name (Python's `mimetypes`, which differs
/// from `mime_guess` on a few common types).
pub(crate) fn guess_content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "wav" => "audio/x-wav",
        "js" => "text/javascript",
        _ => mime_guess::from_path(name).first_raw().unwrap_or("application/octet-stream"),
    }
}

/// `text/plain;swift_bytes=10` -> `text/plain`: large-object manifests keep their total
/// size as a content-type parameter for listings; clients never see it.
pub(crate) fn clean_content_type(h: &mut HeaderMap) {
    if let Some(ct) = common::headers::get(h, "content-type") {
        if let Some((base, param)) = ct.rsplit_once(';') {
            if param.trim_start().starts_with("swift_bytes=") {
                let base = base.to_string();
                common::headers::set(h, "content-type", &base);
            }
        }
    }
}
