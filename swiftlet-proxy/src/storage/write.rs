//! Small writes fanned out to every replica at once, with stand-ins for failed nodes.

use super::backend::{self, drain, Target};
use super::placement::{Attempt, NodeQueue};
use crate::state::cluster::Cluster;
use crate::state::node::Node;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

/// One replica's answer to a fanned-out write.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
}

/// A buffered write to one node: any answer but a 5xx (507 included) counts.
struct BufferedWrite<'r> {
    p: &'r Cluster,
    part: u32,
    path: &'r str,
    query: Option<&'r str>,
    method: &'r Method,
    headers: &'r HeaderMap,
    body: &'r Bytes,
}

impl Attempt for BufferedWrite<'_> {
    type Output = Reply;

    async fn attempt(&self, node: &Node) -> Option<Reply> {
        let target = Target { node, part: self.part, path: self.path, query: self.query };
        let body = common::http::full(self.body.clone());
        let timeout = self.p.config.node_timeout();
        match backend::send(&self.p.client, target, self.method.clone(), self.headers, body, timeout).await {
            Ok(resp) if !resp.status().is_server_error() => {
                let reply = Reply { status: resp.status(), headers: resp.headers().clone() };
                drain(resp).await;
                Some(reply)
            }
            Ok(resp) => {
                tracing::warn!(node = %node.key(), status = %resp.status(), "backend write failed");
                drain(resp).await;
                None
            }
            Err(e) => {
                tracing::warn!(node = %node.key(), error = %e, "backend write failed");
                None
            }
        }
    }
}

/// Where a write goes: a partition, each replica slot's first node, and the stand-ins.
pub(crate) struct WriteTargets {
    pub part: u32,
    pub slots: Vec<Node>,
    pub queue: NodeQueue,
}

impl WriteTargets {
    pub(crate) fn new(ring: &swiftlet_ring::Ring, part: u32, p: &Cluster) -> WriteTargets {
        let (slots, queue) = NodeQueue::for_write(ring, part, &p.limiter);
        WriteTargets { part, slots, queue }
    }

    pub(crate) fn replicas(&self) -> usize {
        self.slots.len()
    }
}

/// Sends a small write to every replica slot at once; a node that fails (no answer, 5xx,
/// 507) is replaced by the next stand-in. Slot `i` always carries `slot_headers[i]`.
pub(crate) async fn fan_out(
    p: &Cluster,
    targets: WriteTargets,
    method: Method,
    (path, query): (&str, Option<&str>),
    slot_headers: Vec<HeaderMap>,
    body: Bytes,
) -> Vec<Option<Reply>> {
    let WriteTargets { part, slots, queue } = targets;
    let (queue, method, body) = (&queue, &method, &body);
    let tasks = slots.into_iter().zip(slot_headers).map(|(first, headers)| async move {
        let write = BufferedWrite { p, part, path, query, method, headers: &headers, body };
        queue.first_answer(first, &p.limiter, &write).await.map(|(_, reply)| reply)
    });
    futures::future::join_all(tasks).await
}

/// The statuses of a fan-out, for `quorum::best_status`.
pub(crate) fn statuses(replies: &[Option<Reply>]) -> Vec<Option<StatusCode>> {
    replies.iter().map(|r| r.as_ref().map(|r| r.status)).collect()
}
