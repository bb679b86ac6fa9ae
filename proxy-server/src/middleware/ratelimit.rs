//! Rate limiting per account (Swift's `ratelimit`). Placeholder pass-through until the
//! limiter lands.

use super::{Middleware, Next, Reply};
use common::http::Body;
use http::Request;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {}

pub struct RateLimit;

impl RateLimit {
    pub fn new(_config: &RateLimitConfig) -> Self {
        RateLimit
    }
}

impl Middleware for RateLimit {
    fn name(&self) -> &'static str {
        "ratelimit"
    }

    fn call<'a>(&'a self, req: Request<Body>, next: Next) -> Reply<'a> {
        next.run(req)
    }
}
