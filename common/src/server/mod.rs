//! The scaffold every server stands on.
//!
//! - [`Service`]: a server's API, a typed [`Endpoint`] parsed once, then one call.
//! - [`serve`]: the accept loop over a service; each request goes through [`handle`], the one
//!   request wrapper (transaction id, span, error to response, request log, observation).
//! - [`Observer`] / [`EndpointStats`]: per-endpoint counts, the hook metrics plug into.
//! - [`main`]: the whole `main` of a server binary ([`ServerArgs`], [`ServerConfig`]).

mod binary;
mod observe;
mod service;

pub use binary::{
    bind_pair, deserialize_bind, join_bind, listen, main, split_bind, ServerArgs, ServerConfig, StartError,
};
pub use observe::{EndpointCounts, EndpointStats, Observation, Observer};
pub use service::{handle, Access, Endpoint, Service, UNAUTHENTICATED, UNPARSED};

use crate::http::ServerOptions;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `service` on `listener` until `shutdown` is cancelled, telling `observer` of every
/// request.
pub async fn serve<S: Service>(
    listener: TcpListener,
    service: Arc<S>,
    observer: Arc<dyn Observer>,
    opts: ServerOptions,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let handler = move |req| {
        let (service, observer) = (service.clone(), observer.clone());
        async move { handle(service, observer.as_ref(), req).await }
    };
    crate::http::serve(listener, handler, opts, shutdown).await
}

#[cfg(test)]
mod tests;
