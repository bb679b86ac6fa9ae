//! The typed request that travels down the pipeline: the HTTP head and body, the route
//! (parsed once, by the router step, or when a sub-request is made) and the context.
//! Steps read these fields instead of parsing the path or digging in extensions again.

use crate::context::Ctx;
use crate::route::Route;
use common::http::Body;
use http::request::Parts;
use http::{HeaderMap, Method};

pub struct ProxyRequest {
    pub head: Parts,
    pub body: Body,
    pub route: Route,
    pub ctx: Ctx,
}

impl ProxyRequest {
    pub fn method(&self) -> &Method {
        &self.head.method
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.head.headers
    }

    /// The raw (still quoted) path.
    pub fn path(&self) -> &str {
        self.head.uri.path()
    }

    pub fn query(&self) -> Option<&str> {
        self.head.uri.query()
    }
}
