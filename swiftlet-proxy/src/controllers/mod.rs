//! One controller per resource (account, container, object: GET/HEAD with failover,
//! quorum writes); `dispatch`, the end of the pipeline, picks it from the route.

pub(crate) mod account;
pub(crate) mod container;
pub(crate) mod headers;
pub(crate) mod object;
pub(crate) mod object_get;
pub(crate) mod object_headers;
pub(crate) mod object_put;
pub(crate) mod object_ref;

use crate::error::{ProxyError, Result};
use crate::request::ProxyRequest;
use crate::route::Route;
use crate::state::cluster::Cluster;
use common::http::Body;
use futures::future::BoxFuture;
use http::Response;

/// The end of the pipeline: the controller of the resource the route names.
pub(crate) fn dispatch(p: &Cluster, req: ProxyRequest) -> BoxFuture<'_, Result<Response<Body>>> {
    Box::pin(route(p, req))
}

async fn route(p: &Cluster, req: ProxyRequest) -> Result<Response<Body>> {
    let ProxyRequest { head, body, route, ctx } = req;
    let ctx = &ctx;
    match route {
        Route::Account { account } => account::handle(p, ctx, &account, &head).await,
        Route::Container { account, container } => container::handle(p, ctx, &account, &container, &head).await,
        Route::Object { account, container, object } => {
            object::handle(p, ctx, &account, &container, &object, &head, body).await
        }
        // A sub-request whose path names nothing: the error of its path.
        Route::Unparsed => Err(Route::parse(head.uri.path()).err().unwrap_or(ProxyError::NotFound)),
        Route::Healthcheck | Route::Info | Route::Auth => Err(ProxyError::NotFound),
    }
}
