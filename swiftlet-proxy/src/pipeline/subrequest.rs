//! Building sub-requests and reading their answers: what every step that talks to the
//! rest of the pipeline needs.

use crate::body::read_body;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::request::ProxyRequest;
use crate::route::Route;
use bytes::Bytes;
use common::http::Body;
use http::{Method, Request, Response};

/// A sub-request to `path` (already quoted, as `quote::swift_path` makes it) carrying the
/// client's context; its route is parsed here, once.
pub(crate) fn new(method: Method, path: &str, query: Option<&str>, ctx: &Ctx, body: Body) -> ProxyRequest {
    let route = Route::of_subrequest(path);
    with_route(method, path, query, route, ctx, body)
}

/// A sub-request whose route is already known (the client's own resource, another verb).
pub(crate) fn with_route(
    method: Method,
    path: &str,
    query: Option<&str>,
    route: Route,
    ctx: &Ctx,
    body: Body,
) -> ProxyRequest {
    let uri = match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut req = Request::new(());
    *req.method_mut() = method;
    // A path built by `swift_path` always parses; fall back to "/" rather than panic.
    *req.uri_mut() = uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
    let (head, ()) = req.into_parts();
    ProxyRequest { head, body, route, ctx: ctx.clone() }
}

/// Reads a sub-request's response body (a listing, a manifest) up to `limit` bytes.
pub(crate) async fn read_response(resp: Response<Body>, limit: usize) -> Result<Bytes> {
    read_body(resp.into_body(), limit).await.map_err(|e| match e {
        ProxyError::TooLarge => ProxyError::Internal("sub-request body over its limit".into()),
        other => other,
    })
}

/// A query string's parameter, decoded.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The query string without `names` (for passing a request on without parameters a step
/// consumed).
pub(crate) fn query_without(query: Option<&str>, names: &[&str]) -> Option<String> {
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

/// An empty response with `status`.
pub(crate) fn status_only(status: http::StatusCode) -> Response<Body> {
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
        assert_eq!(crate::quote::swift_path("AUTH_t", Some("c"), Some("a b")), "/v1/AUTH_t/c/a%20b");
    }
}
