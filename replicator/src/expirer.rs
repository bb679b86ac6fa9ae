//! The expirer: deletes objects whose `X-Delete-At` has passed.
//!
//! Object servers already answer 404 for an expired object (it opens as `Expired`), so the
//! expirer only has to reclaim the space and take the object out of its listing. Swift's
//! expirer reads a queue that proxies fill (the `.expiring_objects` account, written when a
//! proxy names `X-Delete-At-Host`); Swiftlet's proxy does not name those hosts, so the queue
//! stays empty. This expirer therefore finds expired objects where they are: each node walks
//! the partitions its devices are primary for and reads each object's metadata. For each
//! expired object it sends every primary Swift's conditional delete: `X-Timestamp` and
//! `X-If-Delete-At` both the expiry time (so a newer overwrite is never deleted, and a
//! changed `X-Delete-At` answers 412), with the container headers so the listing row goes
//! too. Whichever primary's expirer runs first does it; the others then find a tombstone.

use crate::error::Result;
use crate::failures::Failures;
use crate::node::{replication_addr, Node};
use crate::throttle::Throttle;
use common::daemon::Daemon;
use common::http::empty;
use common::update_targets::{self, TargetKind};
use common::Timestamp;
use futures::StreamExt;
use http::StatusCode;
use http_body_util::BodyExt;
use serde::Serialize;
use std::sync::Arc;
use swiftlet_object_store::diskfile::metadata::MetadataExt;
use swiftlet_object_store::{quote_path, ObjectState};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpirerReport {
    pub devices: usize,
    pub objects_checked: usize,
    pub expired_found: usize,
    /// Expired objects every primary answered for (deleted, or already gone or replaced).
    pub objects_deleted: usize,
    #[serde(flatten)]
    pub failed: Failures,
}

/// An expired object found on disk.
#[derive(Debug, Clone)]
struct Expired {
    account: String,
    container: String,
    obj: String,
    delete_at: u64,
}

/// `/a/c/o` into its parts.
fn split_name(name: &str) -> Option<(String, String, String)> {
    let mut it = name.strip_prefix('/')?.splitn(3, '/');
    let (a, c, o) = (it.next()?, it.next()?, it.next()?);
    (!a.is_empty() && !c.is_empty() && !o.is_empty()).then(|| (a.into(), c.into(), o.into()))
}

pub struct Expirer {
    node: Arc<Node>,
    throttle: Throttle,
}

impl Expirer {
    pub fn new(node: Arc<Node>) -> Self {
        let throttle = Throttle::new(node.config.expirer.objects_per_sec);
        Expirer { node, throttle }
    }

    /// Sends the conditional delete to every primary; `Ok` when each answered for it.
    async fn delete(&self, e: &Expired) -> std::result::Result<(), String> {
        let secret = &self.node.secret;
        let oring = self.node.rings.object.current();
        let cring = self.node.rings.container.current();
        let (part, nodes) = oring.get_nodes(secret, &e.account, Some(&e.container), Some(&e.obj));
        let (cpart, cnodes) = cring.get_nodes(secret, &e.account, Some(&e.container), None);
        let at = Timestamp::from_secs_f64(e.delete_at as f64).internal();
        let trans_id = common::http::new_trans_id();
        let sends = nodes.iter().enumerate().map(|(i, dev)| {
            let path = format!("/{}/{part}/{}/{}/{}", dev.device, e.account, e.container, e.obj);
            let uri = format!("http://{}{}", replication_addr(dev), quote_path(&path));
            let req = http::Request::delete(&uri)
                .header("x-timestamp", &at)
                .header("x-if-delete-at", &at)
                .header("x-backend-clean-expiring-object-queue", "no")
                .header("x-trans-id", &trans_id)
                .header("user-agent", "object-expirer");
            // Each object replica updates one container replica, as the proxy arranges it.
            let targets = cnodes.get(i % cnodes.len().max(1));
            async move {
                let mut req = req.body(empty()).map_err(|err| format!("bad delete {uri}: {err}"))?;
                if let Some(c) = targets {
                    let host = replication_addr(c);
                    update_targets::write(req.headers_mut(), TargetKind::Container, &host, &c.device, cpart);
                }
                let timeout = self.node.config.node_timeout();
                let resp = self.node.client.send(req, timeout).await.map_err(|err| err.to_string())?;
                let status = resp.status();
                let _ = tokio::time::timeout(timeout, resp.into_body().collect()).await;
                // 404: gone already; 409: overwritten since; 412: its X-Delete-At changed.
                match status {
                    s if s.is_success() => Ok(()),
                    StatusCode::NOT_FOUND | StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => Ok(()),
                    s => Err(format!("{s} from {uri}")),
                }
            }
        });
        let failures: Vec<String> =
            futures::future::join_all(sends).await.into_iter().filter_map(|r| r.err()).collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }

