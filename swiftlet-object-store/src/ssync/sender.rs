//! The sending side of SSYNC, for the replicator: offer a partition's objects (optionally
//! only some suffixes) to a peer device, then stream what it wants.

use super::{
    encode_header, FrameHeader, FrameOp, Offer, ReceiveSummary, Want, PHASE_CHECK, PHASE_HEADER, PHASE_UPDATES,
};
use crate::devices::Device;
use crate::diskfile::metadata::X_TIMESTAMP;
use crate::diskfile::{DiskFileManager, ObjectState};
use crate::error::{Result, StoreError};
use crate::transport;
use bytes::Bytes;
use common::http::{empty, full, stream_body, HttpClient};
use common::metadata::Metadata;
use common::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The peer: its object server's `host:port` and device name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsyncTarget {
    pub addr: String,
    pub device: String,
}

/// What one [`send`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsyncReport {
    pub offered: usize,
    pub wanted: usize,
    pub puts: usize,
    pub deletes: usize,
    pub posts: usize,
    /// Object body bytes streamed (what a bandwidth limit counts).
    pub bytes: u64,
    /// The receiver's account of the updates (empty when nothing was wanted).
    pub remote: ReceiveSummary,
}

/// Offers for every object in the given suffixes (all suffixes when `None`). Blocking.
fn offers(manager: &DiskFileManager, partition: u32, suffixes: Option<&[String]>) -> Result<Vec<Offer>> {
    let all;
    let suffixes = match suffixes {
        Some(s) => s,
        None => {
            all = manager.suffixes(partition)?;
            &all
        }
    };
    let mut out = Vec::new();
    for suffix in suffixes {
        for hash in manager.hashes(partition, suffix)? {
            let set = manager.list_files(partition, &hash)?;
            let Some(newest) = set.data.or(set.tombstone) else { continue };
            out.push(Offer {
                hash,
                timestamp: newest.timestamp,
                deleted: set.data.is_none(),
                meta: set.meta.map(|m| m.timestamp),
            });
        }
    }
    Ok(out)
}

/// Sends one replication request to the peer's device and decodes its JSON answer: a
/// REPLICATE (`phase: None`) or one SSYNC phase.
async fn ask_peer<T: serde::de::DeserializeOwned>(
    client: &HttpClient,
    target: &SsyncTarget,
    path: &str,
    phase: Option<&str>,
    body: common::http::Body,
    timeout: Duration,
) -> Result<T> {
    let (method, headers, what) = match phase {
        Some(phase) => {
            ("SSYNC", vec![(PHASE_HEADER, phase), ("x-backend-replication", "true")], format!("SSYNC {phase}"))
        }
        None => ("REPLICATE", vec![], "REPLICATE".to_string()),
    };
    let remote = |e: String| StoreError::Remote(format!("{what}: {e}"));
    let answer = transport::call(client, method, &target.addr, path, headers, body, timeout).await.map_err(remote)?;
    let body = answer.into_success_body().map_err(remote)?;
    serde_json::from_slice(&body).map_err(|e| remote(format!("bad answer: {e}")))
}

/// One SSYNC phase to the peer's partition.
async fn post_phase<T: serde::de::DeserializeOwned>(
    client: &HttpClient,
    target: &SsyncTarget,
    partition: u32,
    phase: &str,
    body: common::http::Body,
    timeout: Duration,
) -> Result<T> {
    ask_peer(client, target, &format!("/{}/{partition}", target.device), Some(phase), body, timeout).await
}

/// Asks a peer for a partition's suffix hashes (REPLICATE), recomputing `suffixes` there.
pub async fn fetch_remote_hashes(
    client: &HttpClient,
    target: &SsyncTarget,
    partition: u32,
    suffixes: &[String],
    timeout: Duration,
) -> Result<BTreeMap<String, String>> {
    let mut path = format!("/{}/{partition}", target.device);
    if !suffixes.is_empty() {
        path = format!("{path}/{}", suffixes.join("-"));
    }
    ask_peer(client, target, &path, None, empty(), timeout).await
}

