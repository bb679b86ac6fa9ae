//! The container and account DB replicator: for every DB on this node's devices, reclaim
//! old tombstone rows (and the whole DB once it has been deleted longer than
//! `reclaim_age`), then replicate it to each of its other primaries (`rpc::replicate_to`).
//! A DB held here but not assigned here (a handoff, or a DB in the wrong partition after a
//! ring change) is sent to all its primaries and removed once every one has it.

pub mod rpc;

use crate::error::{ReplicatorError, Result};
use crate::failures::Failures;
use crate::node::Node;
use common::daemon::Daemon;
use common::Timestamp;
use futures::StreamExt;
use rpc::{Peer, Synced};
use serde::Serialize;
use std::sync::Arc;
use swiftlet_broker::{BrokerError, DbKind, DbLocation, Store};
use tokio_util::sync::CancellationToken;

/// What one DB replication pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DbReport {
    pub devices: usize,
    pub dbs_checked: usize,
    /// Peers that already had everything.
    pub no_change: usize,
    pub hashmatch: usize,
    /// Peers that got rows, and how many rows in how many batches.
    pub rows_synced: usize,
    pub rows_sent: usize,
    pub batches_sent: usize,
    /// Peers that had no copy and got the whole DB.
    pub whole_dbs_sent: usize,
    /// Peers left behind after `max_diffs` batches (they get the rest next pass).
    pub diff_capped: usize,
    pub handoffs_removed: usize,
    /// Deleted DBs removed after `reclaim_age`, and tombstone rows reclaimed.
    pub dbs_reclaimed: usize,
    pub rows_reclaimed: usize,
    #[serde(flatten)]
    pub failed: Failures,
}

impl DbReport {
    fn add(&mut self, o: DbReport) {
        self.dbs_checked += o.dbs_checked;
        self.no_change += o.no_change;
        self.hashmatch += o.hashmatch;
        self.rows_synced += o.rows_synced;
        self.rows_sent += o.rows_sent;
        self.batches_sent += o.batches_sent;
        self.whole_dbs_sent += o.whole_dbs_sent;
        self.diff_capped += o.diff_capped;
        self.handoffs_removed += o.handoffs_removed;
        self.dbs_reclaimed += o.dbs_reclaimed;
        self.rows_reclaimed += o.rows_reclaimed;
        self.failed.merge(o.failed);
    }

    fn count(&mut self, s: Synced) {
        match s {
            Synced::NoChange => self.no_change += 1,
            Synced::HashMatch => self.hashmatch += 1,
            Synced::WholeDb => self.whole_dbs_sent += 1,
            Synced::Rows { batches, rows } => {
                self.rows_synced += 1;
                self.batches_sent += batches;
                self.rows_sent += rows;
            }
            Synced::Capped { batches, rows } => {
                self.diff_capped += 1;
                self.batches_sent += batches;
                self.rows_sent += rows;
            }
        }
    }
}

/// Replicates one kind of DB: containers or accounts.
pub struct DbReplicator {
    node: Arc<Node>,
    kind: DbKind,
}

impl DbReplicator {
    pub fn new(node: Arc<Node>, kind: DbKind) -> Self {
        DbReplicator { node, kind }
    }

    fn store(&self) -> &Arc<Store> {
        match self.kind {
            DbKind::Container => &self.node.storage.containers,
            DbKind::Account => &self.node.storage.accounts,
        }
    }

    fn ring(&self) -> Arc<swiftlet_ring::Ring> {
        match self.kind {
            DbKind::Container => self.node.rings.container.current(),
            DbKind::Account => self.node.rings.account.current(),
        }
    }

    fn port(&self) -> u16 {
        match self.kind {
            DbKind::Container => self.node.config.container_port,
            DbKind::Account => self.node.config.account_port,
        }
    }

