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
use crate::server::{Ctx, Proxy};
use common::http::Body;
use http::{Request, Response};
use hyper::body::Incoming;

pub async fn dispatch(p: &Proxy, ctx: &Ctx, route: Route, req: Request<Incoming>) -> Result<Response<Body>> {
    match route {
        Route::Account { account } => account::handle(p, ctx, &account, req).await,
        Route::Container { account, container } => container::handle(p, ctx, &account, &container, req).await,
        Route::Object { account, container, object } => {
            object::handle(p, ctx, &account, &container, &object, req).await
        }
        Route::Healthcheck | Route::Info | Route::Auth => Err(crate::error::ProxyError::NotFound),
    }
}
