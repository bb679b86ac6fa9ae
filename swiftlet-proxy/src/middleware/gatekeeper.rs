//! The gatekeeper: system metadata and backend headers belong to the cluster. A client may
//! neither set them (its request loses them on the way in) nor see them (responses lose
//! them on the way out). Middlewares below it set and read them freely. Nor may a client
//! send what the proxy tells storage servers on its own authority: the write's timestamp
//! and the account, container and expirer updates' targets. This holds for every verb,
//! since it runs before anything looks at the method.
//!
//! It is the second step, around everything but the finish step, so requests a frontend
//! (S3) makes for its user, which enter the pipeline later, may still set system metadata.

use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use http::HeaderMap;

pub(crate) struct Gatekeeper;

impl Step for Gatekeeper {
    fn name(&self) -> &'static str {
        "gatekeeper"
    }

    fn call<'a>(&'a self, mut req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            inbound(req.headers_mut());
            let mut resp = next.run(req).await?;
            outbound(resp.headers_mut());
            Ok(resp)
        })
    }
}

/// Names a client must not send nor receive.
fn is_reserved(name: &str) -> bool {
    name.starts_with("x-backend-")
        || name.starts_with("x-object-transient-sysmeta-")
        || ["x-account-sysmeta-", "x-container-sysmeta-", "x-object-sysmeta-"].iter().any(|p| name.starts_with(p))
}

/// What storage servers take from the proxy alone, besides where a write's updates go
/// (`common::update_targets`). Clients may see them in responses (`X-Timestamp`), never send them.
const PROXY_ONLY: &[&str] = &["x-timestamp", "x-delete-at-container", "x-account-override-deleted"];

/// Removes reserved and proxy-only headers from a client request.
pub(crate) fn inbound(headers: &mut HeaderMap) {
    strip(headers, |n| is_reserved(n) || PROXY_ONLY.contains(&n) || common::update_targets::is_target_header(n));
}

/// Removes reserved headers from a response to a client.
pub(crate) fn outbound(headers: &mut HeaderMap) {
    strip(headers, is_reserved);
}

fn strip(headers: &mut HeaderMap, drop: impl Fn(&str) -> bool) {
    let reserved: Vec<_> = headers.keys().filter(|n| drop(n.as_str())).cloned().collect();
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

    #[test]
    fn clients_send_nothing_storage_servers_trust() {
        let internal = [
            "x-backend-container-path",
            "x-backend-storage-policy-index",
            "x-timestamp",
            "x-delete-at-host",
            "x-delete-at-device",
            "x-delete-at-partition",
            "x-delete-at-container",
            "x-container-host",
            "x-container-device",
            "x-container-partition",
            "x-account-host",
            "x-account-device",
            "x-account-partition",
            "x-account-override-deleted",
            "x-object-sysmeta-a",
            "x-container-sysmeta-a",
            "x-account-sysmeta-a",
            "x-object-transient-sysmeta-a",
        ];
        let mut h = HeaderMap::new();
        for n in internal.iter().chain(&["x-object-meta-a", "x-delete-at", "x-container-read", "content-type"]) {
            h.insert(http::HeaderName::from_static(n), HeaderValue::from_static("1"));
        }
        inbound(&mut h);
        let left: Vec<&str> = h.keys().map(|n| n.as_str()).collect();
        assert_eq!(left.len(), 4, "{left:?}");
        assert!(["x-object-meta-a", "x-delete-at", "x-container-read", "content-type"]
            .iter()
            .all(|n| left.contains(n)));
        // Responses keep the timestamp Swift answers with.
        let mut resp = HeaderMap::new();
        resp.insert("x-timestamp", HeaderValue::from_static("1"));
        outbound(&mut resp);
        assert!(resp.contains_key("x-timestamp"));
    }
}
