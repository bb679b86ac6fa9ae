//! The endpoints step: answers `/healthcheck`, `/info` and `/auth/v1.0` itself; every
//! other route goes on.

use super::{info, login};
use crate::auth::tempauth::TempAuth;
use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use crate::route::Route;
use std::sync::Arc;

pub(crate) struct Endpoints {
    pub auth: Arc<TempAuth>,
}

impl Step for Endpoints {
    fn name(&self) -> &'static str {
        "endpoints"
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            match req.route {
                Route::Healthcheck => Ok(common::http::text(http::StatusCode::OK, "OK")),
                Route::Info => Ok(info::response(next.pipeline())),
                Route::Auth => login::handle(&self.auth, req.headers()),
                _ => next.run(req).await,
            }
        })
    }
}
