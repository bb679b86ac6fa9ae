//! What every controller shares: backend headers, reading from the first good replica,
//! and fanning a write out to every replica with handoffs standing in for failed ones.

use crate::backend::{self, Target};
use crate::nodes::Node;
use crate::quorum::quorum_size;
use crate::server::{Ctx, Proxy};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use hyper::body::Incoming;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Headers every backend request carries.
pub fn backend_headers(ctx: &Ctx) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&ctx.trans_id) {
        h.insert("x-trans-id", v);
    }
    h.insert(http::header::USER_AGENT, HeaderValue::from_static("proxy-server"));
    h
}

/// Copies the client headers whose lowercase names start with one of `prefixes`, or equal one of `names`.
pub fn copy_headers(src: &HeaderMap, dst: &mut HeaderMap, prefixes: &[&str], names: &[&str]) {
    for (name, value) in src {
        let n = name.as_str();
        if prefixes.iter().any(|p| n.starts_with(p)) || names.contains(&n) {
            dst.append(name.clone(), value.clone());
        }
    }
}

/// `X-Remove-<Type>-Meta-Foo: x` becomes `X-<Type>-Meta-Foo:` (empty value deletes it).
pub fn apply_removals(src: &HeaderMap, dst: &mut HeaderMap, kind: &str) {
    let prefix = format!("x-remove-{kind}-");
    for name in src.keys() {
        if let Some(rest) = name.as_str().strip_prefix(&prefix) {
            if let Ok(n) = http::HeaderName::from_bytes(format!("x-{kind}-{rest}").as_bytes()) {
                dst.insert(n, HeaderValue::from_static(""));
            }
        }
    }
}

/// The user metadata of a request (`X-<kind>-Meta-*` name suffixes and values) for limit checks.
pub fn user_metadata<'a>(headers: &'a HeaderMap, kind: &str) -> Vec<(&'a str, &'a str)> {
    let prefix = format!("x-{kind}-meta-");
    headers
        .iter()
        .filter_map(|(n, v)| {
            Some((n.as_str().strip_prefix(prefix.as_str())?, std::str::from_utf8(v.as_bytes()).unwrap_or("")))
        })
        .collect()
}

/// The outcome of a read across replicas.
pub enum ReadOutcome {
    /// A replica answered with something worth showing the client.
    Found(Response<Incoming>),
    /// Enough replicas said 404.
    NotFound,
    /// No replica could answer.
    Unavailable,
}

/// Tries `nodes` in order; the first success (or client error other than 404) wins.
/// 404 is believed once a quorum of the primaries said it.
#[allow(clippy::too_many_arguments)]
pub async fn read_first(
    p: &Proxy,
    nodes: &[Node],
    part: u32,
    method: Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    primaries: usize,
) -> ReadOutcome {
    let mut not_found = 0;
    for node in nodes {
        let target = Target { node, part, path, query };
        let timeout = p.config.node_timeout();
        let result = backend::send(&p.client, target, method.clone(), headers, common::http::empty(), timeout).await;
        match result {
            Ok(resp) if resp.status() == StatusCode::NOT_FOUND => {
                not_found += 1;
                drain(resp).await;
                if not_found >= quorum_size(primaries) {
                    return ReadOutcome::NotFound;
                }
            }
            Ok(resp) if resp.status().is_server_error() => {
                p.limiter.record_error(node);
                tracing::warn!(node = %node.key(), status = %resp.status(), "backend read failed");
                drain(resp).await;
            }
            Ok(resp) => return ReadOutcome::Found(resp),
            Err(e) => {
                p.limiter.record_error(node);
                tracing::warn!(node = %node.key(), error = %e, "backend read failed");
            }
        }
    }
    if not_found > 0 {
        ReadOutcome::NotFound
    } else {
        ReadOutcome::Unavailable
    }
}

/// One replica's answer to a fanned-out write.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
}

/// Sends a small write to every primary at once; a primary that fails (no answer, 5xx,
/// 507) is replaced by the next handoff. Slot `i` always carries `slot_headers[i]`.
#[allow(clippy::too_many_arguments)]
pub async fn fan_out(
    p: &Proxy,
    part: u32,
    primaries: Vec<Node>,
    handoffs: Vec<Node>,
    method: Method,
    path: &str,
    query: Option<&str>,
    slot_headers: Vec<HeaderMap>,
    body: Bytes,
) -> Vec<Option<Reply>> {
    let handoffs = Mutex::new(VecDeque::from(handoffs));
    let handoffs = &handoffs;
    let tasks = primaries.into_iter().zip(slot_headers).map(|(first, headers)| {
        let method = method.clone();
        let body = body.clone();
        async move {
            let mut node = first;
            loop {
                let result = backend::send(
                    &p.client,
                    Target { node: &node, part, path, query },
                    method.clone(),
                    &headers,
                    common::http::full(body.clone()),
                    p.config.node_timeout(),
                )
                .await;
                match result {
                    Ok(resp) if !resp.status().is_server_error() => {
                        let reply = Reply { status: resp.status(), headers: resp.headers().clone() };
                        drain(resp).await;
                        return Some(reply);
                    }
                    Ok(resp) => {
                        tracing::warn!(node = %node.key(), status = %resp.status(), "backend write failed");
                        drain(resp).await;
                    }
                    Err(e) => tracing::warn!(node = %node.key(), error = %e, "backend write failed"),
                }
                p.limiter.record_error(&node);
                node = handoffs.lock().unwrap_or_else(|e| e.into_inner()).pop_front()?;
            }
        }
    });
    futures::future::join_all(tasks).await
}

/// Reads and drops a small backend body so its connection returns to the pool.
pub async fn drain(resp: Response<Incoming>) {
    let _ = backend::read_small_body(resp, 64 * 1024).await;
}

/// The statuses of a fan-out, for `quorum::best_status`.
pub fn statuses(replies: &[Option<Reply>]) -> Vec<Option<StatusCode>> {
    replies.iter().map(|r| r.as_ref().map(|r| r.status)).collect()
}