    async fn expire_device(&self, name: &str, report: &mut ExpirerReport, cancel: &CancellationToken) {
        let (device, parts) = match self.node.object_partitions(name).await {
            Ok(found) => found,
            Err(why) => return report.failed.add(why),
        };
        let ring = self.node.rings.object.current();
        let port = self.node.config.object_port;
        for part in parts {
            if cancel.is_cancelled() {
                return;
            }
            // Handoff partitions are left to the primaries they revert to.
            let primary = part < ring.partition_count()
                && ring.get_part_nodes(part).iter().any(|d| d.device == name && self.node.is_local(d, port));
            if !primary {
                continue;
            }
            let manager = device.manager.clone();
            let scanned = device
                .pool
                .run_io(move || -> swiftlet_object_store::Result<_> {
                    let now = Timestamp::now();
                    let (mut checked, mut found) = (0usize, Vec::new());
                    for suffix in manager.suffixes(part)? {
                        for hash in manager.hashes(part, &suffix)? {
                            checked += 1;
                            let ObjectState::Expired { metadata, .. } =
                                manager.diskfile_for_hash(part, &hash).open(now, false)?
                            else {
                                continue;
                            };
                            let parts = metadata.name().and_then(split_name);
                            if let (Some((account, container, obj)), Ok(Some(delete_at))) =
                                (parts, metadata.delete_at())
                            {
                                found.push(Expired { account, container, obj, delete_at });
                            }
                        }
                    }
                    Ok((checked, found))
                })
                .await;
            let (checked, found) = match scanned {
                Ok(s) => s,
                Err(e) => {
                    report.failed.add(format!("device {name} partition {part}: {e}"));
                    continue;
                }
            };
            report.objects_checked += checked;
            report.expired_found += found.len();
            self.throttle.consume(checked as u64, cancel).await;
            let concurrency = self.node.config.expirer.concurrency.max(1);
            let mut results = futures::stream::iter(found)
                .map(|e| async move { (self.delete(&e).await, e) })
                .buffer_unordered(concurrency);
            while let Some((r, e)) = results.next().await {
                match r {
                    Ok(()) => report.objects_deleted += 1,
                    Err(why) => report.failed.add(format!("/{}/{}/{}: {why}", e.account, e.container, e.obj)),
                }
            }
        }
    }
}

impl Daemon for Expirer {
    type Report = ExpirerReport;
    type Error = crate::ReplicatorError;

    fn name(&self) -> &'static str {
        "expirer"
    }

    async fn run_once(&self, cancel: &CancellationToken) -> Result<ExpirerReport> {
        let names = self.node.local_object_devices();
        let mut report = ExpirerReport { devices: names.len(), ..Default::default() };
        for name in &names {
            self.expire_device(name, &mut report, cancel).await;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_object_names() {
        assert_eq!(split_name("/a/c/o/with/slashes"), Some(("a".into(), "c".into(), "o/with/slashes".into())));
        assert_eq!(split_name("/a/c/"), None);
        assert_eq!(split_name("a/c/o"), None);
        assert_eq!(split_name("/a/c"), None);
    }
}
