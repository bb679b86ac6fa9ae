//! Reads across replicas: the first good answer wins; a 404 is believed once a quorum
//! of the primaries said it.

use super::backend::{self, drain, Target};
use super::quorum::quorum_size;
use crate::state::cluster::Cluster;
use crate::state::node::Node;
use http::{HeaderMap, Method, Response, StatusCode};
use hyper::body::Incoming;

/// The outcome of a read across replicas.
pub(crate) enum ReadOutcome {
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
pub(crate) async fn read_first(
    p: &Cluster,
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
