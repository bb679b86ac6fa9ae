//! Streamed object uploads: each replica slot's connection is opened first (a dead node is
//! replaced by a stand-in before any byte is sent, through the same handoff loop as
//! buffered writes), then each client chunk is handed to all of them, with the body's MD5
//! sent last as a trailer. A quorum of slots must keep taking the body, or every upload
//! is aborted so no object server commits a truncated body.

use super::backend;
use super::placement::Attempt;
use super::quorum::quorum_size;
use super::replies::{collect, Patience};
use super::write::{Reply, WriteTargets};
use crate::error::{ProxyError, Result};
use crate::headers::set_static;
use crate::state::cluster::Cluster;
use crate::state::node::Node;
use bytes::Bytes;
use common::http::{Body, BodyError};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body_util::BodyExt;
use hyper::body::Frame;
use md5::{Digest, Md5};
use tokio::sync::mpsc;

/// One replica's upload in progress.
struct Stream {
    tx: Option<mpsc::Sender<Result<Frame<Bytes>, BodyError>>>,
    reply: tokio::task::JoinHandle<Option<Reply>>,
}

/// Streams `body` to every replica slot at once (see the module doc); the replies and the
/// body's MD5. `footers` are the body's trailers passed on to the replicas.
pub(crate) async fn stream_put(
    p: &Cluster,
    targets: WriteTargets,
    path: &str,
    slots: Vec<HeaderMap>,
    mut body: Body,
    footers: &[HeaderName],
) -> Result<(Vec<Option<Reply>>, String)> {
    let WriteTargets { part, slots: first_nodes, queue } = targets;
    let n = first_nodes.len();
    let connect = Connect { timeout: p.config.conn_timeout() };
    let connections =
        futures::future::join_all(first_nodes.into_iter().map(|first| queue.first_answer(first, &p.limiter, &connect)))
            .await;
    let mut streams: Vec<Option<Stream>> = Vec::with_capacity(n);
    for (conn, mut headers) in connections.into_iter().zip(slots) {
        // Chunked to the replicas, with the ETag in a trailer: they skip hashing with MD5.
        if let Some(len) = headers.remove("content-length") {
            headers.insert("x-backend-obj-content-length", len);
        }
        // Only trailers announced here reach the replicas.
        let announced: Vec<&str> =
            std::iter::once(common::http::ETAG_TRAILER).chain(footers.iter().map(HeaderName::as_str)).collect();
        set_static(&mut headers, "trailer", &announced.join(", "));
        streams.push(conn.and_then(|(node, sender)| start_upload(p, node, sender, part, path, headers)));
    }
    if streams.iter().flatten().count() < quorum_size(n) {
        return Err(ProxyError::ServiceUnavailable("Not enough object servers to store the object".into()));
    }
    let mut md5 = Md5::new();
    let mut trailers = HeaderMap::new();
    loop {
        let frame = match tokio::time::timeout(p.config.client_timeout(), body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(abort(streams, &format!("client body failed: {e}")).await),
            Err(_) => return Err(abort(streams, "client timed out sending the body").await),
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                let sent = frame.into_trailers().unwrap_or_default();
                for name in footers {
                    if let Some(v) = sent.get(name) {
                        trailers.insert(name.clone(), v.clone());
                    }
                }
                continue;
            }
        };
        md5.update(&data);
        for stream in streams.iter_mut().flatten() {
            let Some(tx) = &stream.tx else { continue };
            let sent = tokio::time::timeout(p.config.node_timeout(), tx.send(Ok(Frame::data(data.clone())))).await;
            if !matches!(sent, Ok(Ok(()))) {
                tracing::warn!("object server stopped taking the upload");
                stream.tx = None;
            }
        }
        if streams.iter().flatten().filter(|s| s.tx.is_some()).count() < quorum_size(n) {
            return Err(abort(streams, "too many object servers failed during the upload").await);
        }
    }
    // The trailer, then closing each channel, ends that replica's body; then wait for the commits.
    let md5 = hex::encode(md5.finalize());
    trailers.insert(
        common::http::ETAG_TRAILER,
        HeaderValue::from_str(&md5).map_err(|e| ProxyError::Internal(e.to_string()))?,
    );
    let mut waiting = Vec::with_capacity(n);
    for (i, stream) in streams.into_iter().enumerate() {
        match stream {
            Some(Stream { tx: Some(tx), reply }) => {
                let sent =
                    tokio::time::timeout(p.config.node_timeout(), tx.send(Ok(Frame::trailers(trailers.clone()))));
                if !matches!(sent.await, Ok(Ok(()))) {
                    tracing::warn!("object server stopped taking the upload before its trailer");
                }
                drop(tx);
                waiting.push((i, reply));
            }
            Some(Stream { tx: None, reply }) => reply.abort(),
            None => {}
        }
    }
    let patience =
        Patience { node_timeout: p.config.node_timeout(), post_quorum_timeout: p.config.post_quorum_timeout() };
    let replies = collect(n, waiting, patience).await;
    Ok((replies, md5))
}

