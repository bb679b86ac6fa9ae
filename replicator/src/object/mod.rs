//! The object replicator: for every partition on this node's object devices,
//!
//! - **primary** partitions (the ring assigns them to this device): compare suffix hashes
//!   with every other primary (`REPLICATE`) and push the differing suffixes with SSYNC, then
//!   have the peer rehash them to confirm (`partition::sync`);
//! - **handoff** partitions (held here but assigned elsewhere: written while a primary was
//!   down, or moved by a rebalance): push everything to every primary and delete the local
//!   copies only after each primary accepted every object (`partition::revert`).
//!
//! Old tombstones go when their suffix is rehashed (cleanup honours `reclaim_age`); every
//! `full_rehash_every` passes all suffixes are rehashed so none is missed. Partitions run
//! concurrently (`concurrency` node-wide, `concurrency_per_device` per device), handoffs
//! first so space frees early; pushed bytes are rate limited (`max_bytes_per_sec`).

mod partition;

use crate::error::Result;
use crate::failures::Failures;
use crate::node::{replication_addr, Node};
use crate::throttle::Throttle;
use common::daemon::Daemon;
use futures::StreamExt;
use rand::seq::SliceRandom;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use swiftlet_object_store::ssync::SsyncTarget;
use swiftlet_object_store::Device;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What one object replication pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObjectReport {
    pub devices: usize,
    /// Partitions looked at (primaries and handoffs).
    pub partitions_checked: usize,
    pub handoff_partitions: usize,
    /// Handoff partitions emptied after every primary confirmed them.
    pub handoffs_removed: usize,
    pub suffixes_checked: usize,
    /// Differing suffixes pushed that the peer then reported equal to ours.
    pub suffixes_synced: usize,
    /// SSYNC frames sent: object bodies, tombstones and metadata updates.
    pub objects_pushed: usize,
    pub bytes_pushed: u64,
    /// Handoff objects deleted locally once the primaries had them.
    pub objects_removed: usize,
    /// Whether this pass rehashed every suffix.
    pub full_rehash: bool,
    #[serde(flatten)]
    pub failed: Failures,
}

impl ObjectReport {
    fn add(&mut self, o: ObjectReport) {
        self.partitions_checked += o.partitions_checked;
        self.handoff_partitions += o.handoff_partitions;
        self.handoffs_removed += o.handoffs_removed;
        self.suffixes_checked += o.suffixes_checked;
        self.suffixes_synced += o.suffixes_synced;
        self.objects_pushed += o.objects_pushed;
        self.bytes_pushed += o.bytes_pushed;
        self.objects_removed += o.objects_removed;
        self.failed.merge(o.failed);
    }
}

pub struct ObjectReplicator {
    node: Arc<Node>,
    passes: AtomicU64,
    throttle: Arc<Throttle>,
}

/// What a partition job needs besides its device and number.
struct Job {
    node: Arc<Node>,
    device: Arc<Device>,
    partition: u32,
    /// The primaries' replication targets, minus this device.
    targets: Vec<SsyncTarget>,
    handoff: bool,
    full_rehash: bool,
    throttle: Arc<Throttle>,
    cancel: CancellationToken,
}

impl ObjectReplicator {
    pub fn new(node: Arc<Node>) -> Self {
        let throttle = Arc::new(Throttle::new(node.config.object_replicator.max_bytes_per_sec));
        ObjectReplicator { node, passes: AtomicU64::new(0), throttle }
    }

    fn ssync_timeout(&self) -> Duration {
        crate::config::secs(self.node.config.object_replicator.ssync_timeout.max(1.0))
    }

    async fn replicate_device(
        &self,
        name: String,
        full_rehash: bool,
        node_slots: Arc<Semaphore>,
        cancel: &CancellationToken,
    ) -> ObjectReport {
        let mut report = ObjectReport::default();
        let (device, parts) = match self.node.object_partitions(&name).await {
            Ok(found) => found,
            Err(why) => {
                report.failed.add(why);
                return report;
            }
        };
        let ring = self.node.rings.object.current();
        let port = self.node.config.object_port;
        let mut jobs: Vec<Job> = Vec::with_capacity(parts.len());
        for partition in parts {
            if partition >= ring.partition_count() {
                report.failed.add(format!("device {name}: partition {partition} is outside the ring"));
                continue;
            }
            let primaries = ring.get_part_nodes(partition);
            let here = primaries.iter().any(|d| d.device == name && self.node.is_local(d, port));
            let targets = primaries
                .iter()
                .filter(|d| !(d.device == name && self.node.is_local(d, port)))
                .map(|d| SsyncTarget { addr: replication_addr(d), device: d.device.clone() })
                .collect();
            jobs.push(Job {
                node: self.node.clone(),
                device: device.clone(),
                partition,
                targets,
                handoff: !here,
                full_rehash,
                throttle: self.throttle.clone(),
                cancel: cancel.clone(),
            });
        }
        // Handoffs first: their data is the most at risk and their space is wanted back.
        // Otherwise a random order, so the nodes holding a partition seldom push the same
        // suffixes to the same peer at the same moment (as Swift shuffles its jobs).
        jobs.shuffle(&mut rand::thread_rng());
        jobs.sort_by_key(|j| !j.handoff);
        let per_device = self.node.config.object_replicator.concurrency_per_device.max(1);
        let timeout = self.ssync_timeout();
        let mut results = futures::stream::iter(jobs)
            .map(|job| {
                let slots = node_slots.clone();
                async move {
                    if job.cancel.is_cancelled() {
                        return ObjectReport::default();
                    }
                    let Ok(_permit) = slots.acquire_owned().await else { return ObjectReport::default() };
                    if job.handoff {
                        partition::revert(&job, timeout).await
                    } else {
                        partition::sync(&job, timeout).await
                    }
                }
            })
            .buffer_unordered(per_device);
        while let Some(r) = results.next().await {
            report.add(r);
        }
        report
    }
}

impl Daemon for ObjectReplicator {
    type Report = ObjectReport;
    type Error = crate::ReplicatorError;

    fn name(&self) -> &'static str {
        "object-replicator"
    }

    async fn run_once(&self, cancel: &CancellationToken) -> Result<ObjectReport> {
        let pass = self.passes.fetch_add(1, Ordering::Relaxed);
        let every = self.node.config.object_replicator.full_rehash_every.max(1);
        let full_rehash = pass.is_multiple_of(every);
        let ring = self.node.rings.object.current();
        let names = self.node.local_devices(&ring, self.node.config.object_port);
        let slots = Arc::new(Semaphore::new(self.node.config.object_replicator.concurrency.max(1)));
        let mut report = ObjectReport { devices: names.len(), full_rehash, ..Default::default() };
        let devices = names.into_iter().map(|n| self.replicate_device(n, full_rehash, slots.clone(), cancel));
        for r in futures::future::join_all(devices).await {
            report.add(r);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_add_up_and_keep_few_errors() {
        let mut total = ObjectReport::default();
        for i in 0..30 {
            let mut r =
                ObjectReport { partitions_checked: 1, objects_pushed: 2, bytes_pushed: 3, ..Default::default() };
            r.failed.add(format!("e{i}"));
            total.add(r);
        }
        assert_eq!((total.partitions_checked, total.objects_pushed, total.bytes_pushed), (30, 60, 90));
        assert_eq!((total.failed.failures, total.failed.errors.len(), total.failed.errors[0].as_str()), (30, 20, "e0"));
    }
}
