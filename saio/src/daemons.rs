//! Each storage node's servers and healing daemons, and the cluster operations probe-style
//! tests need: one synchronous pass of every daemon, stopping a node's container server
//! alone, and adding a node (with a rebalance).
//!
//! The daemons share the servers' storage handles: the object store's `Devices` registry,
//! taken from [`ObjectServer::devices`] (RocksDB admits one opener per device DB), and the
//! container and account servers' DB stores (whose cached connections must see a handoff
//! DB removed).

use crate::cluster::{bind_all, Cluster, NodeListeners, NodeSlot, Running};
use crate::layout::Layout;
use crate::rings::NodePorts;
use anyhow::{anyhow, Context, Result};
use common::daemon::run_pass;
use common::secrets::Secrets;
use object_server::{ObjectServer, ObjectServerConfig};
use replicator::{
    AuditReport, DaemonConfig, DaemonSet, DbReport, ExpirerReport, Node, ObjectReport, Storage, UpdaterReport,
};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_ring::{Ring, RingBuilder};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What every node's daemons share: the rings (and the proxy's, to reload them together).
pub(crate) struct ClusterDaemons {
    rings: replicator::Rings,
    proxy_rings: swiftlet_proxy::Rings,
    config: DaemonConfig,
    periodic: bool,
    etc: PathBuf,
}

impl ClusterDaemons {
    pub(crate) fn new(
        layout: &Layout,
        config: DaemonConfig,
        periodic: bool,
        proxy_rings: swiftlet_proxy::Rings,
    ) -> Result<Self> {
        let etc = layout.etc();
        let interval = Duration::from_secs_f64(config.ring_check_interval.max(0.01));
        let rings = replicator::Rings::open(&etc, interval).context("opening the rings for the daemons")?;
        Ok(ClusterDaemons { rings, proxy_rings, config, periodic, etc })
    }
}

/// A server task that can be stopped and started on its own.
struct ServerTask {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// A running storage node's daemons and its container server.
pub(crate) struct NodeHandle {
    set: Arc<DaemonSet>,
    container_app: Arc<container_server::App>,
    container: Option<ServerTask>,
    /// The node's token: the container server restarts under it.
    node_cancel: CancellationToken,
}

impl NodeHandle {
    pub(crate) async fn stop(mut self) {
        if let Some(c) = self.container.take() {
            c.cancel.cancel();
            let _ = c.task.await;
        }
    }
}

fn serve_container(
    app: Arc<container_server::App>,
    listener: TcpListener,
    node: usize,
    parent: &CancellationToken,
) -> ServerTask {
    let cancel = parent.child_token();
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = container_server::serve_app(listener, app, stop).await {
            tracing::error!(node = node + 1, error = %e, "container server stopped");
        }
    });
    ServerTask { cancel, task }
}

