//! Object PUT (and COPY, a GET piped into a PUT).
//!
//! Small bodies are buffered so any failed primary can be retried on a handoff. Larger ones
//! stream to every replica at once: each replica's connection is opened first (a dead
//! primary is replaced by a handoff before any byte is sent), then each client chunk is
//! handed to all of them. 201 only when a quorum of object servers committed (fsynced).

use super::base::{backend_headers, copy_headers, fan_out, statuses, Reply};
use super::object::{check_object_headers, with_container_updates, ObjectRef, OBJECT_HEADERS, OBJECT_PREFIXES};
use crate::backend::{self, bodiless, header_str, resource_path, set_header};
use crate::error::{ProxyError, Result};
use crate::nodes::{write_targets, Node};
use crate::quorum::{best_status, quorum_size};
use crate::server::{Ctx, Proxy};
use bytes::Bytes;
use common::constraints::MAX_FILE_SIZE;
use common::http::{Body, BodyError};
use common::Timestamp;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Frame;
use md5::{Digest, Md5};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// A PUT body on its way to the replicas.
struct Upload {
    body: Body,
    length: Option<u64>,
}

pub async fn handle_put(p: &Proxy, ctx: &Ctx, obj: &ObjectRef<'_>, req: &Parts, body: Body) -> Result<Response<Body>> {
    if header_str(&req.headers, "if-none-match").is_some_and(|v| !v.split(',').any(|t| t.trim() == "*")) {
        return Err(ProxyError::BadRequest("If-None-Match only supports *".into()));
    }
    let length = request_length(&req.headers)?;
    let mut headers = object_headers(ctx, obj, &req.headers)?;
    if let Some(len) = length {
        set_header(&mut headers, "content-length", &len.to_string());
    }
    put(p, obj, headers, Upload { body, length }).await
}

/// Content-Length, or `None` for a chunked body; 411 for neither, 413 over the limit.
fn request_length(h: &HeaderMap) -> Result<Option<u64>> {
    let chunked = header_str(h, "transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked"));
    if let Some(te) = header_str(h, "transfer-encoding").filter(|_| !chunked) {
        return Err(ProxyError::NotImplemented(format!("Transfer-Encoding {te} is not supported")));
    }
    match header_str(h, "content-length") {
        Some(v) => {
            let len: u64 = v.parse().map_err(|_| ProxyError::BadRequest("Invalid Content-Length".into()))?;
            if len > MAX_FILE_SIZE {
                return Err(ProxyError::TooLarge);
            }
            Ok(Some(len))
        }
        None if chunked => Ok(None),
        None if h.get("content-length").is_some() => Err(ProxyError::BadRequest("Invalid Content-Length".into())),
        None => Err(ProxyError::LengthRequired),
    }
}

/// The headers every replica's PUT carries.
fn object_headers(ctx: &Ctx, obj: &ObjectRef<'_>, client: &HeaderMap) -> Result<HeaderMap> {
    let mut headers = backend_headers(ctx);
    copy_headers(client, &mut headers, OBJECT_PREFIXES, OBJECT_HEADERS);
    copy_headers(client, &mut headers, &[], &["etag", "if-none-match"]);
    check_object_headers(client, &mut headers)?;
    let detect = header_str(client, "x-detect-content-type").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if detect || !headers.contains_key("content-type") {
        let guess = guess_content_type(obj.object);
        set_header(&mut headers, "content-type", guess);
    }
    set_header(&mut headers, "x-timestamp", &Timestamp::now().internal());
    Ok(headers)
}

async fn put(p: &Proxy, obj: &ObjectRef<'_>, headers: HeaderMap, upload: Upload) -> Result<Response<Body>> {
    let ring = p.rings.object.current();
    let part = ring.get_part(&p.secret, obj.account, Some(obj.container), Some(obj.object));
    let (primaries, handoffs) = write_targets(&ring, part);
    drop(ring);
    let n = primaries.len();
    let slots = with_container_updates(&headers, &obj.info, n);
    let path = resource_path(obj.account, Some(obj.container), Some(obj.object));
    let (replies, md5) = match upload.length {
        Some(len) if len as usize <= p.config.retryable_body_limit => {
            let body = read_all(upload.body, len, p.config.client_timeout()).await?;
            let md5 = hex::encode(Md5::digest(&body));
            (fan_out(p, part, primaries, handoffs, Method::PUT, &path, None, slots, body).await, md5)
        }
        _ => stream_put(p, part, primaries, handoffs, &path, slots, upload.body).await?,
    };
    settle(&replies, n, &md5, headers.get("x-timestamp"))
}

/// Turns the replicas' replies into the client's answer.
fn settle(replies: &[Option<Reply>], n: usize, md5: &str, timestamp: Option<&HeaderValue>) -> Result<Response<Body>> {
    let status = best_status(&statuses(replies), n);
    if status.is_success() {
        let etags: Vec<&str> = replies
            .iter()
            .flatten()
            .filter(|r| r.status.is_success())
            .filter_map(|r| header_str(&r.headers, "etag").map(|e| e.trim_matches('"')))
            .collect();
        if etags.iter().any(|e| *e != md5) {
            return Err(ProxyError::Internal(format!(
                "object servers disagree on the ETag: {etags:?}, body MD5 {md5}"
            )));
        }
        let mut h = HeaderMap::new();
        set_header(&mut h, "etag", md5);
        if let Some(ts) = timestamp.and_then(|t| t.to_str().ok()).and_then(|t| t.parse::<Timestamp>().ok()) {
            set_header(&mut h, "last-modified", &httpdate_of(&ts));
        }
        set_header(&mut h, "content-length", "0");
        return Ok(bodiless(StatusCode::CREATED, h));
    }
    match status {
        StatusCode::UNPROCESSABLE_ENTITY => {
            Err(ProxyError::UnprocessableEntity("The ETag you sent does not match the object's".into()))
        }
        StatusCode::PRECONDITION_FAILED => Err(ProxyError::PreconditionFailed("Precondition Failed".into())),
        // An older timestamp than what the replicas hold: accepted, changes nothing (as Swift).
        StatusCode::CONFLICT => Ok(bodiless(StatusCode::ACCEPTED, HeaderMap::new())),
        s if s.is_client_error() => Ok(bodiless(s, HeaderMap::new())),
        _ => Err(ProxyError::ServiceUnavailable("Object PUT did not reach a quorum of replicas".into())),
    }
}