/// Opening a dedicated connection to one node; a node that refuses is replaced by a
/// stand-in before any body byte is sent.
struct Connect {
    timeout: std::time::Duration,
}

impl Attempt for Connect {
    type Output = hyper::client::conn::http1::SendRequest<Body>;

    async fn attempt(&self, node: &Node) -> Option<Self::Output> {
        match backend::connect(node, self.timeout).await {
            Ok(sender) => Some(sender),
            Err(e) => {
                tracing::warn!(node = %node.key(), error = %e, "connect failed; trying a handoff");
                None
            }
        }
    }
}

fn start_upload(
    p: &Cluster,
    node: Node,
    mut sender: hyper::client::conn::http1::SendRequest<Body>,
    part: u32,
    path: &str,
    headers: HeaderMap,
) -> Option<Stream> {
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, BodyError>>(4);
    let body = http_body_util::StreamBody::new(futures::stream::poll_fn({
        let mut rx = rx;
        move |cx| rx.poll_recv(cx)
    }))
    .boxed_unsync();
    let mut req = Request::new(body);
    *req.method_mut() = Method::PUT;
    *req.uri_mut() = format!("/{}/{}{}", node.dev.device, part, path).parse().ok()?;
    *req.headers_mut() = headers;
    set_static(req.headers_mut(), "host", &format!("{}:{}", node.dev.ip, node.dev.port));
    if let Some(signer) = p.client.signer() {
        let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
        signer.sign(&Method::PUT, &path_and_query, req.headers_mut());
    }
    let timeout = p.config.node_timeout();
    let reply = tokio::spawn(async move {
        // The response comes after the whole body, so its wait is bounded once the body is
        // sent (`replies::collect`).
        let resp = sender.send_request(req).await;
        match resp {
            Ok(resp) => {
                let reply = Reply { status: resp.status(), headers: resp.headers().clone() };
                let _ = tokio::time::timeout(timeout, backend::read_small_body(resp, 64 * 1024)).await;
                Some(reply)
            }
            Err(e) => {
                tracing::warn!(node = %node.key(), error = %e, "object upload failed");
                None
            }
        }
    });
    Some(Stream { tx: Some(tx), reply })
}

/// Aborts every replica's upload (an error frame drops the connection, so no object
/// server commits a truncated body) and returns the error for the client.
async fn abort(streams: Vec<Option<Stream>>, why: &str) -> ProxyError {
    for stream in streams.into_iter().flatten() {
        if let Some(tx) = stream.tx {
            let _ = tx.send(Err(why.to_string().into())).await;
        }
        stream.reply.abort();
    }
    tracing::warn!(reason = why, "object upload aborted");
    if why.starts_with("client") {
        ProxyError::ClientDisconnect(why.to_string())
    } else {
        ProxyError::ServiceUnavailable(why.to_string())
    }
}
