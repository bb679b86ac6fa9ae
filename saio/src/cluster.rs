//! A running cluster: N storage nodes (object, container and account server each, plus
//! their healing daemons: see `daemons.rs`) and a proxy, all tasks of this process. Nodes
//! can be stopped and started to test healing.

use crate::daemons::ClusterDaemons;
use crate::layout::Layout;
use crate::rings::{self, NodePorts};
use anyhow::{Context, Result};
use common::secrets::Secrets;
use common::HashPathSecret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use swiftlet_proxy::config::{saio_test_users, TempAuthConfig};
use swiftlet_proxy::{ProxyConfig, Rings};
use swiftlet_token::TokenConfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub data_dir: PathBuf,
    pub nodes: usize,
    pub replicas: f64,
    pub part_power: u8,
    pub host: String,
    /// 0 picks a free port.
    pub proxy_port: u16,
    /// Node i listens on base+10i (object), +1 (container), +2 (account); 0 picks free ports.
    pub node_base_port: u16,
    /// The proxy's config; by default with Swift's SAIO users (see [`saio_proxy_config`]).
    pub proxy: ProxyConfig,
    /// The daemons' settings (each node's devices, ports and recon dir are filled in).
    pub daemons: replicator::DaemonConfig,
    /// Run the daemons on their intervals; tests leave it off and call `run_*_once`.
    pub run_daemons: bool,
    /// The identity, image and compute services (`cloud.rs`).
    pub cloud: crate::cloud::CloudOptions,
    /// Serve the proxy over HTTPS with a self-signed certificate kept in
    /// `<data>/tls` (made on first use; unless `proxy.tls` names files of its own).
    pub tls: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            data_dir: PathBuf::from("./saio-data"),
            nodes: 4,
            replicas: 3.0,
            part_power: 10,
            host: "127.0.0.1".into(),
            proxy_port: 8080,
            node_base_port: 6210,
            proxy: saio_proxy_config(),
            daemons: replicator::DaemonConfig::default(),
            run_daemons: true,
            cloud: crate::cloud::CloudOptions::default(),
            tls: false,
        }
    }
}

/// The proxy of an all-in-one cluster: Swift's SAIO users (`test:tester`/`testing`, ...),
/// whose keys are public, so its functional tests and the README's examples run as they are.
/// A real proxy has none of them (`proxy-server` refuses them).
pub fn saio_proxy_config() -> ProxyConfig {
    ProxyConfig {
        tempauth: TempAuthConfig { users: saio_test_users(), ..TempAuthConfig::default() },
        ..ProxyConfig::default()
    }
}

/// saio's own certificate, `<data>/tls/{cert,key}.pem`: made once, for `host`, localhost
/// and 127.0.0.1, and kept so clients trust it across restarts.
fn self_signed(layout: &Layout, host: &str) -> Result<common::http::TlsFiles> {
    let dir = layout.data_dir.join("tls");
    let files = common::http::TlsFiles { cert_file: Some(dir.join("cert.pem")), key_file: Some(dir.join("key.pem")) };
    if dir.join("cert.pem").exists() && dir.join("key.pem").exists() {
        return Ok(files);
    }
    let mut names = vec!["localhost", "127.0.0.1"];
    if !names.contains(&host) {
        names.push(host);
    }
    common::http::write_self_signed(&dir, &names).context("making saio's self-signed certificate")
}

impl ClusterOptions {
    /// A cluster for tests: free ports, the given data dir, a small ring.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        ClusterOptions {
            data_dir: data_dir.into(),
            proxy_port: 0,
            node_base_port: 0,
            part_power: 6,
            run_daemons: false,
            cloud: crate::cloud::CloudOptions::ephemeral(),
            ..Self::default()
        }
    }
}

pub(crate) struct Running {
    pub(crate) cancel: CancellationToken,
    pub(crate) tasks: Vec<JoinHandle<()>>,
    /// A storage node's daemons and the servers that can stop on their own.
    pub(crate) node: Option<crate::daemons::NodeHandle>,
}

impl Running {
    async fn stop(self) {
        self.cancel.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(node) = self.node {
            node.stop().await;
        }
    }
}

pub(crate) struct NodeSlot {
    pub(crate) ports: NodePorts,
    pub(crate) running: Option<Running>,
}

