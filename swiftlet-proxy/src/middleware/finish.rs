//! The finish step, outermost: every answer of the proxy (Swift, S3, errors) gets Swift's
//! response conventions (a default content type, `Content-Length: 0` on 204s, the
//! `WWW-Authenticate` realm on 401s), an echoed `Connection: keep-alive`, and the
//! transaction id (`X-Trans-Id`, `X-Openstack-Request-Id`). Errors become responses here.

use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use common::http::{Body, HttpError};
use http::{header, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;

pub(crate) struct Finish;

impl Step for Finish {
    fn name(&self) -> &'static str {
        "finish"
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let (method, path) = (req.method().clone(), req.path().to_string());
            let keep_alive = req.headers().get(header::CONNECTION).cloned();
            let trans_id = HeaderValue::from_str(&req.ctx.trans_id).ok();
            let (resp, from_error) = match next.run(req).await {
                Ok(r) => (r, false),
                Err(e) => (e.to_response(), true),
            };
            let mut resp = finish(resp, &method, &path, from_error);
            // Echo an explicit keep-alive, as Swift's server does.
            if let Some(v) = keep_alive.filter(|v| v.as_bytes().eq_ignore_ascii_case(b"keep-alive")) {
                resp.headers_mut().insert(header::CONNECTION, v);
            }
            if let Some(v) = trans_id {
                resp.headers_mut().insert("x-trans-id", v.clone());
                resp.headers_mut().insert("x-openstack-request-id", v);
            }
            Ok(resp)
        })
    }
}

/// What swob gives a response that names no content type.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "text/html; charset=UTF-8";

/// Finishes a response to `method path`; `from_error` marks a proxy error's text body.
pub(crate) fn finish(mut resp: Response<Body>, method: &Method, path: &str, from_error: bool) -> Response<Body> {
    let status = resp.status();
    let h = resp.headers_mut();
    if from_error || (!h.contains_key(header::CONTENT_TYPE) && status != StatusCode::NOT_MODIFIED) {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    }
    if status == StatusCode::UNAUTHORIZED && !h.contains_key(header::WWW_AUTHENTICATE) {
        if let Ok(v) = HeaderValue::from_str(&format!("Swift realm=\"{}\"", realm(path))) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
    }
    if status == StatusCode::NO_CONTENT && method != Method::HEAD {
        // hyper leaves Content-Length out of a 204 whose body is known to be empty; a body
        // it cannot see the end of makes it write the header (and still send no body).
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        let (parts, _) = resp.into_parts();
        let never_ends = futures::stream::empty::<Result<hyper::body::Frame<bytes::Bytes>, common::http::BodyError>>();
        let body = http_body_util::StreamBody::new(never_ends).boxed_unsync();
        return Response::from_parts(parts, body);
    }
    resp
}

/// The realm of a 401: the account the path names (quoted, so it cannot break the header),
/// or `unknown`.
fn realm(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some(v), Some(account)) if (v == "v1" || v == "v1.0") && !account.is_empty() => {
            let decoded = percent_encoding::percent_decode_str(account).decode_utf8_lossy();
            crate::quote::quote(&decoded)
        }
        _ => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realms() {
        assert_eq!(realm("/v1/AUTH_test/c"), "AUTH_test");
        assert_eq!(realm("/v1/AUTH_haxx%22%0AContent-Length"), "AUTH_haxx%22%0AContent-Length");
        assert_eq!(realm("/info"), "unknown");
    }
}
