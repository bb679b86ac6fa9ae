//! The auditor: re-reads every object on this node's devices at a bounded rate
//! (`bytes_per_sec`, `files_per_sec`), verifying its metadata and the checksum of its body
//! (`swiftlet_object_store::audit_object`, which quarantines what is damaged so the replicator
//! restores a good copy), and runs SQLite's integrity check on every container and account
//! DB (the store quarantines a damaged one).

use crate::error::Result;
use crate::failures::Failures;
use crate::node::Node;
use crate::throttle::Throttle;
use common::daemon::Daemon;
use serde::Serialize;
use std::sync::Arc;
use swiftlet_broker::{BrokerError, Store};
use swiftlet_object_store::AuditOutcome;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuditReport {
    pub object_devices: usize,
    pub objects_checked: usize,
    pub bytes_checked: u64,
    pub objects_quarantined: usize,
    pub dbs_checked: usize,
    pub dbs_quarantined: usize,
    #[serde(flatten)]
    pub failed: Failures,
}

pub struct Auditor {
    node: Arc<Node>,
    bytes: Throttle,
    files: Throttle,
    dbs: Throttle,
}

impl Auditor {
    pub fn new(node: Arc<Node>) -> Self {
        let c = &node.config.auditor;
        let (bytes, files, dbs) =
            (Throttle::new(c.bytes_per_sec), Throttle::new(c.files_per_sec), Throttle::new(c.dbs_per_sec));
        Auditor { node, bytes, files, dbs }
    }

    async fn audit_objects(&self, name: &str, report: &mut AuditReport, cancel: &CancellationToken) {
        let (device, parts) = match self.node.object_partitions(name).await {
            Ok(found) => found,
            Err(why) => return report.failed.add(why),
        };
        for part in parts {
            let manager = device.manager.clone();
            let listed = device
                .pool
                .run_io(move || -> swiftlet_object_store::Result<_> {
                    let mut hashes = Vec::new();
                    for suffix in manager.suffixes(part)? {
                        hashes.extend(manager.hashes(part, &suffix)?);
                    }
                    Ok(hashes)
                })
                .await;
            let hashes = match listed {
                Ok(h) => h,
                Err(e) => {
                    report.failed.add(format!("device {name} partition {part}: {e}"));
                    continue;
                }
            };
            for hash in hashes {
                if cancel.is_cancelled() {
                    return;
                }
                let manager = device.manager.clone();
                let h = hash.clone();
                match device.pool.run_io(move || swiftlet_object_store::audit_object(&manager, part, &h)).await {
                    Ok(AuditOutcome::Ok { bytes }) => {
                        report.objects_checked += 1;
                        report.bytes_checked += bytes;
                        self.bytes.consume(bytes, cancel).await;
                    }
                    Ok(AuditOutcome::Quarantined { reason }) => {
                        report.objects_checked += 1;
                        report.objects_quarantined += 1;
                        tracing::warn!(device = name, partition = part, %hash, %reason, "auditor quarantined an object");
                    }
                    Ok(AuditOutcome::NoData) => {}
                    Err(e) => report.failed.add(format!("device {name} object {hash}: {e}")),
                }
                self.files.consume(1, cancel).await;
            }
        }
    }

    async fn audit_dbs(&self, store: &Arc<Store>, name: &str, report: &mut AuditReport, cancel: &CancellationToken) {
        let locs = match store.walk(name).await {
            Ok(l) => l,
            Err(e) => return report.failed.add(format!("device {name}: {e}")),
        };
        for loc in locs {
            if cancel.is_cancelled() {
                return;
            }
            report.dbs_checked += 1;
            match store.read(&loc, |db| db.check_integrity()).await {
                Ok(()) | Err(BrokerError::NotFound(_)) => {}
                Err(BrokerError::Quarantined { path, reason, .. }) => {
                    report.dbs_quarantined += 1;
                    tracing::warn!(db = %path.display(), %reason, "auditor quarantined a database");
                }
                Err(e) => report.failed.add(format!("{}/{}: {e}", loc.device, loc.hash)),
            }
            self.dbs.consume(1, cancel).await;
        }
    }
}

impl Daemon for Auditor {
    type Report = AuditReport;
    type Error = crate::ReplicatorError;

    fn name(&self) -> &'static str {
        "auditor"
    }

    async fn run_once(&self, cancel: &CancellationToken) -> Result<AuditReport> {
        let node = &self.node;
        let mut report = AuditReport::default();
        let objects = node.local_object_devices();
        report.object_devices = objects.len();
        for name in &objects {
            self.audit_objects(name, &mut report, cancel).await;
        }
        let dbs = [
            (&node.storage.containers, node.local_devices(&node.rings.container.current(), node.config.container_port)),
            (&node.storage.accounts, node.local_devices(&node.rings.account.current(), node.config.account_port)),
        ];
        for (store, names) in dbs {
            for name in names {
                self.audit_dbs(store, &name, &mut report, cancel).await;
            }
        }
        Ok(report)
    }
}
