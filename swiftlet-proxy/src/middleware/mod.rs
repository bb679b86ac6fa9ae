//! Every step of the pipeline, one file or folder per feature, and [`pipeline`]: the one
//! ordered list of them.

pub(crate) mod authenticate;
pub(crate) mod bulk;
pub(crate) mod copy;
pub(crate) mod cors;
pub(crate) mod dlo;
pub(crate) mod endpoints;
pub(crate) mod finish;
pub(crate) mod gatekeeper;
pub(crate) mod large_object;
pub(crate) mod listing_formats;
pub(crate) mod quota;
pub(crate) mod ratelimit;
pub(crate) mod router;
pub(crate) mod slo;
pub(crate) mod tempurl;
pub(crate) mod versioning;

use crate::auth::tempauth::TempAuth;
use crate::config::ProxyConfig;
use crate::pipeline::frontend::{Frontend, Frontends};
use crate::pipeline::step::{Pipeline, Step};
use crate::state::cluster::Cluster;
use std::sync::Arc;
use swiftlet_token::{KeystoneTokens, TokenKey};

/// The pipeline, every step in the order it runs.
///
/// First what every client request passes: the finish step (Swift's response
/// conventions, the transaction id; errors become answers there) and the gatekeeper
/// (no system headers in or out) wrap everything; then a request another frontend claims
/// (S3) leaves for it; the router parses a Swift request's path once; the endpoints
/// answer `/healthcheck`, `/info` and `/auth/v1.0`; authentication finds who is asking.
///
/// Then the Swift API's features, where requests a frontend makes for its user enter too,
/// in Swift's order (`proxy-server.conf-sample`): CORS wraps them so even errors carry its
/// headers; bulk and TempURL come before rate limiting and quotas; COPY sits above the
/// quotas (so copies are counted) and above SLO/DLO (so a copy of a large object copies
/// the content); versioning is closest to the controllers because it rewrites
/// single-object writes. The controllers come after the last step.
pub(crate) fn pipeline(cluster: Cluster, frontends: Vec<Box<dyn Frontend>>) -> Pipeline {
    let token_key = token_key(&cluster.config);
    let auth = Arc::new(TempAuth::new(&cluster.config.tempauth, &token_key));
    let keystone = KeystoneTokens::new(&token_key);
    let mut list: Vec<Box<dyn Step>> = vec![
        Box::new(finish::Finish),
        Box::new(gatekeeper::Gatekeeper),
        Box::new(Frontends::new(frontends)),
        Box::new(router::Router),
        Box::new(endpoints::step::Endpoints { auth: auth.clone() }),
        Box::new(authenticate::Authenticate { auth, keystone, revoked: cluster.revocations.clone() }),
    ];
    let swift_api = list.len();
    list.extend(features(&cluster.config));
    Pipeline::new(cluster, list, swift_api)
}

/// The cluster's token key. `proxy-server` refuses to start without one; a proxy built
/// without one (a library user's mistake) signs with a key of its own process, so its
/// tokens are valid nowhere else and nothing outside can forge them.
pub(crate) fn token_key(config: &ProxyConfig) -> TokenKey {
    config.token.load_key().unwrap_or_else(|e| {
        tracing::error!(error = %e, "no token key: tokens are valid on this proxy process only");
        TokenKey::generate()
    })
}

/// The Swift API's features the config turns on, in their order.
fn features(config: &ProxyConfig) -> Vec<Box<dyn Step>> {
    let f = &config.features;
    let mut list: Vec<Box<dyn Step>> = Vec::new();
    list.push(Box::new(cors::Cors { allow_origin: f.cors_allow_origin.clone(), strict: f.strict_cors_mode }));
    list.push(Box::new(listing_formats::ListingFormats));
    if f.bulk_delete {
        list.push(Box::new(bulk::delete::BulkDelete::new(&f.bulk)));
    }
    if f.tempurl {
        list.push(Box::new(tempurl::TempUrl::new(&f.tempurl_methods)));
    }
    list.push(Box::new(ratelimit::limit::RateLimit::new(&f.ratelimit)));
    list.push(Box::new(copy::Copy));
    if f.container_quotas {
        list.push(Box::new(quota::container::ContainerQuotas));
    }
    if f.account_quotas {
        list.push(Box::new(quota::account::AccountQuotas));
    }
    if f.slo {
        list.push(Box::new(slo::step::Slo::new(&f.slo_limits)));
    }
    if f.dlo {
        list.push(Box::new(dlo::Dlo));
    }
    if f.versioned_writes {
        list.push(Box::new(versioning::writes::VersionedWrites));
    }
    list
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_pipeline_has_every_feature() {
        let features = super::features(&crate::config::ProxyConfig::default());
        let names: Vec<&str> = features.iter().map(|m| m.name()).collect();
        assert!(names.contains(&"slo") && names.contains(&"copy"), "{names:?}");
    }
}
