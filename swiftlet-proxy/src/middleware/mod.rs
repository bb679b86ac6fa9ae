//! The middleware pipeline: one file per feature, run in the one order [`pipeline`] sets.
//!
//! A request passes each middleware in turn and then reaches the controllers. A middleware
//! may answer by itself, change the request, look at the response, or send sub-requests
//! down the rest of the pipeline (`Next` is `Copy`, so it can be run many times): SLO
//! fetches its segments that way, COPY pipes a GET into a PUT, versioning copies the old
//! object aside. Sub-requests carry the client's [`Ctx`], so they are authorized as the
//! client (or by its TempURL).

pub mod bulk;
pub mod copy;
pub mod cors;
pub mod dlo;
pub mod gatekeeper;
pub mod large_object;
pub mod listing_formats;
pub mod quota_account;
pub mod quotas;
pub mod ratelimit;
pub mod ratelimit_store;
pub mod report;
pub mod slo;
pub mod slo_get;
pub mod slo_manifest;
pub mod subrequest;
pub mod tempurl;
pub mod versioned_writes;
pub mod versioning_archive;

use crate::config::ProxyConfig;
use crate::error::Result;
use crate::server::Proxy;
use common::http::Body;
use futures::future::BoxFuture;
use http::{Request, Response};
use serde_json::{Map, Value};
use std::sync::Arc;

/// A middleware's answer, boxed so the pipeline can hold any feature behind one type.
pub type Reply<'a> = BoxFuture<'a, Result<Response<Body>>>;

pub trait Middleware: Send + Sync {
    /// The name `/info` lists the feature under (Swift's), and logs use.
    fn name(&self) -> &'static str;

    /// This feature's entry in `/info` (Swift's keys); `None` when it advertises nothing.
    fn info(&self) -> Option<Value> {
        Some(Value::Object(Map::new()))
    }

    fn call<'a>(&'a self, req: Request<Body>, next: Next) -> Reply<'a>;
}

/// The rest of the pipeline after the current middleware. It owns a handle on the proxy,
/// so response bodies that keep making sub-requests (segment streams) can outlive the call.
#[derive(Clone)]
pub struct Next {
    proxy: Arc<Proxy>,
    pos: usize,
}

impl Next {
    /// The whole pipeline of `proxy`.
    pub fn start(proxy: Arc<Proxy>) -> Self {
        Next { proxy, pos: 0 }
    }

    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }

    /// Runs the request through the remaining middlewares and then the controllers.
    pub fn run(&self, req: Request<Body>) -> Reply<'static> {
        let next = self.clone();
        Box::pin(async move {
            match next.proxy.pipeline.get(next.pos) {
                Some(m) => m.call(req, Next { proxy: next.proxy.clone(), pos: next.pos + 1 }).await,
                None => crate::controllers::dispatch(&next.proxy, req).await,
            }
        })
    }

    /// Like `run`, but an error becomes its response: sub-requests look at statuses.
    pub async fn call(&self, req: Request<Body>) -> Response<Body> {
        use common::http::HttpError;
        match self.run(req).await {
            Ok(r) => r,
            Err(e) => e.to_response(),
        }
    }
}

/// The pipeline, in Swift's order (`proxy-server.conf-sample`): CORS wraps everything so
/// even errors carry its headers; bulk and TempURL come before rate limiting and quotas;
/// COPY sits above the quotas (so copies are counted) and above SLO/DLO/symlinks (so a
/// copy of a large object or link copies the content); versioning is closest to the
/// controllers because it rewrites single-object writes.
pub fn pipeline(config: &ProxyConfig) -> Vec<Box<dyn Middleware>> {
    let f = &config.features;
    let cors = cors::Cors { allow_origin: f.cors_allow_origin.clone(), strict: f.strict_cors_mode };
    let mut list: Vec<Box<dyn Middleware>> = vec![Box::new(cors), Box::new(listing_formats::ListingFormats)];
    if f.bulk_delete {
        list.push(Box::new(bulk::BulkDelete::new(&f.bulk)));
    }
    if f.tempurl {
        list.push(Box::new(tempurl::TempUrl::new(&f.tempurl_methods)));
    }
    list.push(Box::new(ratelimit::RateLimit::new(&f.ratelimit)));
    list.push(Box::new(copy::Copy));
    if f.container_quotas {
        list.push(Box::new(quotas::ContainerQuotas));
    }
    if f.account_quotas {
        list.push(Box::new(quotas::AccountQuotas));
    }
    if f.slo {
        list.push(Box::new(slo::Slo::new(&f.slo_limits)));
    }
    if f.dlo {
        list.push(Box::new(dlo::Dlo));
    }
    if f.versioned_writes {
        list.push(Box::new(versioned_writes::VersionedWrites));
    }
    list
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_pipeline_has_every_feature() {
        let names: Vec<&str> = super::pipeline(&crate::ProxyConfig::default()).iter().map(|m| m.name()).collect();
        assert!(names.contains(&"slo") && names.contains(&"copy"), "{names:?}");
    }
}