fn httpdate_of(ts: &Timestamp) -> String {
    // Last-Modified rounds up to the next whole second, as Swift does.
    let secs = ts.secs() + u64::from(!ts.ticks().is_multiple_of(100_000));
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Reads a small body whole, refusing one that is shorter or longer than announced.
async fn read_all(mut body: Body, len: u64, timeout: std::time::Duration) -> Result<Bytes> {
    let mut buf = bytes::BytesMut::with_capacity(len as usize);
    loop {
        let frame = match tokio::time::timeout(timeout, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ProxyError::ClientDisconnect(e.to_string())),
            Err(_) => return Err(ProxyError::ClientDisconnect("timed out reading the body".into())),
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > len as usize {
                return Err(ProxyError::BadRequest("body longer than Content-Length".into()));
            }
            buf.extend_from_slice(&data);
        }
    }
    if buf.len() as u64 != len {
        return Err(ProxyError::ClientDisconnect(format!("body of {} bytes, Content-Length {len}", buf.len())));
    }
    Ok(buf.freeze())
}

/// One replica's upload in progress.
struct Stream {
    tx: Option<mpsc::Sender<Result<Frame<Bytes>, BodyError>>>,
    reply: tokio::task::JoinHandle<Option<Reply>>,
}

async fn stream_put(
    p: &Proxy,
    part: u32,
    primaries: Vec<Node>,
    handoffs: Vec<Node>,
    path: &str,
    slots: Vec<HeaderMap>,
    mut body: Body,
) -> Result<(Vec<Option<Reply>>, String)> {
    let n = primaries.len();
    let handoffs = Mutex::new(VecDeque::from(handoffs));
    let connections =
        futures::future::join_all(primaries.into_iter().map(|first| connect_slot(p, first, &handoffs))).await;
    let mut streams: Vec<Option<Stream>> = Vec::with_capacity(n);
    for (conn, mut headers) in connections.into_iter().zip(slots) {
        // Chunked to the replicas, with the ETag in a trailer: they skip hashing with MD5.
        if let Some(len) = headers.remove("content-length") {
            headers.insert("x-backend-obj-content-length", len);
        }
        set_header(&mut headers, "trailer", common::http::ETAG_TRAILER);
        streams.push(conn.and_then(|(node, sender)| start_upload(p, node, sender, part, path, headers)));
    }
    if streams.iter().flatten().count() < quorum_size(n) {
        return Err(ProxyError::ServiceUnavailable("Not enough object servers to store the object".into()));
    }
    let mut md5 = Md5::new();
    loop {
        let frame = match tokio::time::timeout(p.config.client_timeout(), body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(abort(streams, &format!("client body failed: {e}")).await),
            Err(_) => return Err(abort(streams, "client timed out sending the body").await),
        };
        let Ok(data) = frame.into_data() else { continue };
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
    let mut trailers = HeaderMap::new();
    trailers.insert(
        common::http::ETAG_TRAILER,
        HeaderValue::from_str(&md5).map_err(|e| ProxyError::Internal(e.to_string()))?,
    );
    let mut replies = Vec::with_capacity(n);
    for stream in streams {
        replies.push(match stream {
            Some(Stream { tx: Some(tx), reply }) => {
                let sent =
                    tokio::time::timeout(p.config.node_timeout(), tx.send(Ok(Frame::trailers(trailers.clone()))));
                if !matches!(sent.await, Ok(Ok(()))) {
                    tracing::warn!("object server stopped taking the upload before its trailer");
                }
                drop(tx);
                reply.await.ok().flatten()
            }
            Some(Stream { tx: None, reply }) => {
                reply.abort();
                None
            }
            None => None,
        });
    }
    Ok((replies, md5))
}

/// Opens a connection for one replica slot: its primary, or the next handoff that answers.
async fn connect_slot(
    p: &Proxy,
    first: Node,
    handoffs: &Mutex<VecDeque<Node>>,
) -> Option<(Node, hyper::client::conn::http1::SendRequest<Body>)> {
    let mut node = first;
    loop {
        match backend::connect(&node, p.config.conn_timeout()).await {
            Ok(sender) => return Some((node, sender)),
            Err(e) => {
                tracing::warn!(node = %node.key(), error = %e, "connect failed; trying a handoff");
                p.limiter.record_error(&node);
            }
        }
        node = handoffs.lock().unwrap_or_else(|e| e.into_inner()).pop_front()?;
    }
}

fn start_upload(
    p: &Proxy,
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
    set_header(req.headers_mut(), "host", &format!("{}:{}", node.dev.ip, node.dev.port));
    let timeout = p.config.node_timeout();
    let reply = tokio::spawn(async move {
        // The response comes after the whole body, so bound only the wait once it is sent.
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

/// The content type Swift would guess from a name (Python's `mimetypes`, which differs
/// from `mime_guess` on a few common types).
pub fn guess_content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "wav" => "audio/x-wav",
        "js" => "text/javascript",
        _ => mime_guess::from_path(name).first_raw().unwrap_or("application/octet-stream"),
    }
}
