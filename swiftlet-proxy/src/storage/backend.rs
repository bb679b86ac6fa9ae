//! Talking to storage nodes: their URLs, the headers that cross (and do not cross) the
//! proxy, pooled requests, and dedicated connections for streamed uploads.

use crate::context::Ctx;
use crate::state::node::Node;
use common::http::{Body, BodyError, HttpClient, HttpClientError};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::time::Duration;

pub(crate) fn node_uri(node: &Node, part: u32, quoted_path: &str, query: Option<&str>) -> String {
    let mut uri = format!("http://{}:{}/{}/{}{}", node.dev.ip, node.dev.port, node.dev.device, part, quoted_path);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(q);
    }
    uri
}

/// Headers that describe one hop, never forwarded.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Backend headers a client may see: no hop-by-hop, no `X-Backend-*` internals.
pub(crate) fn client_headers(backend: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(backend.len());
    for (name, value) in backend {
        if is_hop_by_hop(name) || name.as_str().starts_with("x-backend-") {
            continue;
        }
        // Storage nodes quote ETags; Swift's proxy answers them bare.
        if name == http::header::ETAG {
            if let Ok(v) = HeaderValue::from_str(&value.to_str().unwrap_or("").replace('"', "")) {
                out.append(name.clone(), v);
                continue;
            }
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Streams a backend response to the client, filtering its headers.
pub(crate) fn passthrough(resp: Response<Incoming>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(body.map_err(|e| Box::new(e) as BodyError).boxed_unsync());
    *out.status_mut() = parts.status;
    *out.headers_mut() = client_headers(&parts.headers);
    out
}

/// A response built from a status and headers, with no body (writes, HEAD).
pub(crate) fn bodiless(status: StatusCode, headers: HeaderMap) -> Response<Body> {
    let mut out = Response::new(common::http::empty());
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// Where a backend request goes: a node, a partition and a quoted resource path.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub node: &'a Node,
    pub part: u32,
    pub path: &'a str,
    pub query: Option<&'a str>,
}

/// Sends one request to one node over the pooled client.
pub(crate) async fn send(
    client: &HttpClient,
    target: Target<'_>,
    method: Method,
    headers: &HeaderMap,
    body: Body,
    timeout: Duration,
) -> Result<Response<Incoming>, HttpClientError> {
    let mut req = Request::new(body);
    *req.method_mut() = method;
    let uri = node_uri(target.node, target.part, target.path, target.query);
    *req.uri_mut() = uri.parse().map_err(|_| HttpClientError::InvalidUri(uri))?;
    *req.headers_mut() = headers.clone();
    client.send(req, timeout).await
}

/// Headers every backend request carries.
pub(crate) fn backend_headers(ctx: &Ctx) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&ctx.trans_id) {
        h.insert("x-trans-id", v);
    }
    h.insert(http::header::USER_AGENT, HeaderValue::from_static("proxy-server"));
    h
}

/// Reads and drops a small backend body so its connection returns to the pool.
pub(crate) async fn drain(resp: Response<Incoming>) {
    let _ = read_small_body(resp, 64 * 1024).await;
}

/// Reads a small backend body (listings, error text) with a size cap.
pub(crate) async fn read_small_body(resp: Response<Incoming>, limit: usize) -> Option<bytes::Bytes> {
    let body = http_body_util::Limited::new(resp.into_body(), limit);
    body.collect().await.ok().map(|c| c.to_bytes())
}

/// A dedicated connection to one node for a streamed upload: connecting first lets a
/// failed primary be replaced by a handoff before any body byte is sent.
pub(crate) async fn connect(
    node: &Node,
    timeout: Duration,
) -> std::io::Result<hyper::client::conn::http1::SendRequest<Body>> {
    let addr = format!("{}:{}", node.dev.ip, node.dev.port);
    let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, format!("connect to {addr} timed out")))??;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "backend upload connection ended");
        }
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_internal_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-backend-timestamp", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("etag", HeaderValue::from_static("abc"));
        let out = client_headers(&h);
        assert_eq!(out.len(), 1);
        assert!(out.contains_key("etag"));
    }
}