    /// Reclaims, then replicates one DB to its peers; removes it if it is a handoff that
    /// every primary now has.
    async fn replicate_db(&self, loc: DbLocation) -> DbReport {
        let mut report = DbReport { dbs_checked: 1, ..Default::default() };
        if let Err(e) = self.try_replicate_db(&loc, &mut report).await {
            report.failed.add(format!("{} {}/{}: {e}", self.kind.datadir(), loc.device, loc.hash));
        }
        report
    }

    async fn try_replicate_db(&self, loc: &DbLocation, report: &mut DbReport) -> Result<()> {
        let store = self.store();
        let reclaim_age = self.node.config.reclaim_age();
        let now = Timestamp::now();
        let ago = |n: u32| {
            Timestamp::from_micros((now.ticks() * 10).saturating_sub(reclaim_age.as_micros() as u64 * u64::from(n)))
        };
        let (age, sync_age) = (ago(1), ago(2));
        let reclaimed = store.write(loc, move |db| db.reclaim(age, sync_age)).await?;
        report.rows_reclaimed += reclaimed.rows;
        if store.read(loc, move |db| db.is_reclaimable(now, reclaim_age)).await? {
            store.remove(loc).await?;
            report.dbs_reclaimed += 1;
            return Ok(());
        }
        let (me, info) = store.read(loc, |db| Ok((db.sync_request()?, db.info()?))).await?;
        let ring = self.ring();
        let part = ring.get_part(&self.node.secret, &info.account, info.container.as_deref(), None);
        let primaries = ring.get_part_nodes(part);
        let port = self.port();
        let is_me = |d: &swiftlet_ring::Device| d.device == loc.device && self.node.is_local(d, port);
        let belongs_here = part == loc.partition && primaries.iter().any(|d| is_me(d));
        let cfg = &self.node.config.db_replicator;
        let mut all_synced = !primaries.is_empty();
        for dev in primaries.iter().filter(|d| !is_me(d)) {
            let peer = Peer {
                client: &self.node.client,
                device: dev,
                partition: part,
                hash: &loc.hash,
                timeout: self.node.config.node_timeout(),
            };
            match rpc::replicate_to(store, loc, &me, &peer, cfg.per_diff, cfg.max_diffs).await {
                Ok(s) => {
                    all_synced &= !matches!(s, Synced::Capped { .. });
                    report.count(s);
                }
                Err(e) => {
                    all_synced = false;
                    report.failed.add(format!(
                        "{} {} to {}/{}: {e}",
                        self.kind.datadir(),
                        loc.hash,
                        dev.ip,
                        dev.device
                    ));
                }
            }
        }
        if !belongs_here && all_synced {
            // Rows that arrived while we were sending would be lost with the file: keep it
            // for the next pass if it changed.
            let now_max = store.read(loc, |db| db.max_row()).await?;
            if now_max == me.max_row {
                store.remove(loc).await?;
                report.handoffs_removed += 1;
            }
        }
        Ok(())
    }
}

impl Daemon for DbReplicator {
    type Report = DbReport;
    type Error = crate::ReplicatorError;

    fn name(&self) -> &'static str {
        match self.kind {
            DbKind::Container => "container-replicator",
            DbKind::Account => "account-replicator",
        }
    }

    async fn run_once(&self, cancel: &CancellationToken) -> Result<DbReport> {
        let names = self.node.local_devices(&self.ring(), self.port());
        let mut report = DbReport { devices: names.len(), ..Default::default() };
        for name in names {
            if cancel.is_cancelled() {
                break;
            }
            let locs = match self.store().walk(&name).await {
                Ok(l) => l,
                Err(BrokerError::Unmounted(_)) => {
                    report.failed.add(format!("device {name} is not mounted"));
                    continue;
                }
                Err(e) => return Err(ReplicatorError::from(e)),
            };
            let concurrency = self.node.config.db_replicator.concurrency.max(1);
            let mut results = futures::stream::iter(locs)
                .take_while(|_| std::future::ready(!cancel.is_cancelled()))
                .map(|loc| self.replicate_db(loc))
                .buffer_unordered(concurrency);
            while let Some(r) = results.next().await {
                report.add(r);
            }
        }
        Ok(report)
    }
}
