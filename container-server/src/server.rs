//! The container server's shared state and `serve`: the scaffold's accept loop over
//! [`App`] (routing in `router`), and the account-update daemon beside it.

use crate::account_update::{AccountUpdateDaemon, AccountUpdater};
use crate::config::ContainerConfig;
use crate::error::ContainerError;
use common::http::ServerOptions;
use common::server::{EndpointStats, Observer};
use common::HashPathSecret;
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
    /// Requests answered, per endpoint.
    pub stats: Arc<EndpointStats>,
}

impl App {
    pub fn new(cfg: ContainerConfig, secret: HashPathSecret) -> Arc<App> {
        let store = Store::new(DbKind::Container, cfg.store_config(), secret);
        let updater = AccountUpdater::new(store.clone(), cfg.conn_timeout(), cfg.node_timeout());
        Arc::new(App { cfg, store, updater, stats: Arc::default() })
    }
}

/// Serves the container server on `listener` until `shutdown` is cancelled. Pending
/// account updates are sent every `account_update_interval` seconds meanwhile.
pub async fn serve(
    listener: TcpListener,
    config: ContainerConfig,
    secret: HashPathSecret,
    shutdown: CancellationToken,
) -> Result<(), ContainerError> {
    serve_app(listener, App::new(config, secret), shutdown).await
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
