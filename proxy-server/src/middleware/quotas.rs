//! Container and account quotas (Swift's `container_quotas` and `account_quotas`).
//! Placeholder pass-through until the quota checks land.

use super::{Middleware, Next, Reply};
use common::http::Body;
use http::Request;

pub struct ContainerQuotas;

impl Middleware for ContainerQuotas {
    fn name(&self) -> &'static str {
        "container_quotas"
    }

    fn call<'a>(&'a self, req: Request<Body>, next: Next) -> Reply<'a> {
        next.run(req)
    }
}

pub struct AccountQuotas;

impl Middleware for AccountQuotas {
    fn name(&self) -> &'static str {
        "account_quotas"
    }

    fn call<'a>(&'a self, req: Request<Body>, next: Next) -> Reply<'a> {
        next.run(req)
    }
}