pub struct Cluster {
    pub layout: Layout,
    pub secret: HashPathSecret,
    /// The hash-path secret and the backend key every server of the cluster shares.
    pub secrets: Secrets,
    pub proxy_addr: SocketAddr,
    pub(crate) host: String,
    pub(crate) nodes: Vec<NodeSlot>,
    proxy: Option<Running>,
    pub(crate) daemons: ClusterDaemons,
    pub(crate) cloud: Option<compute_shim::Cloud>,
    /// The certificate clients must trust, when the proxy serves HTTPS.
    pub tls_cert: Option<PathBuf>,
}

impl Cluster {
    /// Starts every server; builds the rings first if the data dir has none.
    pub async fn start(opts: ClusterOptions) -> Result<Cluster> {
        if opts.tls && opts.cloud.enabled {
            anyhow::bail!("TLS needs the cloud services off (--no-cloud): they do not reach the proxy over HTTPS yet");
        }
        let layout = Layout::new(&opts.data_dir);
        layout.create(opts.nodes).with_context(|| format!("creating {}", opts.data_dir.display()))?;
        let secrets = layout.secrets().context("reading the cluster secrets")?;
        tracing::warn!(
            file = %layout.etc().join("secret.toml").display(),
            "saio runs on secrets it made itself; a real cluster's servers refuse to start without their own"
        );
        let secret = secrets.hash_path.clone();
        let token_key = layout.token_key().context("reading the cluster's token key")?;
        let etc = layout.etc();
        let (ports, listeners) = if rings::exist(&etc) {
            let ports = rings::node_ports(&etc).context("reading node ports from the rings")?;
            let listeners = bind_all(&opts.host, &ports).await?;
            (ports, listeners)
        } else {
            let wanted: Vec<NodePorts> = (0..opts.nodes)
                .map(|i| {
                    let base = if opts.node_base_port == 0 { 0 } else { opts.node_base_port + 10 * i as u16 };
                    NodePorts {
                        object: base,
                        container: base + u16::from(base != 0),
                        account: base + 2 * u16::from(base != 0),
                    }
                })
                .collect();
            let listeners = bind_all(&opts.host, &wanted).await?;
            let ports: Vec<NodePorts> = listeners.iter().map(NodeListeners::ports).collect::<std::io::Result<_>>()?;
            rings::build(&etc, &opts.host, &ports, opts.replicas, opts.part_power).context("building the rings")?;
            (ports, listeners)
        };
        let proxy_rings = Rings::open(&etc).context("opening the rings")?;
        let daemons = ClusterDaemons::new(&layout, opts.daemons.clone(), opts.run_daemons, proxy_rings.clone())?;
        let mut nodes = Vec::new();
        for (i, (ports, listeners)) in ports.into_iter().zip(listeners).enumerate() {
            let running = crate::daemons::start_node(&layout, i, &secrets, listeners, &daemons)?;
            nodes.push(NodeSlot { ports, running: Some(running) });
        }
        let proxy_listener = TcpListener::bind((opts.host.as_str(), opts.proxy_port))
            .await
            .with_context(|| format!("binding the proxy on {}:{}", opts.host, opts.proxy_port))?;
        let proxy_addr = proxy_listener.local_addr()?;
        let mut proxy_cfg = opts.proxy.clone();
        proxy_cfg.swift_dir = etc.clone();
        proxy_cfg.bind = proxy_addr.to_string();
        if proxy_cfg.token == TokenConfig::default() {
            proxy_cfg.token = TokenConfig::inline(&token_key);
        }
        if proxy_cfg.tempauth.known_credential().is_err() {
            tracing::warn!(
                "saio runs with known test credentials (Swift's SAIO users: admin:admin/admin, test:tester/testing, \
                 ...): anyone who reaches its proxy can log in; never serve real data with it"
            );
        }
        if opts.tls && proxy_cfg.tls == common::http::TlsFiles::default() {
            proxy_cfg.tls = self_signed(&layout, &opts.host)?;
        }
        let tls = common::http::Tls::from_files(&proxy_cfg.tls).context("loading the proxy's TLS certificate")?;
        let tls_cert = tls.as_ref().and(proxy_cfg.tls.cert_file.clone());
        let cancel = CancellationToken::new();
        if let Some(tls) = &tls {
            common::http::reload_on_sighup(tls.clone(), cancel.clone()).context("watching SIGHUP")?;
        }
        let door = Arc::new(swiftlet_s3::front_door(proxy_cfg, proxy_rings, &secrets).with_tls(tls));
        let revocations = door.revocations();
        let task = tokio::spawn({
            let cancel = cancel.clone();
            async move {
                if let Err(e) = door.serve(proxy_listener, cancel).await {
                    tracing::error!(error = %e, "proxy server stopped");
                }
            }
        });
        let cloud =
            crate::cloud::start(&opts.cloud, &opts.host, &layout, &token_key, format!("http://{proxy_addr}")).await?;
        let mut proxy_tasks = vec![task];
        if let Some(cloud) = &cloud {
            // The identity service starts after the proxy, so saio starts the proxy's poller of its revocations.
            let cfg = swiftlet_token::PollerConfig {
                interval: std::time::Duration::from_secs(1),
                ..swiftlet_token::PollerConfig::new(cloud.endpoints.identity.clone())
            };
            let tokens = swiftlet_token::KeystoneTokens::new(&token_key);
            let poller = Arc::new(swiftlet_token::RevocationPoller::feeding(cfg, &tokens, revocations));
            proxy_tasks.push(tokio::spawn(poller.run(cancel.child_token())));
        }
        Ok(Cluster {
            cloud,
            layout,
            secret,
            secrets,
            proxy_addr,
            host: opts.host,
            nodes,
            proxy: Some(Running { cancel, tasks: proxy_tasks, node: None }),
            daemons,
            tls_cert,
        })
    }

