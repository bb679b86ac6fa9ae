//! The proxy application: shared state, the request entry point, and `serve`.

use crate::auth::TempAuth;
use crate::config::ProxyConfig;
use crate::controllers::account::AccountInfoCache;
use crate::controllers::container_info::ContainerInfoCache;
use crate::error::{ProxyError, Result};
use crate::info;
use crate::middleware::{gatekeeper, Middleware, Next};
use crate::nodes::ErrorLimiter;
use crate::router::Route;
use common::http::{new_trans_id, Body, BodyError, HttpClient, HttpError, ServerOptions};
use common::HashPathSecret;
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_ring::SharedRing;
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
    pub fn open(dir: &Path) -> std::result::Result<Rings, swiftlet_ring::RingError> {
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
    pub accounts: AccountInfoCache,
    /// The middlewares every Swift API request passes, in order (`middleware::pipeline`).
    pub pipeline: Vec<Box<dyn Middleware>>,
}

/// What a request carries through the pipeline (in its extensions) and into sub-requests.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub trans_id: String,
    pub identity: Option<crate::auth::Identity>,
    /// Set by TempURL for a valid signature: the request and its sub-requests are
    /// authorized by that scope instead of the identity and ACLs.
    pub temp_url: Option<crate::auth::TempUrlScope>,
    /// Which middleware made this sub-request (`None` for the client's own request).
    pub source: Option<&'static str>,
    /// The client's `Referer`, for referrer ACLs (sub-requests keep it, as in Swift).
    pub referer: Option<String>,
}

impl Ctx {
    pub fn new(trans_id: &str, identity: Option<crate::auth::Identity>) -> Ctx {
        Ctx { trans_id: trans_id.to_string(), identity, temp_url: None, source: None, referer: None }
    }

    /// The same client, for a sub-request made by `source`.
    pub fn sub(&self, source: &'static str) -> Ctx {
        Ctx { source: Some(source), ..self.clone() }
    }
}

impl Proxy {
    pub fn new(config: ProxyConfig, rings: Rings, secret: HashPathSecret) -> Proxy {
        let auth = TempAuth::new(&config.tempauth, format!("{}\0{}", secret.prefix, secret.suffix).as_bytes());
        Proxy {
            pipeline: crate::middleware::pipeline(&config),
            client: HttpClient::new(config.conn_timeout()),
            limiter: ErrorLimiter::new(
                config.error_suppression_limit,
                Duration::from_secs_f64(config.error_suppression_interval),
            ),
            containers: ContainerInfoCache::new(Duration::from_secs_f64(config.container_info_ttl)),
            accounts: AccountInfoCache::new(Duration::from_secs_f64(config.account_info_ttl)),
            auth,
            rings,
            secret,
            config,
        }
    }

    /// Serves one client request; never fails: errors become responses here.
    pub async fn handle(self: Arc<Self>, mut req: Request<Incoming>) -> Response<Body> {
        let trans_id = new_trans_id();
        let span = tracing::info_span!("proxy", trans_id = %trans_id, method = %req.method(), path = %req.uri().path());
        gatekeeper::inbound(req.headers_mut());
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let keep_alive = req.headers().get(http::header::CONNECTION).cloned();
        let (resp, from_error) = match self.dispatch(&trans_id, req).instrument(span.clone()).await {
            Ok(r) => (r, false),
            Err(e) => (span.in_scope(|| e.to_response()), true),
        };
        let mut resp = crate::response::finish(resp, &method, &path, from_error);
        // Echo an explicit keep-alive, as Swift's server does.
        if let Some(v) = keep_alive.filter(|v| v.as_bytes().eq_ignore_ascii_case(b"keep-alive")) {
            resp.headers_mut().insert(http::header::CONNECTION, v);
        }
        gatekeeper::outbound(resp.headers_mut());
        if let Ok(v) = HeaderValue::from_str(&trans_id) {
            resp.headers_mut().insert("x-trans-id", v.clone());
            resp.headers_mut().insert("x-openstack-request-id", v);
        }
        resp
    }

    async fn dispatch(self: &Arc<Self>, trans_id: &str, req: Request<Incoming>) -> Result<Response<Body>> {
        if crate::s3::is_s3_request(&req) {
            return Ok(crate::s3::handle(self, trans_id, req).await);
        }
        // Swift's server refuses any header line longer than max_header_size.
        let limit = common::constraints::MAX_HEADER_SIZE;
        if let Some((name, _)) = req.headers().iter().find(|(n, v)| n.as_str().len() + v.len() > limit) {
            return Err(ProxyError::BadRequest(format!("Header line too long: {name} (limit {limit} bytes)")));
        }
        let route = Route::parse(req.uri().path())?;
        match route {
            Route::Healthcheck => Ok(common::http::text(http::StatusCode::OK, "OK")),
            Route::Info => Ok(info::response(self)),
            Route::Auth => crate::auth::tempauth_handler::handle(self, &req),
            Route::Account { .. } | Route::Container { .. } | Route::Object { .. } => {
                let identity = self.authenticate(&req)?;
                let mut req = req.map(|b| b.map_err(|e| Box::new(e) as BodyError).boxed_unsync());
                let mut ctx = Ctx::new(trans_id, identity);
                ctx.referer =
                    req.headers().get(http::header::REFERER).and_then(|v| v.to_str().ok()).map(str::to_string);
                req.extensions_mut().insert(ctx);
                self.swift(req).await
            }
        }
    }

    /// Runs a Swift API request (with its [`Ctx`] in the extensions) through the whole
    /// middleware pipeline and the controllers. Internal callers (the S3 API) use it too.
    pub fn swift(self: &Arc<Self>, req: Request<Body>) -> crate::middleware::Reply<'static> {
        Next::start(self.clone()).run(req)
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
