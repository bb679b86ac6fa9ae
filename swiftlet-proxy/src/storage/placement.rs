//! Which storage nodes a request tries, in what order: the partition's primaries, then
//! handoffs, with nodes that failed often lately (error-limited) moved to the end. A read
//! walks that list; a write gives each replica slot its first node and keeps the rest as
//! stand-ins for slots whose node fails, taken through the one handoff loop
//! ([`NodeQueue::first_answer`]) by buffered and streamed writes alike.

use crate::state::node::{ErrorLimiter, Node};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use swiftlet_ring::Ring;

/// The nodes of partition `part` in the order to try them: every primary, then up to
/// `handoffs` handoff nodes; error-limited ones keep their relative order but go last.
pub(crate) fn ordered(ring: &Ring, part: u32, handoffs: usize, limiter: &ErrorLimiter) -> Vec<Node> {
    let primaries = ring.get_part_nodes(part).into_iter().map(|d| Node { dev: d.clone(), primary: true });
    let more = ring.get_more_nodes(part).take(handoffs).map(|d| Node { dev: d.clone(), primary: false });
    let (ok, limited): (Vec<Node>, Vec<Node>) = primaries.chain(more).partition(|n| !limiter.is_limited(n));
    ok.into_iter().chain(limited).collect()
}

/// One try of a request on one node; `None` when the node did not answer usefully.
pub(crate) trait Attempt: Sync {
    type Output: Send;
    fn attempt<'a>(&'a self, node: &'a Node) -> impl Future<Output = Option<Self::Output>> + Send + 'a;
}

/// The stand-ins of a write: the nodes after the replica slots' first ones, shared by all
/// slots (the first slot that needs one takes the next).
pub(crate) struct NodeQueue {
    spare: Mutex<VecDeque<Node>>,
}

impl NodeQueue {
    /// A write's nodes: the first node of each replica slot (as many as the partition has
    /// primaries), and the queue of the others. Twice as many handoffs as replicas can stand in.
    pub(crate) fn for_write(ring: &Ring, part: u32, limiter: &ErrorLimiter) -> (Vec<Node>, NodeQueue) {
        let replicas = ring.get_part_nodes(part).len();
        let mut nodes = ordered(ring, part, replicas * 2, limiter);
        let spare = nodes.split_off(replicas.min(nodes.len()));
        (nodes, NodeQueue { spare: Mutex::new(VecDeque::from(spare)) })
    }

    fn next_spare(&self) -> Option<Node> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
    }

    /// Tries `what` on `first`, then on stand-ins until one answers; each node that fails
    /// counts against it in `limiter`. `None` once no stand-in is left.
    pub(crate) async fn first_answer<A: Attempt>(
        &self,
        first: Node,
        limiter: &ErrorLimiter,
        what: &A,
    ) -> Option<(Node, A::Output)> {
        let mut node = first;
        loop {
            if let Some(out) = what.attempt(&node).await {
                return Some((node, out));
            }
            limiter.record_error(&node);
            node = self.next_spare()?;
        }
    }
}