    pub fn proxy_url(&self) -> String {
        let scheme = if self.tls_cert.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.proxy_addr)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn node_ports(&self, i: usize) -> NodePorts {
        self.nodes[i].ports
    }

    /// Node i's device directory (`<data>/node<i+1>/sdb<i+1>`).
    pub fn device_dir(&self, i: usize) -> PathBuf {
        self.layout.node_devices(i).join(Layout::device_name(i))
    }

    /// Stops node i's servers (their ports refuse connections until `start_node`).
    pub async fn stop_node(&mut self, i: usize) {
        if let Some(r) = self.nodes[i].running.take() {
            r.stop().await;
        }
    }

    pub async fn start_node(&mut self, i: usize) -> Result<()> {
        if self.nodes[i].running.is_some() {
            return Ok(());
        }
        let listeners = bind_all(&self.host, &[self.nodes[i].ports]).await?.remove(0);
        self.nodes[i].running =
            Some(crate::daemons::start_node(&self.layout, i, &self.secrets, listeners, &self.daemons)?);
        Ok(())
    }

    /// Stops everything and waits for the servers to drain.
    pub async fn shutdown(mut self) {
        if let Some(c) = self.cloud.take() {
            c.shutdown().await;
        }
        if let Some(p) = self.proxy.take() {
            p.stop().await;
        }
        for i in 0..self.nodes.len() {
            self.stop_node(i).await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A dropped cluster stops serving even if `shutdown` was not awaited.
        for r in self.nodes.iter().filter_map(|n| n.running.as_ref()).chain(self.proxy.as_ref()) {
            r.cancel.cancel();
        }
    }
}

pub(crate) struct NodeListeners {
    pub(crate) object: TcpListener,
    pub(crate) container: TcpListener,
    pub(crate) account: TcpListener,
}

impl NodeListeners {
    pub(crate) fn ports(&self) -> std::io::Result<NodePorts> {
        Ok(NodePorts {
            object: self.object.local_addr()?.port(),
            container: self.container.local_addr()?.port(),
            account: self.account.local_addr()?.port(),
        })
    }
}

pub(crate) async fn bind_all(host: &str, ports: &[NodePorts]) -> Result<Vec<NodeListeners>> {
    let mut out = Vec::new();
    for p in ports {
        let bind = |port: u16| async move {
            TcpListener::bind((host, port)).await.with_context(|| format!("binding {host}:{port}"))
        };
        out.push(NodeListeners {
            object: bind(p.object).await?,
            container: bind(p.container).await?,
            account: bind(p.account).await?,
        });
    }
    Ok(out)
}