/// Pushes `partition` (or just `suffixes` of it) from `device` to `target`: the peer keeps
/// whatever is newer than what it has. `timeout` bounds each request.
pub async fn send(
    client: &HttpClient,
    device: &Arc<Device>,
    partition: u32,
    suffixes: Option<Vec<String>>,
    target: &SsyncTarget,
    timeout: Duration,
) -> Result<SsyncReport> {
    let manager = device.manager.clone();
    let offered = device.pool.run_io(move || offers(&manager, partition, suffixes.as_deref())).await?;
    let mut report = SsyncReport { offered: offered.len(), ..Default::default() };
    if offered.is_empty() {
        return Ok(report);
    }
    let check = serde_json::to_vec(&offered).map_err(|e| StoreError::Internal(e.to_string()))?;
    let wants: Vec<Want> = post_phase(client, target, partition, PHASE_CHECK, full(check), timeout).await?;
    report.wanted = wants.len();
    if wants.is_empty() {
        return Ok(report);
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes>>(4);
    let producer = tokio::spawn(produce(device.clone(), partition, wants, tx));
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let answer =
        post_phase::<ReceiveSummary>(client, target, partition, PHASE_UPDATES, stream_body(stream), timeout).await;
    let counts = producer.await.map_err(|e| StoreError::Internal(format!("ssync producer: {e}")))??;
    report.remote = answer?;
    (report.puts, report.deletes, report.posts, report.bytes) = counts;
    Ok(report)
}

/// The request carrying the frames ended (the peer answered or went away) before all were sent.
fn stopped_reading() -> StoreError {
    StoreError::Remote("the peer stopped reading the SSYNC stream".into())
}

/// Streams the wanted objects as frames; returns (puts, deletes, posts, body bytes) sent.
async fn produce(
    device: Arc<Device>,
    partition: u32,
    wants: Vec<Want>,
    tx: mpsc::Sender<Result<Bytes>>,
) -> Result<(usize, usize, usize, u64)> {
    let mut counts = (0, 0, 0, 0);
    let block = 1 << 20;
    for want in wants {
        let df = device.manager.diskfile_for_hash(partition, &want.hash);
        let d = df.clone();
        let state = device.pool.run_io(move || d.open(Timestamp::now(), true)).await?;
        let send = |bytes: Vec<u8>| {
            let tx = tx.clone();
            async move { tx.send(Ok(Bytes::from(bytes))).await.map_err(|_| stopped_reading()) }
        };
        match state {
            ObjectState::Deleted { timestamp } if want.data => {
                let metadata = Metadata::from([(X_TIMESTAMP.to_string(), timestamp.internal())]);
                let h = FrameHeader { op: FrameOp::Delete, hash: want.hash.clone(), timestamp, metadata, length: 0 };
                send(encode_header(&h)?).await?;
                counts.1 += 1;
            }
            ObjectState::Exists(obj) => {
                if want.data {
                    let h = FrameHeader {
                        op: FrameOp::Put,
                        hash: want.hash.clone(),
                        timestamp: obj.data_timestamp,
                        metadata: obj.data_metadata.clone(),
                        length: obj.content_length,
                    };
                    send(encode_header(&h)?).await?;
                    let mut reader = df.reader(&obj);
                    let mut offset = 0;
                    while offset < obj.content_length {
                        let (back, read) = device
                            .pool
                            .run(move || {
                                let r = reader.read_at(offset, block);
                                (reader, r)
                            })
                            .await?;
                        reader = back;
                        // A corrupt local copy (now quarantined) aborts the stream mid-frame,
                        // so the receiver discards the partial object.
                        let bytes = read?;
                        offset += bytes.len() as u64;
                        counts.3 += bytes.len() as u64;
                        tx.send(Ok(bytes)).await.map_err(|_| stopped_reading())?;
                    }
                    counts.0 += 1;
                }
                if let (true, Some(meta), Some(m)) = (want.meta, obj.meta_metadata.clone(), obj.files.meta) {
                    let h = FrameHeader {
                        op: FrameOp::Post,
                        hash: want.hash.clone(),
                        timestamp: m.timestamp,
                        metadata: meta,
                        length: 0,
                    };
                    send(encode_header(&h)?).await?;
                    counts.2 += 1;
                }
            }
            _ => {}
        }
    }
    Ok(counts)
}
