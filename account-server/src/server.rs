//! `serve`: the account server's entry point, and the router that turns a request into one
//! handler call.

use crate::config::AccountConfig;
use crate::error::{AccountError, Result};
use crate::handlers::{account, container, listing};
use common::http::{Body, HttpError, ServerOptions, TRANS_ID_HEADER};
use common::path::StoragePath;
use common::HashPathSecret;
use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Instant;
use swiftlet_broker::{DbKind, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The server's shared state.
pub struct App {
    pub cfg: AccountConfig,
    pub store: Arc<Store>,
}

impl App {
    pub fn new(cfg: AccountConfig, secret: HashPathSecret) -> Arc<App> {
        let store = Store::new(DbKind::Account, cfg.store_config(), secret);
        Arc::new(App { cfg, store })
    }

    /// Handles one request; errors become responses here (statuses: `AccountError`).
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let started = Instant::now();
        let trans_id = req
            .headers()
            .get(TRANS_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(common::http::new_trans_id);
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let span = tracing::info_span!("account", trans_id = %trans_id);
        let mut resp = self.route(req).instrument(span).await.unwrap_or_else(|e| e.to_response());
        if let Ok(v) = HeaderValue::from_str(&trans_id) {
            resp.headers_mut().insert(TRANS_ID_HEADER, v);
        }
        tracing::debug!(%method, %path, status = resp.status().as_u16(), elapsed = ?started.elapsed(), trans_id = %trans_id, "request");
        resp
    }

    async fn route(&self, req: Request<Incoming>) -> Result<Response<Body>> {
        if req.method().as_str() == "REPLICATE" {
            return Ok(swiftlet_broker::rpc::serve(&self.store, req).await?);
        }
        let sp = StoragePath::parse(req.uri().path(), 3)?;
        if sp.object.is_some() {
            return Err(AccountError::BadRequest("account servers take no object paths".into()));
        }
        let headers = req.headers();
        match (req.method(), sp.container.is_some()) {
            (&Method::PUT, true) => container::put(self, &sp, headers).await,
            (&Method::PUT, false) => account::put(self, &sp, headers).await,
            (&Method::POST, false) => account::post(self, &sp, headers).await,
            (&Method::DELETE, false) => account::delete(self, &sp, headers).await,
            (&Method::GET, false) => listing::head_or_get(self, &sp, req.uri(), headers, true).await,
            (&Method::HEAD, false) => listing::head_or_get(self, &sp, req.uri(), headers, false).await,
            (&Method::POST | &Method::DELETE | &Method::GET | &Method::HEAD, true) => {
                Err(AccountError::BadRequest("container paths take only PUT on an account server".into()))
            }
            _ => Err(AccountError::MethodNotAllowed),
        }
    }
}

/// Serves the account server on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    config: AccountConfig,
    secret: HashPathSecret,
    shutdown: CancellationToken,
) -> Result<(), AccountError> {
    let opts = ServerOptions { max_connections: config.max_connections, ..ServerOptions::default() };
    let app = App::new(config, secret);
    let handler = move |req| app.clone().handle(req);
    common::http::serve(listener, handler, opts, shutdown).await?;
    Ok(())
}
