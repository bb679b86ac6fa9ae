//! The shape of every server: a [`Service`] parses a request once into its typed
//! [`Endpoint`], then handles it. [`handle`] wraps each request the same way for all of
//! them: transaction id, span, the handler, error to response, the request log line and
//! the per-endpoint observation.

use super::observe::{Observation, Observer};
use crate::backend_auth::{AuthError, Verifier};
use crate::http::{text, Body, HttpError, TRANS_ID_HEADER};
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// One operation of a server, parsed from method and path.
pub trait Endpoint: Send + 'static {
    /// A fixed name for logs and counters, e.g. `object.put`.
    fn name(&self) -> &'static str;
}

/// Who may call a server.
pub enum Access<'a> {
    /// Anyone who can reach it; the service authenticates each request itself (the proxy's
    /// front door, for clients).
    Public,
    /// Only the cluster's own servers: every request but `GET /healthcheck` must carry a
    /// valid backend signature, checked before the request is parsed.
    Cluster(&'a Verifier),
}

/// A server's API.
pub trait Service: Send + Sync + 'static {
    type Endpoint: Endpoint;
    type Error: HttpError + Send + 'static;

    /// The server's name in spans, logs and observations (`object-server`).
    fn name(&self) -> &'static str;

    /// Who may call it.
    fn access(&self) -> Access<'_>;

    /// The request's transaction id. Storage servers keep the proxy's (`X-Trans-Id`);
    /// a front door makes a new one for every client request.
    fn trans_id(&self, req: &Request<Incoming>) -> String {
        crate::headers::get(req.headers(), TRANS_ID_HEADER)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .map(str::to_string)
            .unwrap_or_else(crate::http::new_trans_id)
    }

    /// Method and path (and whatever else routing needs) become one endpoint; a request
    /// that names none is an error answered as such.
    fn parse(&self, req: &Request<Incoming>) -> Result<Self::Endpoint, Self::Error>;

    /// Serves one parsed request.
    fn call(
        self: Arc<Self>,
        endpoint: Self::Endpoint,
        req: Request<Incoming>,
        trans_id: &str,
    ) -> impl Future<Output = Result<Response<Body>, Self::Error>> + Send;
}

/// The endpoint name of a request that did not parse.
pub const UNPARSED: &str = "unparsed";
/// The endpoint name of a request refused for its missing or bad backend signature.
pub const UNAUTHENTICATED: &str = "unauthenticated";

/// Whether the request may go on, by the service's [`Access`].
fn authenticate<S: Service>(service: &S, req: &Request<Incoming>) -> Result<(), AuthError> {
    let Access::Cluster(verifier) = service.access() else { return Ok(()) };
    let health = req.uri().path() == "/healthcheck" && matches!(*req.method(), http::Method::GET | http::Method::HEAD);
    if health {
        return Ok(());
    }
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    verifier.verify(req.method(), pq, req.headers())
}

/// Serves one request of `service`; never fails: errors become responses here.
pub async fn handle<S: Service>(service: Arc<S>, observer: &dyn Observer, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let trans_id = service.trans_id(&req);
    let method = req.method().clone();
    let span = tracing::info_span!("request", server = service.name(), trans_id = %trans_id, %method, path = %req.uri().path());
    let (endpoint, result) = async {
        if let Err(e) = authenticate(service.as_ref(), &req) {
            tracing::warn!(error = %e, "backend request refused");
            return (UNAUTHENTICATED, Ok(text(http::StatusCode::UNAUTHORIZED, format!("{e}\n"))));
        }
        match service.parse(&req) {
            Ok(endpoint) => {
                let name = endpoint.name();
                (name, service.clone().call(endpoint, req, &trans_id).await)
            }
            Err(e) => (UNPARSED, Err(e)),
        }
    }
    .instrument(span.clone())
    .await;
    let mut resp = result.unwrap_or_else(|e| span.in_scope(|| e.to_response()));
    if let Ok(v) = HeaderValue::from_str(&trans_id) {
        resp.headers_mut().insert(TRANS_ID_HEADER, v);
    }
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::debug!(endpoint, status = resp.status().as_u16(), elapsed_us = elapsed.as_micros() as u64, "request")
    });
    observer.observe(&Observation {
        server: service.name(),
        endpoint,
        method: &method,
        status: resp.status(),
        elapsed,
    });
    resp
}
