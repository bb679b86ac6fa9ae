//! Every daemon of one node, built over one shared [`Node`]: what `saio` runs per storage
//! node and the `replicator` binary runs one of.

use crate::auditor::Auditor;
use crate::config::secs;
use crate::db::DbReplicator;
use crate::error::Result;
use crate::expirer::Expirer;
use crate::node::Node;
use crate::object::ObjectReplicator;
use crate::updater::Updater;
use common::daemon::{run_forever, run_pass, Daemon};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_broker::DbKind;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The six daemons, by their command-line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Object,
    Container,
    Account,
    Auditor,
    Updater,
    Expirer,
}

impl Kind {
    pub const ALL: [Kind; 6] =
        [Kind::Object, Kind::Container, Kind::Account, Kind::Auditor, Kind::Updater, Kind::Expirer];
}

pub struct DaemonSet {
    pub node: Arc<Node>,
    pub object: ObjectReplicator,
    pub container: DbReplicator,
    pub account: DbReplicator,
    pub auditor: Auditor,
    pub updater: Updater,
    pub expirer: Expirer,
}

/// Runs one pass of `d` and turns its report into JSON (for callers that pick the daemon at run time).
async fn pass_json<D: Daemon<Error = crate::ReplicatorError>>(
    d: &D,
    node: &Node,
    cancel: &CancellationToken,
) -> Result<serde_json::Value> {
    let report = run_pass(d, node.config.recon_dir.as_deref(), cancel).await?;
    Ok(to_json(&report))
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_else(|e| serde_json::Value::String(format!("unserializable report: {e}")))
}

impl DaemonSet {
    pub fn new(node: Arc<Node>) -> Arc<Self> {
        Arc::new(DaemonSet {
            object: ObjectReplicator::new(node.clone()),
            container: DbReplicator::new(node.clone(), DbKind::Container),
            account: DbReplicator::new(node.clone(), DbKind::Account),
            auditor: Auditor::new(node.clone()),
            updater: Updater::new(node.clone()),
            expirer: Expirer::new(node.clone()),
            node,
        })
    }

    /// One pass of one daemon (logged, and written to the recon dir), its report as JSON.
    pub async fn run_pass(&self, kind: Kind, cancel: &CancellationToken) -> Result<serde_json::Value> {
        let node = &self.node;
        match kind {
            Kind::Object => pass_json(&self.object, node, cancel).await,
            Kind::Container => pass_json(&self.container, node, cancel).await,
            Kind::Account => pass_json(&self.account, node, cancel).await,
            Kind::Auditor => pass_json(&self.auditor, node, cancel).await,
            Kind::Updater => pass_json(&self.updater, node, cancel).await,
            Kind::Expirer => pass_json(&self.expirer, node, cancel).await,
        }
    }

    fn interval(&self, kind: Kind) -> Duration {
        let c = &self.node.config;
        secs(match kind {
            Kind::Object => c.object_replicator.interval,
            Kind::Container | Kind::Account => c.db_replicator.interval,
            Kind::Auditor => c.auditor.interval,
            Kind::Updater => c.updater.interval,
            Kind::Expirer => c.expirer.interval,
        })
    }

    /// Runs `kind` on its interval until `cancel` fires.
    pub async fn run_forever(self: &Arc<Self>, kind: Kind, cancel: CancellationToken) {
        let (interval, recon) = (self.interval(kind), self.node.config.recon_dir.clone());
        match kind {
            Kind::Object => run_forever(&self.object, interval, recon, cancel).await,
            Kind::Container => run_forever(&self.container, interval, recon, cancel).await,
            Kind::Account => run_forever(&self.account, interval, recon, cancel).await,
            Kind::Auditor => run_forever(&self.auditor, interval, recon, cancel).await,
            Kind::Updater => run_forever(&self.updater, interval, recon, cancel).await,
            Kind::Expirer => run_forever(&self.expirer, interval, recon, cancel).await,
        }
    }

    /// Starts every daemon on its interval; the tasks end when `cancel` fires.
    pub fn spawn_all(self: &Arc<Self>, cancel: &CancellationToken) -> Vec<JoinHandle<()>> {
        Kind::ALL
            .iter()
            .map(|&kind| {
                let (me, cancel) = (self.clone(), cancel.clone());
                tokio::spawn(async move { me.run_forever(kind, cancel).await })
            })
            .collect()
    }
}
