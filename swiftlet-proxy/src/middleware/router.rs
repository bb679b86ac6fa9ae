//! The router step: a client request of the Swift API gets its route here, parsed once
//! from the path (a path that names nothing is answered with Swift's error for it), after
//! Swift's limit on header lines.

use crate::error::ProxyError;
use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use crate::route::Route;

pub(crate) struct Router;

impl Step for Router {
    fn name(&self) -> &'static str {
        "router"
    }

    fn call<'a>(&'a self, mut req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            // Swift's server refuses any header line longer than max_header_size.
            let limit = common::constraints::MAX_HEADER_SIZE;
            if let Some((name, _)) = req.headers().iter().find(|(n, v)| n.as_str().len() + v.len() > limit) {
                return Err(ProxyError::BadRequest(format!("Header line too long: {name} (limit {limit} bytes)")));
            }
            req.route = Route::parse(req.path())?;
            next.run(req).await
        })
    }
}
