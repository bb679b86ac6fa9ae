//! Rate limiting (Swift's `ratelimit`): container PUT/DELETE per account
//! (`account_ratelimit`), object writes per container scaled by the container's object
//! count (`container_ratelimits`), and container listings the same way
//! (`container_listing_ratelimits`). A request over its rate sleeps until its turn; one
//! that would sleep past `max_sleep_time_seconds` gets Swift's 498. Accounts in
//! `account_blacklist` get 497 (after a second's pause, as Swift); those in
//! `account_whitelist` are never limited. Everything is off by default.
//!
//! The counters live in this proxy process (`ratelimit_store.rs`), not in memcached as in
//! Swift: each proxy limits independently. Swift's per-account
//! `X-Account-Sysmeta-Global-Write-Ratelimit` is not read: Swiftlet's account controller
//! stores no account sysmeta, so nothing could set it.

use super::schedules::{MaxSleep, Schedules};
use crate::config::RateLimitConfig;
use crate::context::Ctx;
use crate::lookups::container::container_info;
use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use crate::route::Route;
use common::http::Body;
use http::{Method, Response, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// Swift's pause before answering a blacklisted account.
const BLACKLIST_SLEEP: Duration = Duration::from_secs(1);

/// A rate that depends on a container's object count: sorted points, interpolated.
#[derive(Debug, Clone)]
struct Curve(Vec<(u64, f64)>);

impl Curve {
    fn new(points: &[(u64, f64)]) -> Curve {
        let mut p = points.to_vec();
        p.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        Curve(p)
    }

    /// Requests per second allowed in a container of `size` objects (Swift's
    /// `get_maxrate`): none for an empty container or one below the first point.
    fn rate(&self, size: u64) -> Option<f64> {
        if size == 0 {
            return None;
        }
        let i = self.0.iter().rposition(|(at, _)| size >= *at)?;
        let (at, rate) = self.0[i];
        let r = match self.0.get(i + 1) {
            Some(&(next_at, next_rate)) => {
                rate + (size - at) as f64 * (next_rate - rate) / (next_at.saturating_sub(at)).max(1) as f64
            }
            None => rate,
        };
        (r > 0.0).then_some(r)
    }
}

pub(crate) struct RateLimit {
    config: RateLimitConfig,
    containers: Curve,
    listings: Curve,
    schedules: Schedules,
}

impl RateLimit {
    pub(crate) fn new(config: &RateLimitConfig) -> Self {
        RateLimit {
            containers: Curve::new(&config.container_ratelimits),
            listings: Curve::new(&config.container_listing_ratelimits),
            schedules: Schedules::new(config.clock_accuracy, config.rate_buffer_seconds, config.max_sleep_time_seconds),
            config: config.clone(),
        }
    }

    /// The schedules a request books, in order (Swift's `get_ratelimitable_key_tuples`).
    async fn keys(&self, m: &Method, ctx: &Ctx, route: &Route, next: &Next) -> Vec<(String, f64)> {
        let mut keys = Vec::new();
        match route {
            Route::Container { account, .. }
                if self.config.account_ratelimit > 0.0 && matches!(*m, Method::PUT | Method::DELETE) =>
            {
                keys.push((format!("ratelimit/{account}"), self.config.account_ratelimit));
            }
            Route::Container { account, container } if m == Method::GET && !self.listings.0.is_empty() => {
                if let Some(rate) = self.listings.rate(self.object_count(ctx, next, account, container).await) {
                    keys.push((format!("ratelimit_listing/{account}/{container}"), rate));
                }
            }
            Route::Object { account, container, .. }
                if !self.containers.0.is_empty() && matches!(m.as_str(), "PUT" | "DELETE" | "POST" | "COPY") =>
            {
                if let Some(rate) = self.containers.rate(self.object_count(ctx, next, account, container).await) {
                    keys.push((format!("ratelimit/{account}/{container}"), rate));
                }
            }
            _ => {}
        }
        keys
    }

    async fn object_count(&self, ctx: &Ctx, next: &Next, account: &str, container: &str) -> u64 {
        match container_info(next.cluster(), ctx, account, container).await {
            Ok(Some(info)) => info.object_count,
            _ => 0,
        }
    }

    /// Waits for every schedule the request books; `Err` is the 498 to answer instead.
    async fn wait_turn(&self, m: &Method, ctx: &Ctx, route: &Route, next: &Next) -> Result<(), Response<Body>> {
        for (key, rate) in self.keys(m, ctx, route, next).await {
            match self.schedules.book(&key, rate) {
                Ok(wait) => {
                    let log_after = self.config.log_sleep_time_seconds;
                    if log_after > 0.0 && wait.as_secs_f64() > log_after {
                        tracing::warn!(?wait, %key, "rate limit sleep");
                    }
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                }
                Err(MaxSleep(wait)) => {
                    tracing::error!(method = %m, ?route, ?wait, "returning 498: rate limit max sleep exceeded");
                    return Err(reply(498, "Rate Limited", "Slow down"));
                }
            }
        }
        Ok(())
    }
}

/// A response with one of Swift's own statuses, reason phrase included.
fn reply(code: u16, reason: &'static str, body: &str) -> Response<Body> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let mut resp = common::http::text(status, body);
    resp.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
    resp
}

fn advertised(points: &[(u64, f64)]) -> Value {
    let mut sorted = Curve::new(points).0;
    sorted.dedup();
    Value::Array(sorted.into_iter().map(|(size, rate)| json!([size, rate])).collect())
}

impl Step for RateLimit {
    fn name(&self) -> &'static str {
        "ratelimit"
    }

    fn info(&self) -> Option<Value> {
        Some(json!({
            "account_ratelimit": self.config.account_ratelimit,
            "max_sleep_time_seconds": self.config.max_sleep_time_seconds,
            "container_ratelimits": advertised(&self.config.container_ratelimits),
            "container_listing_ratelimits": advertised(&self.config.container_listing_ratelimits),
        }))
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let Some(account) = req.route.account() else { return next.run(req).await };
            if self.config.account_whitelist.iter().any(|a| a == account) {
                return next.run(req).await;
            }
            if self.config.account_blacklist.iter().any(|a| a == account) {
                tracing::error!(%account, "returning 497: account blacklisted");
                tokio::time::sleep(BLACKLIST_SLEEP).await;
                return Ok(reply(497, "Blacklisted", "Your account has been blacklisted"));
            }
            if let Err(resp) = self.wait_turn(req.method(), &req.ctx, &req.route, &next).await {
                return Ok(resp);
            }
            next.run(req).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_rates_follow_swifts_curve() {
        // container_ratelimit_100 = 100, _200 = 50, _500 = 20 (Swift's sample config).
        let c = Curve::new(&[(500, 20.0), (100, 100.0), (200, 50.0)]);
        assert_eq!(c.rate(0), None);
        assert_eq!(c.rate(99), None);
        assert_eq!(c.rate(100), Some(100.0));
        assert_eq!(c.rate(150), Some(75.0));
        assert_eq!(c.rate(200), Some(50.0));
        assert_eq!(c.rate(350), Some(35.0));
        assert_eq!(c.rate(10_000), Some(20.0));
        assert_eq!(Curve::new(&[]).rate(5), None);
    }

    #[test]
    fn info_lists_the_settings() {
        let cfg = RateLimitConfig {
            account_ratelimit: 2.5,
            container_ratelimits: vec![(200, 50.0), (100, 100.0)],
            ..Default::default()
        };
        let info = RateLimit::new(&cfg).info().unwrap();
        assert_eq!(info["account_ratelimit"], 2.5);
        assert_eq!(info["max_sleep_time_seconds"], 60.0);
        assert_eq!(info["container_ratelimits"], json!([[100, 100.0], [200, 50.0]]));
        assert_eq!(info["container_listing_ratelimits"], json!([]));
    }

    #[test]
    fn config_reads_from_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("proxy.toml");
        let text = "[features.ratelimit]\naccount_ratelimit = 5\naccount_blacklist = [\"AUTH_bad\"]\n\
                    container_ratelimits = [[100, 50.0]]\n";
        std::fs::write(&path, text).unwrap();
        let cfg: crate::config::ProxyConfig = common::config::load(Some(&path)).unwrap();
        let rl = cfg.features.ratelimit;
        assert_eq!(rl.account_ratelimit, 5.0);
        assert_eq!(rl.account_blacklist, vec!["AUTH_bad".to_string()]);
        assert_eq!(rl.container_ratelimits, vec![(100, 50.0)]);
        assert_eq!(rl.max_sleep_time_seconds, 60.0);
    }

    #[test]
    fn swift_statuses_keep_their_reasons() {
        let r = reply(498, "Rate Limited", "Slow down");
        assert_eq!(r.status().as_u16(), 498);
        assert_eq!(r.extensions().get::<hyper::ext::ReasonPhrase>().unwrap().as_bytes(), b"Rate Limited");
    }
}
