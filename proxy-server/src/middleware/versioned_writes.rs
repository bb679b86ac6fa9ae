//! Object versioning (Swift's `versioned_writes`: `X-Versions-Location` and
//! `X-History-Location`). Placeholder pass-through until versioning lands.

use super::{Middleware, Next, Reply};
use common::http::Body;
use http::Request;

pub struct VersionedWrites;

impl Middleware for VersionedWrites {
    fn name(&self) -> &'static str {
        "versioned_writes"
    }

    fn call<'a>(&'a self, req: Request<Body>, next: Next) -> Reply<'a> {
        next.run(req)
    }
}
