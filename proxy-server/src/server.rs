//! The proxy application: shared state, the request entry point, and `serve`.

use crate::auth::TempAuth;
use crate::config::ProxyConfig;
use crate::controllers::{self, container_info::ContainerInfoCache};
use crate::error::{ProxyError, Result};
use crate::info;
use crate::nodes::ErrorLimiter;
use crate::router::Route;
use common::http::{new_trans_id, Body, HttpClient, HttpError, ServerOptions};
use common::HashPathSecret;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use ring::SharedRing;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The three rings, each reloaded when its file changes.
#[derive(Clone)]
pub struct Rings {
    pub account: SharedRing,
    pub container: SharedRing,
    pub object: SharedRing,
}

impl Rings {
    /// Opens `account.ring`, `container.ring` and `object.ring` in `dir`.
    pub fn open(dir: &Path) -> std::result::Result<Rings, ring::RingError> {
        let interval = Duration::from_secs(15);
        Ok(Rings {
            account: SharedRing::open(&dir.join("account.ring"), interval)?,
            container: SharedRing::open(&dir.join("container.ring"), interval)?,
            object: SharedRing::open(&dir.join("object.ring"), interval)?,
        })
    }
}

/// Everything a request needs, shared by all requests.
pub struct Proxy {
    pub config: ProxyConfig,
    pub rings: Rings,
    pub secret: HashPathSecret,
    pub client: HttpClient,
    pub auth: TempAuth,
    pub limiter: ErrorLimiter,
    pub containers: ContainerInfoCache,
}

/// One request's identity and transaction id.
pub struct Ctx {
    pub trans_id: String,
    pub identity: Option<crate::auth::Identity>,
}

impl Proxy {
    pub fn new(config: ProxyConfig, rings: Rings, secret: HashPathSecret) -> Proxy {
        let auth = TempAuth::new(&config.tempauth, format!("{}\0{}", secret.prefix, secret.suffix).as_bytes());
        Proxy {
            client: HttpClient::new(config.conn_timeout()),
            limiter: ErrorLimiter::new(
                config.error_suppression_limit,
                Duration::from_secs_f64(config.error_suppression_interval),
            ),
            containers: ContainerInfoCache::new(Duration::from_secs_f64(config.container_info_ttl)),
            auth,
            rings,
            secret,
            config,
        }
    }

    /// Serves one client request; never fails: errors become responses here.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let trans_id = new_trans_id();
        let span = tracing::info_span!("proxy", trans_id = %trans_id, method = %req.method(), path = %req.uri().path());
        let mut resp = match self.dispatch(&trans_id, req).instrument(span.clone()).await {
            Ok(r) => r,
            Err(e) => span.in_scope(|| e.to_response()),
        };
        if let Ok(v) = HeaderValue::from_str(&trans_id) {
            resp.headers_mut().insert("x-trans-id", v.clone());
            resp.headers_mut().insert("x-openstack-request-id", v);
        }
        resp
    }

    async fn dispatch(&self, trans_id: &str, req: Request<Incoming>) -> Result<Response<Body>> {
        let route = Route::parse(req.uri().path())?;
        match route {
            Route::Healthcheck => Ok(common::http::text(http::StatusCode::OK, "OK")),
            Route::Info => Ok(info::response(self)),
            Route::Auth => crate::auth::tempauth_handler::handle(self, &req),
            Route::Account { .. } | Route::Container { .. } | Route::Object { .. } => {
                let identity = self.authenticate(&req)?;
                let ctx = Ctx { trans_id: trans_id.to_string(), identity };
                controllers::dispatch(self, &ctx, route, req).await
            }
        }
    }

    /// The identity behind a request's token; a token that does not validate is a 401.
    fn authenticate(&self, req: &Request<Incoming>) -> Result<Option<crate::auth::Identity>> {
        let token = req.headers().get("x-auth-token").or_else(|| req.headers().get("x-storage-token"));
        match token {
            None => Ok(None),
            Some(t) => {
                let t = t.to_str().map_err(|_| ProxyError::Unauthorized)?;
                use crate::auth::keystone::{authenticate, Verdict};
                match authenticate(&self.secret, self.auth.reseller_prefix(), t, req.method(), req.uri().path()) {
                    Verdict::NotKeystone => {}
                    Verdict::Valid(id) => return Ok(Some(id)),
                    Verdict::Invalid => return Err(ProxyError::Unauthorized),
                    Verdict::ReadOnly => return Err(ProxyError::Forbidden),
                }
                self.auth.validate(t).map(Some).ok_or(ProxyError::Unauthorized)
            }
        }
    }
}

/// Serves the proxy on a bound listener until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, proxy: Arc<Proxy>, shutdown: CancellationToken) -> std::io::Result<()> {
    let handler = move |req: Request<Incoming>| {
        let proxy = proxy.clone();
        async move { proxy.handle(req).await }
    };
    common::http::serve(listener, handler, ServerOptions::default(), shutdown).await
}
