//! The gatekeeper: system metadata and backend headers belong to the cluster. A client may
//! neither set them (its request loses them on the way in) nor see them (responses lose
//! them on the way out). Middlewares below it set and read them freely.
//!
//! It runs in `Proxy::handle`, around everything else, so internal callers that enter the
//! pipeline later (the S3 API) may still set system metadata.

use http::HeaderMap;

/// Names a client must not send nor receive.
fn is_reserved(name: &str) -> bool {
    name.starts_with("x-backend-")
        || name.starts_with("x-object-transient-sysmeta-")
        || ["x-account-sysmeta-", "x-container-sysmeta-", "x-object-sysmeta-"].iter().any(|p| name.starts_with(p))
}

/// Removes reserved headers from a client request.
pub fn inbound(headers: &mut HeaderMap) {
    strip(headers);
}

/// Removes reserved headers from a response to a client.
pub fn outbound(headers: &mut HeaderMap) {
    strip(headers);
}

fn strip(headers: &mut HeaderMap) {
    let reserved: Vec<_> = headers.keys().filter(|n| is_reserved(n.as_str())).cloned().collect();
    for name in reserved {
        headers.remove(&name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn strips_system_headers_only() {
        let mut h = HeaderMap::new();
        for n in ["x-object-sysmeta-slo-etag", "x-backend-replication", "x-container-sysmeta-x", "x-object-meta-a"] {
            h.insert(http::HeaderName::from_static(n), HeaderValue::from_static("1"));
        }
        inbound(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-object-meta-a"));
    }
}
