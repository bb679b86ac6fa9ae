//! The sending side of DB replication (Swift's `db_replicator`): one DB to one peer.
//!
//! `sync` tells the peer our DB's state and learns the point it holds for us. Then:
//! - the peer has no copy (404): send the whole DB (`REPLICATE …/db`, a consistent snapshot);
//! - the peer already has every row (its point, or ours for it, reaches our max row), or the
//!   two DB hashes match: nothing to send;
//! - otherwise send the rows above its point in batches (`merge_items`), then our incoming
//!   sync table (`merge_syncs`), and remember how far it got.

use crate::error::{ReplicatorError, Result};
use crate::node::replication_addr;
use bytes::Bytes;
use common::http::{full, stream_body, Body, HttpClient};
use http::StatusCode;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_broker::{DbLocation, Rows, Store, SyncPoint, SyncReply, SyncRequest};
use swiftlet_object_store::quote_path;
use swiftlet_ring::Device;

/// How one DB reached one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synced {
    /// The peer already had everything.
    NoChange,
    /// The hashes matched (the peer had every row under other ROWIDs).
    HashMatch,
    /// Rows were sent in this many batches carrying this many rows.
    Rows { batches: usize, rows: usize },
    /// The peer had no copy: the whole DB was sent.
    WholeDb,
    /// `max_diffs` batches were sent and rows remain: the next pass continues.
    Capped { batches: usize, rows: usize },
}

/// A peer's DB replica and how to talk to it.
pub struct Peer<'a> {
    pub client: &'a HttpClient,
    pub device: &'a Device,
    pub partition: u32,
    pub hash: &'a str,
    pub timeout: Duration,
}

impl Peer<'_> {
    fn uri(&self, tail: &str) -> String {
        let path = format!("/{}/{}/{}{tail}", self.device.device, self.partition, self.hash);
        format!("http://{}{}", replication_addr(self.device), quote_path(&path))
    }

    fn describe(&self) -> String {
        format!("{}/{}", replication_addr(self.device), self.device.device)
    }

    /// One REPLICATE call: `[op, args...]` as JSON; returns the status and body.
    async fn call(&self, body: Body, tail: &str, remote_id: Option<&str>) -> Result<(StatusCode, Bytes)> {
        let uri = self.uri(tail);
        let mut req = http::Request::builder().method("REPLICATE").uri(&uri);
        if let Some(id) = remote_id {
            req = req.header("x-remote-id", id);
        }
        let req = req.body(body).map_err(|e| ReplicatorError::Internal(format!("bad REPLICATE request: {e}")))?;
        let resp = self.client.send(req, self.timeout).await.map_err(|e| ReplicatorError::Remote(e.to_string()))?;
        let status = resp.status();
        let bytes = tokio::time::timeout(self.timeout, resp.into_body().collect())
            .await
            .map_err(|_| ReplicatorError::Remote(format!("REPLICATE {uri}: response timed out")))?
            .map_err(|e| ReplicatorError::Remote(format!("REPLICATE {uri}: {e}")))?
            .to_bytes();
        Ok((status, bytes))
    }

    async fn op(&self, call: serde_json::Value) -> Result<(StatusCode, Bytes)> {
        let body = serde_json::to_vec(&call).map_err(|e| ReplicatorError::Internal(e.to_string()))?;
        self.call(full(body), "", None).await
    }

    fn refused(&self, what: &str, status: StatusCode, body: &[u8]) -> ReplicatorError {
        let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
        ReplicatorError::Remote(format!("{} {what}: {status} {text}", self.describe()))
    }
}

/// Rows' highest ROWID.
fn last_rowid(rows: &Rows) -> Option<i64> {
    match rows {
        Rows::Objects(v) => v.iter().filter_map(|r| r.rowid).max(),
        Rows::Containers(v) => v.iter().filter_map(|r| r.rowid).max(),
    }
}

/// Replicates the DB at `loc` to `peer`.
pub async fn replicate_to(
    store: &Arc<Store>,
    loc: &DbLocation,
    me: &SyncRequest,
    peer: &Peer<'_>,
    per_diff: usize,
    max_diffs: usize,
) -> Result<Synced> {
    let (status, body) = peer.op(serde_json::json!(["sync", me])).await?;
    if status == StatusCode::NOT_FOUND {
        send_whole(store, loc, me, peer).await?;
        return Ok(Synced::WholeDb);
    }
    if status != StatusCode::OK {
        return Err(peer.refused("sync", status, &body));
    }
    let reply: SyncReply = serde_json::from_slice(&body)
        .map_err(|e| ReplicatorError::Remote(format!("{} sync: bad answer: {e}", peer.describe())))?;
    let remote_id = reply.info.id.clone();
    let rid = remote_id.clone();
    let ours = store.read(loc, move |db| db.get_sync(&rid, false)).await?;
    if reply.point.max(ours) >= me.max_row {
        return Ok(Synced::NoChange);
    }
    if reply.info.hash == me.hash {
        let p = SyncPoint { remote_id, sync_point: reply.point, updated_at: 0 };
        store.write(loc, move |db| db.merge_syncs(&[p], false)).await?;
        return Ok(Synced::HashMatch);
    }
    let mut point = reply.point;
    let (mut batches, mut sent) = (0, 0);
    loop {
        let rows = store.read(loc, move |db| db.items_since(point, per_diff.max(1))).await?;
        let Some(last) = last_rowid(&rows) else { break };
        if batches >= max_diffs.max(1) {
            return Ok(Synced::Capped { batches, rows: sent });
        }
        let n = rows.len();
        let (status, body) = peer.op(serde_json::json!(["merge_items", rows, me.id])).await?;
        if !status.is_success() {
            return Err(peer.refused("merge_items", status, &body));
        }
        point = last;
        batches += 1;
        sent += n;
    }
    let incoming = store.read(loc, |db| db.get_syncs(true)).await?;
    let (status, body) = peer.op(serde_json::json!(["merge_syncs", incoming])).await?;
    if !status.is_success() {
        return Err(peer.refused("merge_syncs", status, &body));
    }
    let p = SyncPoint { remote_id, sync_point: point, updated_at: 0 };
    store.write(loc, move |db| db.merge_syncs(&[p], false)).await?;
    Ok(Synced::Rows { batches, rows: sent })
}

/// Sends a consistent snapshot of the whole DB (written to the device's tmp dir, streamed
/// from there, then removed).
async fn send_whole(store: &Arc<Store>, loc: &DbLocation, me: &SyncRequest, peer: &Peer<'_>) -> Result<()> {
    let tmp_dir = store.tmp_dir(&loc.device)?;
    let snap = tmp_dir.join(format!("{}.{:016x}.snapshot", loc.hash, rand::random::<u64>()));
    let dir = tmp_dir.clone();
    store
        .run(&loc.device, move || {
            std::fs::create_dir_all(&dir)
                .map_err(|e| swiftlet_broker::BrokerError::Failed(format!("{}: {e}", dir.display())))
        })
        .await?;
    let sent = async {
        store.snapshot(loc, snap.clone()).await?;
        let file = tokio::fs::File::open(&snap).await.map_err(|e| ReplicatorError::io("opening", &snap, e))?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
        let (status, body) = peer.call(stream_body(stream), "/db", Some(&me.id)).await?;
        if !status.is_success() {
            return Err(peer.refused("whole DB", status, &body));
        }
        Ok(())
    }
    .await;
    let _ = tokio::fs::remove_file(&snap).await;
    sent
}
