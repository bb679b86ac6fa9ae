//! The updater: delivers container updates the object servers could not send at write time
//! (the async-pending queue in each device's RocksDB), and the container servers' queued
//! account updates (`AccountUpdater::run_pending_updates`), so listings and stats catch up
//! after a container or account server was down.
//!
//! An async pending goes to every primary of its container (or of the container named by
//! its `container_path`); it leaves the queue once each of them answered 2xx. Nodes that
//! already took it are not asked again, and a failing update waits longer after each
//! failure (1 s, 2 s, 4 s ... up to `max_backoff`) — remembered in memory, so a restart
//! retries everything at once.

use crate::error::Result;
use crate::node::{replication_addr, Node};
use crate::throttle::Throttle;
use common::daemon::Daemon;
use futures::StreamExt;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use swiftlet_object_store::{ContainerUpdate, Device, UpdateSender};
use tokio_util::sync::CancellationToken;

const MAX_ERRORS: usize = 20;
/// Queue entries read per page.
const PAGE: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdaterReport {
    pub devices: usize,
    /// Async pendings sent (to the nodes that still needed them).
    pub attempted: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Waiting for their back-off to expire.
    pub deferred: usize,
    /// Unreadable queue entries dropped.
    pub dropped: usize,
    pub account_updates_attempted: usize,
    pub account_updates_succeeded: usize,
    pub account_updates_failed: usize,
    pub errors: Vec<String>,
}

impl UpdaterReport {
    fn error(&mut self, what: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(what);
        }
    }
}

/// Retry state of one queued update.
#[derive(Debug, Default)]
struct Retry {
    attempts: u32,
    not_before: Option<Instant>,
    /// Container device ids that already took the update.
    done: HashSet<u32>,
}

pub struct Updater {
    node: Arc<Node>,
    /// The object server's sender: the queued record goes out exactly as it would have.
    sender: UpdateSender,
    retries: Mutex<HashMap<String, Retry>>,
    throttle: Throttle,
}

/// How one queued update went.
enum Outcome {
    Delivered,
    Failed(String),
    Deferred,
}

impl Updater {
    pub fn new(node: Arc<Node>) -> Self {
        let throttle = Throttle::new(node.config.updater.updates_per_sec);
        let sender = UpdateSender::new(node.client.clone(), node.config.node_timeout());
        Updater { node, sender, retries: Mutex::new(HashMap::new()), throttle }
    }

    fn retries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Retry>> {
        self.retries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let max = crate::config::secs(self.node.config.updater.max_backoff);
        Duration::from_secs(1u64 << attempts.min(16)).min(max)
    }

    /// Delivers one queued update to the container nodes that still lack it.
    async fn deliver(&self, device: &Arc<Device>, key: String, p: ContainerUpdate) -> Outcome {
        let done = {
            let retries = self.retries();
            match retries.get(&key) {
                Some(r) if r.not_before.is_some_and(|t| t > Instant::now()) => return Outcome::Deferred,
                Some(r) => r.done.clone(),
                None => HashSet::new(),
            }
        };
        let (account, container) = p.target_container();
        let ring = self.node.rings.container.current();
        let (part, nodes) = ring.get_nodes(&self.node.secret, account, Some(container), None);
        let todo: Vec<&swiftlet_ring::Device> = nodes.into_iter().filter(|d| !done.contains(&d.id)).collect();
        let part = part.to_string();
        let sends = todo.iter().map(|d| {
            let (addr, part, p) = (replication_addr(d), &part, &p);
            async move { self.sender.send(&addr, &d.device, part, p).await }
        });
        let results = futures::future::join_all(sends).await;
        let mut failure = None;
        let mut took = Vec::new();
        for (d, r) in todo.iter().zip(results) {
            match r {
                Ok(()) => took.push(d.id),
                Err(e) => failure = Some(e),
            }
        }
        match failure {
            None => {
                let db = device.db().clone();
                let k = key.clone();
                if let Err(e) = device.pool.run_io(move || db.remove_async_pending(&k)).await {
                    return Outcome::Failed(format!("removing {key}: {e}"));
                }
                self.retries().remove(&key);
                Outcome::Delivered
            }
            Some(why) => {
                let mut retries = self.retries();
                let r = retries.entry(key).or_default();
                r.done.extend(took);
                r.not_before = Some(Instant::now() + self.backoff(r.attempts));
                r.attempts += 1;
                Outcome::Failed(why)
            }
        }
    }

    async fn drain_device(
        &self,
        name: &str,
        report: &mut UpdaterReport,
        seen: &mut HashSet<String>,
        cancel: &CancellationToken,
    ) {
        let device = match self.node.storage.objects.get(name).await {
            Ok(d) => d,
            Err(e) => return report.error(format!("device {name}: {e}")),
        };
        let mut after: Option<String> = None;
        loop {
            if cancel.is_cancelled() {
                return;
            }
            let db = device.db().clone();
            let start = after.clone();
            let page = match device.pool.run_io(move || db.async_pendings(start.as_deref(), PAGE)).await {
                Ok(p) => p,
                Err(e) => return report.error(format!("device {name}: reading the queue: {e}")),
            };
            let Some((last, _)) = page.last() else { return };
            after = Some(last.clone());
            let mut good = Vec::new();
            for (key, entry) in page {
                seen.insert(key.clone());
                match entry {
                    Ok(p) => good.push((key, p)),
                    Err(e) => {
                        tracing::error!(device = name, %key, error = %e, "dropping an unreadable async pending");
                        let db = device.db().clone();
                        if device.pool.run_io(move || db.remove_async_pending(&key)).await.is_ok() {
                            report.dropped += 1;
                        }
                    }
                }
            }
            let concurrency = self.node.config.updater.concurrency.max(1);
            let mut results = futures::stream::iter(good)
                .map(|(key, p)| {
                    let device = device.clone();
                    async move {
                        let outcome = self.deliver(&device, key, p).await;
                        if !matches!(outcome, Outcome::Deferred) {
                            self.throttle.consume(1, cancel).await;
                        }
                        outcome
                    }
                })
                .buffer_unordered(concurrency);
            while let Some(outcome) = results.next().await {
                match outcome {
                    Outcome::Delivered => {
                        report.attempted += 1;
                        report.succeeded += 1;
                    }
                    Outcome::Failed(why) => {
                        report.attempted += 1;
                        report.failed += 1;
                        report.error(why);
                    }
                    Outcome::Deferred => report.deferred += 1,
                }
            }
        }
    }
}

impl Daemon for Updater {
    type Report = UpdaterReport;
    type Error = crate::ReplicatorError;

    fn name(&self) -> &'static str {
        "updater"
    }

    async fn run_once(&self, cancel: &CancellationToken) -> Result<UpdaterReport> {
        let names = self.node.local_object_devices();
        let mut report = UpdaterReport { devices: names.len(), ..Default::default() };
        let mut seen = HashSet::new();
        for name in &names {
            self.drain_device(name, &mut report, &mut seen, cancel).await;
        }
        // Forget retry state of updates that left the queue some other way.
        self.retries().retain(|k, _| seen.contains(k));
        match self.node.storage.account_updater.run_pending_updates().await {
            Ok(u) => {
                report.account_updates_attempted = u.attempted;
                report.account_updates_succeeded = u.succeeded;
                report.account_updates_failed = u.failed;
            }
            Err(e) => report.error(format!("account updates: {e}")),
        }
        Ok(report)
    }
}
