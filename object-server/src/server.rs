//! The object server: the store's [`Devices`] registry plus the HTTP handlers, served through
//! the scaffold (`common::server`, routing in `crate::router`) on a bound listener until a
//! cancellation token fires. In-process daemons take the registry from
//! [`ObjectServer::devices`] before serving, so they share each device's open RocksDB.

use crate::config::ObjectServerConfig;
use crate::container_ring::ContainerRing;
use crate::error::Result;
use crate::handlers::AppState;
use common::http::{HttpClient, ServerOptions};
use common::secrets::Secrets;
use common::server::{EndpointStats, Observer};
use std::sync::Arc;
use swiftlet_object_store::{Devices, UpdateSender};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct ObjectServer {
    state: Arc<AppState>,
}

impl ObjectServer {
    /// The server over `config`'s devices; `secrets` name directories on disk, check every
    /// request and sign every request it sends (its container updates). Fails when
    /// `<swift_dir>/container.ring` cannot be loaded: update targets are checked against it.
    pub fn new(config: ObjectServerConfig, secrets: &Secrets) -> Result<Self> {
        let container_ring = Arc::new(ContainerRing::open(&config.swift_dir, config.ring_check_interval())?);
        let config = Arc::new(config);
        let devices = Devices::new(config.devices_config(), secrets.hash_path.clone());
        let client = HttpClient::new(config.conn_timeout()).with_signer(secrets.backend.signer.clone());
        let updates = UpdateSender::new(client, config.node_timeout());
        let allowed_headers = config.allowed_headers();
        let verifier = secrets.backend.verifier.clone();
        let stats = Arc::default();
        let state = AppState { devices, config, allowed_headers, updates, container_ring, verifier, stats };
        Ok(ObjectServer { state: Arc::new(state) })
    }

    /// The device registry (shared with daemons running in this process).
    pub fn devices(&self) -> Arc<Devices> {
        self.state.devices.clone()
    }

    pub fn config(&self) -> &ObjectServerConfig {
        &self.state.config
    }

    /// Requests answered so far, per endpoint (`object.put`, ...).
    pub fn stats(&self) -> Arc<EndpointStats> {
        self.state.stats.clone()
    }

    /// Opens the devices present at startup (cleaning their temp files), then serves
    /// `listener` until `shutdown` is cancelled.
    pub async fn serve(self, listener: TcpListener, shutdown: CancellationToken) -> Result<()> {
        let devices = self.state.devices.clone();
        let opened = tokio::task::spawn_blocking(move || devices.open_all_blocking()).await;
        for (name, result) in opened.unwrap_or_default() {
            if let Err(e) = result {
                tracing::warn!(device = %name, error = %e, "device not usable");
            }
        }
        let opts = ServerOptions { max_connections: self.state.config.max_connections, ..ServerOptions::default() };
        let observer: Arc<dyn Observer> = self.state.stats.clone();
        common::server::serve(listener, self.state, observer, opts, shutdown).await?;
        Ok(())
    }
}

/// Serves an object server on `listener` until `shutdown` (what the binary runs).
pub async fn serve(
    listener: TcpListener,
    config: ObjectServerConfig,
    secrets: Secrets,
    shutdown: CancellationToken,
) -> Result<()> {
    ObjectServer::new(config, &secrets)?.serve(listener, shutdown).await
}