/// Starts node `i`'s object, container and account servers on `l`, and its daemons (on
/// their intervals when the cluster runs them periodically).
pub(crate) fn start_node(
    layout: &Layout,
    i: usize,
    secrets: &Secrets,
    l: NodeListeners,
    cd: &ClusterDaemons,
) -> Result<Running> {
    let secret = &secrets.hash_path;
    let cancel = CancellationToken::new();
    let devices = layout.node_devices(i);
    let ports = l.ports()?;
    let mut config = cd.config.clone();
    config.devices = devices.clone();
    config.mount_check = false;
    config.swift_dir = cd.etc.clone();
    config.object_port = ports.object;
    config.container_port = ports.container;
    config.account_port = ports.account;
    config.hash_path = secret.clone();
    let recon_root = cd.config.recon_dir.clone().unwrap_or_else(|| layout.data_dir.join("recon"));
    config.recon_dir = Some(recon_root.join(format!("node{}", i + 1)));

    let object_cfg = ObjectServerConfig {
        devices: devices.clone(),
        mount_check: false,
        reclaim_age: config.reclaim_age,
        swift_dir: cd.etc.clone(),
        ring_check_interval: config.ring_check_interval,
        ..Default::default()
    };
    let container_cfg = container_server::ContainerConfig {
        devices: devices.clone(),
        mount_check: false,
        reclaim_age: config.reclaim_age,
        ..Default::default()
    };
    let account_cfg = account_server::AccountConfig { devices, mount_check: false, ..Default::default() };
    let object = ObjectServer::new(object_cfg, secrets).context("starting the object server")?;
    let objects = object.devices();
    let container_app = container_server::App::new(container_cfg, secrets);
    let account_app = account_server::App::new(account_cfg, secrets);
    let storage = Storage {
        objects,
        containers: container_app.store.clone(),
        accounts: account_app.store.clone(),
        account_updater: container_app.updater.clone(),
    };
    let set = DaemonSet::new(Node::in_process(config, secrets, cd.rings.clone(), storage));

    let mut tasks = vec![
        tokio::spawn({
            let cancel = cancel.clone();
            async move {
                if let Err(e) = object.serve(l.object, cancel).await {
                    tracing::error!(node = i + 1, error = %e, "object server stopped");
                }
            }
        }),
        tokio::spawn({
            let cancel = cancel.clone();
            async move {
                if let Err(e) = account_server::serve_app(l.account, account_app, cancel).await {
                    tracing::error!(node = i + 1, error = %e, "account server stopped");
                }
            }
        }),
    ];
    if cd.periodic {
        tasks.extend(set.spawn_all(&cancel.child_token()));
    }
    let container = Some(serve_container(container_app.clone(), l.container, i, &cancel));
    let node = NodeHandle { set, container_app, container, node_cancel: cancel.clone() };
    Ok(Running { cancel, tasks, node: Some(node) })
}

/// The reports of one pass of every object, container and account replicator.
#[derive(Debug, Default)]
pub struct ReplicationPass {
    pub objects: Vec<ObjectReport>,
    /// How long the object replicators took, all nodes at once.
    pub object_secs: f64,
    pub containers: Vec<DbReport>,
    pub accounts: Vec<DbReport>,
}

impl ReplicationPass {
    /// Failures counted by any replicator.
    pub fn failures(&self) -> usize {
        self.objects.iter().map(|r| r.failed.failures).sum::<usize>()
            + self.containers.iter().chain(&self.accounts).map(|r| r.failed.failures).sum::<usize>()
    }
}

impl Cluster {
    fn running_sets(&self) -> Vec<Arc<DaemonSet>> {
        self.nodes.iter().filter_map(|n| n.running.as_ref()?.node.as_ref()).map(|n| n.set.clone()).collect()
    }

    /// Runs `pass` for every running node at once (as the nodes' daemons would) and
    /// collects the reports.
    async fn on_every_node<R, F, Fut>(&self, pass: F) -> Result<Vec<R>>
    where
        F: Fn(Arc<DaemonSet>, CancellationToken) -> Fut,
        Fut: Future<Output = replicator::Result<R>>,
    {
        let cancel = CancellationToken::new();
        let passes = self.running_sets().into_iter().map(|set| pass(set, cancel.clone()));
        futures::future::join_all(passes).await.into_iter().map(|r| r.map_err(|e| anyhow!(e))).collect()
    }

    /// One pass of the object, container and account replicators on every running node.
    pub async fn run_replicators_once(&self) -> Result<ReplicationPass> {
        let recon = |set: &DaemonSet| set.node.config.recon_dir.clone();
        let started = std::time::Instant::now();
        let objects =
            self.on_every_node(|set, c| async move { run_pass(&set.object, recon(&set).as_deref(), &c).await }).await?;
        let object_secs = started.elapsed().as_secs_f64();
        let containers = self
            .on_every_node(|set, c| async move { run_pass(&set.container, recon(&set).as_deref(), &c).await })
            .await?;
        let accounts = self
            .on_every_node(|set, c| async move { run_pass(&set.account, recon(&set).as_deref(), &c).await })
            .await?;
        Ok(ReplicationPass { objects, object_secs, containers, accounts })
    }

    /// One auditor pass on every running node.
    pub async fn run_auditors_once(&self) -> Result<Vec<AuditReport>> {
        self.on_every_node(
            |set, c| async move { run_pass(&set.auditor, set.node.config.recon_dir.as_deref(), &c).await },
        )
        .await
    }

