//! Object GET and HEAD: the first good replica answers; if it dies mid-body, the rest of
//! the body is fetched from the next replica with a Range, so the client never notices.

use super::headers::copy_headers;
use super::object_headers::clean_content_type;
use super::object_ref::ObjectRef;
use crate::body::channel_body;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::headers::set_static;
use crate::quote::resource_path;
use crate::state::cluster::Cluster;
use crate::state::node::Node;
use crate::storage::backend::{self, backend_headers, client_headers, drain, Target};
use crate::storage::placement::ordered;
use crate::storage::quorum::quorum_size;
use bytes::Bytes;
use common::headers::get;
use common::http::{Body, BodyError};
use http::request::Parts;
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

const READ_HEADERS: &[&str] =
    &["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "x-newest"];

pub(crate) async fn handle(p: &Cluster, ctx: &Ctx, obj: &ObjectRef<'_>, req: &Parts) -> Result<Response<Body>> {
    let mut headers = backend_headers(ctx);
    copy_headers(&req.headers, &mut headers, &["x-backend-"], READ_HEADERS);
    let found = fetch(p, obj, req.method.clone(), headers).await?;
    let mut resp = found.into_response(p);
    clean_content_type(resp.headers_mut());
    Ok(resp)
}

/// A replica's answer plus what is needed to resume its body elsewhere.
pub(crate) struct Fetched {
    pub response: Response<Incoming>,
    pub remaining: Vec<Node>,
    pub part: u32,
    pub path: String,
    pub headers: HeaderMap,
    /// A HEAD has no body to resume.
    pub head: bool,
}

/// Finds the first replica that answers; 404 once a quorum of primaries said so.
pub(crate) async fn fetch(p: &Cluster, obj: &ObjectRef<'_>, method: Method, headers: HeaderMap) -> Result<Fetched> {
    let ring = p.rings.object.current();
    let part = ring.get_part(&p.secret, obj.account, Some(obj.container), Some(obj.object));
    let replicas = ring.replica_count();
    let nodes = ordered(&ring, part, replicas, &p.limiter);
    let path = resource_path(obj.account, Some(obj.container), Some(obj.object));
    let mut not_found = 0;
    for (i, node) in nodes.iter().enumerate() {
        let sent = backend::send(
            &p.client,
            Target { node, part, path: &path, query: None },
            method.clone(),
            &headers,
            common::http::empty(),
            p.config.node_timeout(),
        )
        .await;
        match sent {
            Ok(resp) if resp.status() == StatusCode::NOT_FOUND => {
                not_found += 1;
                drain(resp).await;
                if not_found >= quorum_size(replicas) {
                    break;
                }
            }
            Ok(resp) if resp.status().is_server_error() => {
                p.limiter.record_error(node);
                drain(resp).await;
            }
            Ok(response) => {
                let head = method == Method::HEAD;
                return Ok(Fetched { response, remaining: nodes[i + 1..].to_vec(), part, path, headers, head });
            }
            Err(e) => {
                tracing::warn!(node = %node.key(), error = %e, "object read failed");
                p.limiter.record_error(node);
            }
        }
    }
    if not_found > 0 {
        Err(ProxyError::NotFound)
    } else {
        Err(ProxyError::ServiceUnavailable("No object server answered".into()))
    }
}

impl Fetched {
    /// The client response; full and single-range bodies resume on another replica on failure.
    pub(crate) fn into_response(self, p: &Cluster) -> Response<Body> {
        let status = self.response.status();
        let resumable_range = match status {
            // An empty body has nothing to resume (and no last byte to name).
            StatusCode::OK => get(self.response.headers(), "content-length")
                .and_then(|l| l.parse::<u64>().ok())
                .filter(|len| *len > 0)
                .map(|len| (0, len - 1)),
            StatusCode::PARTIAL_CONTENT => get(self.response.headers(), "content-range").and_then(parse_content_range),
            _ => None,
        };
        let Some((start, end)) = resumable_range.filter(|(s, e)| e >= s && !self.head) else {
            return backend::passthrough(self.response);
        };
        let (parts, body) = self.response.into_parts();
        let mut headers = self.headers;
        if let Some(etag) = parts.headers.get("etag") {
            headers.insert("if-match", etag.clone());
        }
        let resume = Resume {
            client: p.client.clone(),
            node_timeout: p.config.node_timeout(),
            remaining: self.remaining,
            part: self.part,
            path: self.path,
            headers,
            start,
            end,
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BodyError>>(4);
        tokio::spawn(resume.pump(body, tx));
        let mut out = Response::new(channel_body(rx));
        *out.status_mut() = status;
        *out.headers_mut() = client_headers(&parts.headers);
        out
    }
}

/// `bytes 0-99/1000` -> (0, 99).
fn parse_content_range(v: &str) -> Option<(u64, u64)> {
    let range = v.strip_prefix("bytes ")?.split('/').next()?;
    let (s, e) = range.split_once('-')?;
    Some((s.parse().ok()?, e.parse().ok()?))
}

struct Resume {
    client: common::http::HttpClient,
    node_timeout: std::time::Duration,
    remaining: Vec<Node>,
    part: u32,
    path: String,
    headers: HeaderMap,
    start: u64,
    end: u64,
}

impl Resume {
    /// Copies backend bytes to the client; on a backend failure, continues from the next replica.
    async fn pump(mut self, mut body: Incoming, tx: tokio::sync::mpsc::Sender<Result<Bytes, BodyError>>) {
        let mut sent: u64 = 0;
        let total = self.end - self.start + 1;
        loop {
            match tokio::time::timeout(self.node_timeout, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        sent += data.len() as u64;
                        if tx.send(Ok(data)).await.is_err() {
                            return; // the client went away
                        }
                    }
                }
                Ok(None) if sent >= total => return,
                failure => {
                    tracing::warn!(
                        sent,
                        total,
                        ok = matches!(failure, Ok(None)),
                        "object body broke off; resuming from another replica"
                    );
                    match self.next_body(self.start + sent).await {
                        Some(b) => body = b,
                        None => {
                            let _ = tx.send(Err("object body incomplete: no replica could resume it".into())).await;
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn next_body(&mut self, from: u64) -> Option<Incoming> {
        let mut headers = self.headers.clone();
        set_static(&mut headers, "range", &format!("bytes={from}-{}", self.end));
        while !self.remaining.is_empty() {
            let node = self.remaining.remove(0);
            let sent = backend::send(
                &self.client,
                Target { node: &node, part: self.part, path: &self.path, query: None },
                Method::GET,
                &headers,
                common::http::empty(),
                self.node_timeout,
            )
            .await;
            match sent {
                Ok(resp) if resp.status() == StatusCode::PARTIAL_CONTENT => return Some(resp.into_body()),
                Ok(resp) => drain(resp).await,
                Err(e) => tracing::warn!(node = %node.key(), error = %e, "resume failed"),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_range() {
        assert_eq!(super::parse_content_range("bytes 5-9/10"), Some((5, 9)));
        assert_eq!(super::parse_content_range("bytes */10"), None);
    }
}
