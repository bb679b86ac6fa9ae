//! One controller per resource; `dispatch` picks it.

pub mod account;
pub mod base;
pub mod container;
pub mod container_info;
pub mod object;
pub mod object_get;
pub mod object_put;

use crate::error::Result;
use crate::router::Route;
use crate::server::Proxy;
use common::http::Body;
use http::{Request, Response};

/// The end of the pipeline: the controller of the resource the path names.
pub fn dispatch(p: &Proxy, req: Request<Body>) -> futures::future::BoxFuture<'_, Result<Response<Body>>> {
    Box::pin(route(p, req))
}

async fn route(p: &Proxy, req: Request<Body>) -> Result<Response<Body>> {
    let route = Route::parse(req.uri().path())?;
    let (parts, body) = req.into_parts();
    let ctx = parts.extensions.get::<crate::server::Ctx>().cloned().unwrap_or_default();
    let ctx = &ctx;
    match route {
        Route::Account { account } => account::handle(p, ctx, &account, &parts).await,
        Route::Container { account, container } => container::handle(p, ctx, &account, &container, &parts).await,
        Route::Object { account, container, object } => {
            object::handle(p, ctx, &account, &container, &object, &parts, body).await
        }
        Route::Healthcheck | Route::Info | Route::Auth => Err(crate::error::ProxyError::NotFound),
    }
}