    /// One updater pass on every running node.
    pub async fn run_updaters_once(&self) -> Result<Vec<UpdaterReport>> {
        self.on_every_node(
            |set, c| async move { run_pass(&set.updater, set.node.config.recon_dir.as_deref(), &c).await },
        )
        .await
    }

    /// One expirer pass on every running node.
    pub async fn run_expirers_once(&self) -> Result<Vec<ExpirerReport>> {
        self.on_every_node(
            |set, c| async move { run_pass(&set.expirer, set.node.config.recon_dir.as_deref(), &c).await },
        )
        .await
    }

    /// The rings as the daemons see them now.
    pub fn object_ring(&self) -> Arc<Ring> {
        self.daemons.rings.object.current()
    }
    pub fn container_ring(&self) -> Arc<Ring> {
        self.daemons.rings.container.current()
    }
    pub fn account_ring(&self) -> Arc<Ring> {
        self.daemons.rings.account.current()
    }

    /// The directory of device `sdb<N>` (node N's device).
    pub fn device_path(&self, device: &str) -> Option<PathBuf> {
        let n: usize = device.strip_prefix("sdb")?.parse().ok().filter(|n| *n >= 1)?;
        Some(self.layout.node_devices(n - 1).join(device))
    }

    /// Stops node i's container server alone (its object and account servers keep serving).
    pub async fn stop_container_server(&mut self, i: usize) {
        let Some(node) = self.nodes[i].running.as_mut().and_then(|r| r.node.as_mut()) else { return };
        if let Some(c) = node.container.take() {
            c.cancel.cancel();
            let _ = c.task.await;
        }
    }

    /// Starts node i's container server again on its port.
    pub async fn start_container_server(&mut self, i: usize) -> Result<()> {
        let port = self.nodes[i].ports.container;
        let host = self.host.clone();
        let Some(node) = self.nodes[i].running.as_mut().and_then(|r| r.node.as_mut()) else {
            return Err(anyhow!("node {} is not running", i + 1));
        };
        if node.container.is_none() {
            let listener =
                TcpListener::bind((host.as_str(), port)).await.with_context(|| format!("binding {host}:{port}"))?;
            node.container = Some(serve_container(node.container_app.clone(), listener, i, &node.node_cancel));
        }
        Ok(())
    }

    /// Adds a storage node with one device (`sdb<N>`) to all three rings, rebalances them
    /// (as if `min_part_hours` had passed: one replica of a partition moves at most), has
    /// the proxy and the daemons load the new rings, and starts the node. Returns its index.
    pub async fn add_node(&mut self) -> Result<usize> {
        let i = self.nodes.len();
        self.layout.create(i + 1)?;
        let l = bind_all(&self.host, &[NodePorts { object: 0, container: 0, account: 0 }]).await?.remove(0);
        let ports = l.ports()?;
        let etc = self.layout.etc();
        for (kind, port) in [("object", ports.object), ("container", ports.container), ("account", ports.account)] {
            let builder_path = etc.join(format!("{kind}.builder"));
            let mut b = RingBuilder::load(&builder_path).with_context(|| format!("loading {kind}.builder"))?;
            b.add_dev(swiftlet_ring::Device::new(
                b.next_device_id(),
                (1, i as u32 + 1),
                (&self.host, port),
                Layout::device_name(i),
                1.0,
            ))?;
            b.pretend_min_part_hours_passed();
            b.rebalance(None).with_context(|| format!("rebalancing the {kind} ring"))?;
            b.save(&builder_path)?;
            b.get_ring().save(&etc.join(format!("{kind}.ring")))?;
        }
        self.daemons.rings.reload()?;
        let p = &self.daemons.proxy_rings;
        for r in [&p.object, &p.container, &p.account] {
            r.reload_if_changed()?;
        }
        let running = start_node(&self.layout, i, &self.secrets, l, &self.daemons)?;
        self.nodes.push(NodeSlot { ports, running: Some(running) });
        Ok(i)
    }
}
