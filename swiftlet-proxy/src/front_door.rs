//! The front door, the top floor: serves a listener, handing each client request to the
//! pipeline (which holds the frontends it was given, S3's among them).

use crate::context::Ctx;
use crate::middleware;
use crate::pipeline::frontend::Frontend;
use crate::pipeline::step::Pipeline;
use crate::request::ProxyRequest;
use crate::route::Route;
use crate::state::cluster::Cluster;
use common::http::{new_trans_id, Body, BodyError, HttpError, ServerOptions};
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_token::{KeystoneTokens, PollerConfig, RevocationPoller, Revocations};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub struct FrontDoor {
    pipeline: Arc<Pipeline>,
    /// Connection limits and timeouts, from the proxy config.
    options: ServerOptions,
    /// Keeps the cluster's Keystone revocations current, with `[keystone] identity_url`.
    revocation_poller: Option<Arc<RevocationPoller>>,
}

impl FrontDoor {
    /// The Swift API over `cluster`, with `frontends` (S3) claiming the requests they serve.
    pub fn new(cluster: Cluster, frontends: Vec<Box<dyn Frontend>>) -> FrontDoor {
        let options = cluster.config.server_options();
        let keystone = &cluster.config.keystone;
        let revocation_poller = keystone.identity_url.as_ref().map(|url| {
            let cfg = PollerConfig {
                interval: Duration::from_secs_f64(keystone.revocation_interval.max(0.1)),
                ..PollerConfig::new(url.clone())
            };
            let tokens = KeystoneTokens::new(&middleware::token_key(&cluster.config));
            Arc::new(RevocationPoller::feeding(cfg, &tokens, cluster.revocations.clone()))
        });
        FrontDoor { pipeline: Arc::new(middleware::pipeline(cluster, frontends)), options, revocation_poller }
    }

    /// Serves HTTPS with `tls` (`None`: plain HTTP).
    pub fn with_tls(mut self, tls: Option<Arc<common::http::Tls>>) -> FrontDoor {
        self.options.tls = tls;
        self
    }

    /// The Keystone revocations every token is checked against; whoever knows the identity
    /// service (saio, which starts it after the proxy) may keep them current with a poller.
    pub fn revocations(&self) -> Revocations {
        self.pipeline.cluster.revocations.clone()
    }

    /// Serves one client request: the one per-request wrapper (a transaction id, its span,
    /// errors as responses); everything else is a step of the pipeline.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let trans_id = new_trans_id();
        let span = tracing::info_span!("proxy", trans_id = %trans_id, method = %req.method(), path = %req.uri().path());
        let (head, body) = req.into_parts();
        let body = body.map_err(|e| Box::new(e) as BodyError).boxed_unsync();
        let ctx = Ctx { trans_id, ..Ctx::default() };
        let req = ProxyRequest { head, body, route: Route::Unparsed, ctx };
        match self.pipeline.start().run(req).instrument(span.clone()).await {
            Ok(resp) => resp,
            Err(e) => span.in_scope(|| e.to_response()),
        }
    }

    /// Serves the proxy on a bound listener until `shutdown` is cancelled, with the
    /// config's connection caps and timeouts.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
        if let Some(poller) = &self.revocation_poller {
            tokio::spawn(poller.clone().run(shutdown.child_token()));
        }
        let options = self.options.clone();
        let handler = move |req: Request<Incoming>| {
            let door = self.clone();
            async move { door.handle(req).await }
        };
        common::http::serve(listener, handler, options, shutdown).await
    }
}
