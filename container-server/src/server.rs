//! `serve`: the container server's entry point, and the router that turns a request into
//! one handler call.

use crate::account_update::AccountUpdater;
use crate::config::ContainerConfig;
use crate::error::{ContainerError, Result};
use crate::handlers::{container, listing, object, replicate};
use common::http::{Body, HttpError, ServerOptions, TRANS_ID_HEADER};
use common::path::StoragePath;
use common::HashPathSecret;
use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::{Duration, Instant};
use swiftlet_broker::{DbKind, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The server's shared state.
pub struct App {
    pub cfg: ContainerConfig,
    pub store: Arc<Store>,
    pub updater: Arc<AccountUpdater>,
}

impl App {
    pub fn new(cfg: ContainerConfig, secret: HashPathSecret) -> Arc<App> {
        let store = Store::new(DbKind::Container, cfg.store_config(), secret);
        let updater = AccountUpdater::new(store.clone(), cfg.conn_timeout(), cfg.node_timeout());
        Arc::new(App { cfg, store, updater })
    }

    /// Handles one request; errors become responses here (statuses: `ContainerError`).
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let started = Instant::now();
        let trans_id = req
            .headers()
            .get(TRANS_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(common::http::new_trans_id);
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let span = tracing::info_span!("container", trans_id = %trans_id);
        let mut resp = self.route(req, &trans_id).instrument(span).await.unwrap_or_else(|e| e.to_response());
        if let Ok(v) = HeaderValue::from_str(&trans_id) {
            resp.headers_mut().insert(TRANS_ID_HEADER, v);
        }
        tracing::debug!(%method, %path, status = resp.status().as_u16(), elapsed = ?started.elapsed(), trans_id = %trans_id, "request");
        resp
    }

    async fn route(&self, req: Request<Incoming>, trans_id: &str) -> Result<Response<Body>> {
        if req.method().as_str() == "REPLICATE" {
            return replicate::replicate(self, req).await;
        }
        let sp = StoragePath::parse(req.uri().path(), 4)?;
        let headers = req.headers();
        let is_object = sp.object.is_some();
        match (req.method(), is_object) {
            (&Method::PUT, true) => object::put(self, &sp, headers).await,
            (&Method::DELETE, true) => object::delete(self, &sp, headers).await,
            (&Method::PUT, false) => container::put(self, &sp, headers, trans_id).await,
            (&Method::DELETE, false) => container::delete(self, &sp, headers, trans_id).await,
            (&Method::POST, false) => container::post(self, &sp, headers).await,
            (&Method::GET, false) => listing::head_or_get(self, &sp, req.uri(), headers, true).await,
            (&Method::HEAD, false) => listing::head_or_get(self, &sp, req.uri(), headers, false).await,
            (&Method::GET | &Method::HEAD | &Method::POST, true) => {
                Err(ContainerError::BadRequest("object paths take only PUT and DELETE".into()))
            }
            _ => Err(ContainerError::MethodNotAllowed),
        }
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
        let (app, stop) = (app.clone(), shutdown.clone());
        let every = Duration::from_secs_f64(app.cfg.account_update_interval);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(every) => {
                        if let Err(e) = app.updater.run_pending_updates().await {
                            tracing::warn!(error = %e, "pending account updates failed");
                        }
                    }
                }
            }
        });
    }
    let handler = move |req| app.clone().handle(req);
    common::http::serve(listener, handler, opts, shutdown).await?;
    Ok(())
}
