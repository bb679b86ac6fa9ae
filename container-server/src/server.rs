//! The container server's shared state and `serve`: the scaffold's accept loop over
//! [`App`] (routing in `router`), and the account-update daemon beside it.

use crate::account_update::{AccountUpdateDaemon, AccountUpdater};
use crate::config::ContainerConfig;
use crate::error::ContainerError;
use common::backend_auth::Verifier;
use common::http::{HttpClient, ServerOptions};
use common::secrets::Secrets;
use common::server::{EndpointStats, Observer};
use std::sync::Arc;
use std::time::Duration;
use swiftlet_broker::{DbKind, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The server's shared state.
pub struct App {
    pub cfg: ContainerConfig,
    pub store: Arc<Store>,
    pub updater: Arc<AccountUpdater>,
    /// Checks that requests come from the cluster.
    pub verifier: Arc<Verifier>,
    /// Requests answered, per endpoint.
    pub stats: Arc<EndpointStats>,
}

impl App {
    pub fn new(cfg: ContainerConfig, secrets: &Secrets) -> Arc<App> {
        let store = Store::new(DbKind::Container, cfg.store_config(), secrets.hash_path.clone());
        let client = HttpClient::new(cfg.conn_timeout()).with_signer(secrets.backend.signer.clone());
        let updater = AccountUpdater::new(store.clone(), client, cfg.node_timeout());
        let verifier = secrets.backend.verifier.clone();
        Arc::new(App { cfg, store, updater, verifier, stats: Arc::default() })
    }
}

/// Serves the container server on `listener` until `shutdown` is cancelled. Pending
/// account updates are sent every `account_update_interval` seconds meanwhile.
pub async fn serve(
    listener: TcpListener,
    config: ContainerConfig,
    secrets: Secrets,
    shutdown: CancellationToken,
) -> Result<(), ContainerError> {
    serve_app(listener, App::new(config, &secrets), shutdown).await
}

/// `serve` for a caller that keeps the `App` (e.g. to run `app.updater.run_pending_updates()`).
pub async fn serve_app(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: CancellationToken,
) -> Result<(), ContainerError> {
    let opts = ServerOptions { max_connections: app.cfg.max_connections, ..ServerOptions::default() };
    if app.cfg.account_update_interval > 0.0 {
        let daemon = AccountUpdateDaemon(app.updater.clone());
        let every = Duration::from_secs_f64(app.cfg.account_update_interval);
        let stop = shutdown.clone();
        tokio::spawn(async move { common::daemon::run_forever(&daemon, every, None, stop).await });
    }
    let observer: Arc<dyn Observer> = app.stats.clone();
    common::server::serve(listener, app, observer, opts, shutdown).await?;
    Ok(())
}
