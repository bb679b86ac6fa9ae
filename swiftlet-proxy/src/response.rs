//! Swift's response conventions, applied to every answer of the proxy: a default content
//! type, `Content-Length: 0` on 204s, and the `WWW-Authenticate` realm on 401s.

use common::http::Body;
use http::{header, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;

/// What swob gives a response that names no content type.
pub const DEFAULT_CONTENT_TYPE: &str = "text/html; charset=UTF-8";

/// Finishes a response to `method path`; `from_error` marks a proxy error's text body.
pub fn finish(mut resp: Response<Body>, method: &Method, path: &str, from_error: bool) -> Response<Body> {
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
            crate::backend::quote(&decoded)
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
