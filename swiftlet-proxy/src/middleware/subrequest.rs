//! Building sub-requests and reading their answers: what every middleware that talks to
//! the rest of the pipeline needs.

use crate::backend::quote;
use crate::error::{ProxyError, Result};
use crate::server::Ctx;
use bytes::Bytes;
use common::http::Body;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response};
use http_body_util::BodyExt;

/// `/v1/<account>[/<container>[/<object>]]`, quoted for a request line.
pub fn swift_path(account: &str, container: Option<&str>, object: Option<&str>) -> String {
    format!("/v1{}", crate::backend::resource_path(account, container, object))
}

/// A sub-request to `path` (already quoted) carrying the client's context.
pub fn new(method: Method, path: &str, query: Option<&str>, ctx: &Ctx, body: Body) -> Request<Body> {
    let mut req = Request::new(body);
    *req.method_mut() = method;
    let uri = match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    // A path built by `swift_path` always parses; fall back to "/" rather than panic.
    *req.uri_mut() = uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
    req.extensions_mut().insert(ctx.clone());
    req
}

/// The context a request carries (set by the server for client requests).
pub fn ctx_of<B>(req: &Request<B>) -> Ctx {
    req.extensions().get::<Ctx>().cloned().unwrap_or_default()
}

/// Reads a body whole, refusing more than `limit` bytes.
pub async fn read_body(mut body: Body, limit: usize) -> Result<Bytes> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ProxyError::ClientDisconnect(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ProxyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Reads a sub-request's response body (a listing, a manifest) up to `limit` bytes.
pub async fn read_response(resp: Response<Body>, limit: usize) -> Result<Bytes> {
    read_body(resp.into_body(), limit).await.map_err(|e| match e {
        ProxyError::TooLarge => ProxyError::Internal("sub-request body over its limit".into()),
        other => other,
    })
}

/// A header's value as text; UTF-8 values (Swift allows them in metadata) included.
pub fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

pub fn set(h: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        h.insert(n, v);
    }
}

/// Adds `value` to a comma-separated header list (backend directives several middlewares
/// may each extend, such as `X-Backend-Etag-Is-At`).
pub fn append_csv(h: &mut HeaderMap, name: &str, value: &str) {
    let joined = match header(h, name).filter(|v| !v.is_empty()) {
        Some(old) if old.split(',').any(|v| v.trim().eq_ignore_ascii_case(value)) => return,
        Some(old) => format!("{old},{value}"),
        None => value.to_string(),
    };
    set(h, name, &joined);
}

/// A query string's parameter, decoded.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The query string without `name` (for passing a request on without a parameter we consumed).
pub fn query_without(query: Option<&str>, names: &[&str]) -> Option<String> {
    let q = query?;
    let kept: Vec<&str> = q
        .split('&')
        .filter(|kv| {
            let k = kv.split('=').next().unwrap_or("");
            !names.contains(&k)
        })
        .collect();
    Some(kept.join("&")).filter(|s| !s.is_empty())
}

pub fn quote_path(p: &str) -> String {
    quote(p)
}

/// An empty response with `status` and headers.
pub fn status_only(status: http::StatusCode) -> Response<Body> {
    let mut r = Response::new(common::http::empty());
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        assert_eq!(query_param(Some("a=1&multipart-manifest=get"), "multipart-manifest").as_deref(), Some("get"));
        assert_eq!(query_without(Some("a=1&temp_url_sig=x&b"), &["temp_url_sig"]).as_deref(), Some("a=1&b"));
        assert_eq!(query_without(Some("temp_url_sig=x"), &["temp_url_sig"]), None);
        assert_eq!(swift_path("AUTH_t", Some("c"), Some("a b")), "/v1/AUTH_t/c/a%20b");
    }
}
