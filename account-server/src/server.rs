//! The account server's shared state and `serve`: the scaffold's accept loop over [`App`]
//! (routing in `router`).

use crate::config::AccountConfig;
use crate::error::AccountError;
use common::backend_auth::Verifier;
use common::http::ServerOptions;
use common::secrets::Secrets;
use common::server::{EndpointStats, Observer};
use std::sync::Arc;
use swiftlet_broker::{DbKind, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The server's shared state.
pub struct App {
    pub cfg: AccountConfig,
    pub store: Arc<Store>,
    /// Checks that requests come from the cluster.
    pub verifier: Arc<Verifier>,
    /// Requests answered, per endpoint.
    pub stats: Arc<EndpointStats>,
}

impl App {
    pub fn new(cfg: AccountConfig, secrets: &Secrets) -> Arc<App> {
        let store = Store::new(DbKind::Account, cfg.store_config(), secrets.hash_path.clone());
        Arc::new(App { cfg, store, verifier: secrets.backend.verifier.clone(), stats: Arc::default() })
    }
}

/// Serves the account server on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    config: AccountConfig,
    secrets: Secrets,
    shutdown: CancellationToken,
) -> Result<(), AccountError> {
    serve_app(listener, App::new(config, &secrets), shutdown).await
}

/// `serve` for a caller that keeps the `App` (e.g. to hand its store to daemons).
pub async fn serve_app(listener: TcpListener, app: Arc<App>, shutdown: CancellationToken) -> Result<(), AccountError> {
    let opts = ServerOptions { max_connections: app.cfg.max_connections, ..ServerOptions::default() };
    let observer: Arc<dyn Observer> = app.stats.clone();
    common::server::serve(listener, app, observer, opts, shutdown).await?;
    Ok(())
}
