//! The object server: the store's [`Devices`] registry plus the HTTP handlers, served on a bound
//! listener until a cancellation token fires. In-process daemons take the registry from
//! [`ObjectServer::devices`] before serving, so they share each device's open RocksDB.

use crate::config::ObjectServerConfig;
use crate::error::Result;
use crate::handlers::{self, AppState};
use common::http::{HttpClient, ServerOptions};
use common::HashPathSecret;
use std::sync::Arc;
use swiftlet_object_store::{Devices, UpdateSender};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct ObjectServer {
    state: Arc<AppState>,
}

impl ObjectServer {
    pub fn new(config: ObjectServerConfig, secret: HashPathSecret) -> Self {
        let config = Arc::new(config);
        let devices = Devices::new(config.devices_config(), secret);
        let updates = UpdateSender::new(HttpClient::new(config.conn_timeout()), config.node_timeout());
        let allowed_headers = config.allowed_headers();
        ObjectServer { state: Arc::new(AppState { devices, config, allowed_headers, updates }) }
    }

    /// The device registry (shared with daemons running in this process).
    pub fn devices(&self) -> Arc<Devices> {
        self.state.devices.clone()
    }

    pub fn config(&self) -> &ObjectServerConfig {
        &self.state.config
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
        let state = self.state.clone();
        let handler = move |req| handlers::handle(state.clone(), req);
        let opts = ServerOptions { max_connections: self.state.config.max_connections, ..ServerOptions::default() };
        common::http::serve(listener, handler, opts, shutdown).await?;
        Ok(())
    }
}

/// Serves an object server on `listener` until `shutdown`; `secret` names directories on disk.
pub async fn serve(
    listener: TcpListener,
    config: ObjectServerConfig,
    secret: HashPathSecret,
    shutdown: CancellationToken,
) -> Result<()> {
    ObjectServer::new(config, secret).serve(listener, shutdown).await
}
