//! The gatekeeper: system metadata and backend headers belong to the cluster. A client may
//! neither set them (its request loses them on the way in) nor see them (responses lose
//! them on the way out). Middlewares below it set and read them freely.
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

/// Removes reserved headers from a client request.
pub(crate) fn inbound(headers: &mut HeaderMap) {
    strip(headers);
}

/// Removes reserved headers from a response to a client.
pub(crate) fn outbound(headers: &mut HeaderMap) {
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
