//! The proxy's TOML config; every key has a default.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyConfig {
    pub bind: String,
    /// Where `account.ring`, `container.ring` and `object.ring` live.
    pub swift_dir: PathBuf,
    /// Seconds to wait for a storage node's TCP connect.
    pub conn_timeout: f64,
    /// Seconds to wait for a storage node's response headers or next body chunk.
    pub node_timeout: f64,
    /// Seconds a client may take between body chunks.
    pub client_timeout: f64,
    /// Create an account the first time one of its containers is created.
    pub account_autocreate: bool,
    /// Errors within `error_suppression_interval` before a node is tried last.
    pub error_suppression_limit: u32,
    pub error_suppression_interval: f64,
    /// Seconds container metadata (existence, ACLs) is cached.
    pub container_info_ttl: f64,
    /// Seconds account metadata (existence, quotas, TempURL keys) is cached; an account
    /// HEAD or GET through this proxy refreshes it, a POST through it forgets it.
    pub account_info_ttl: f64,
    /// Bodies up to this size are buffered so a failed primary can be retried on a handoff.
    pub retryable_body_limit: usize,
    pub tempauth: TempAuthConfig,
    /// Which middlewares run, and their settings.
    pub features: FeaturesConfig,
    /// The cluster's hash-path secret; must match the storage nodes'.
    pub hash_path: common::HashPathSecret,
    /// The backend key the proxy signs its requests to storage nodes with.
    pub backend: common::backend_auth::BackendConfig,
}

/// The middlewares of the pipeline; all on by default, as in Swift's SAIO.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FeaturesConfig {
    pub bulk_delete: bool,
    pub tempurl: bool,
    pub container_quotas: bool,
    pub account_quotas: bool,
    pub slo: bool,
    pub dlo: bool,
    pub versioned_writes: bool,
    pub symlink: bool,
    pub bulk: BulkConfig,
    pub slo_limits: SloConfig,
    /// Methods a TempURL may be signed for.
    pub tempurl_methods: Vec<String>,
    /// Origins every container allows (Swift's `cors_allow_origin`).
    pub cors_allow_origin: Vec<String>,
    /// CORS headers only for allowed origins (Swift's `strict_cors_mode`).
    pub strict_cors_mode: bool,
    pub ratelimit: RateLimitConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BulkConfig {
    pub max_deletes_per_request: usize,
    pub max_failed_deletes: usize,
    /// DELETE sub-requests in flight at once.
    pub delete_concurrency: usize,
}

impl Default for BulkConfig {
    fn default() -> Self {
        BulkConfig { max_deletes_per_request: 10_000, max_failed_deletes: 1000, delete_concurrency: 2 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SloConfig {
    pub max_manifest_segments: usize,
    /// Bytes of manifest JSON a client may PUT.
    pub max_manifest_size: usize,
    /// Segment HEADs (on PUT) and DELETEs in flight at once.
    pub concurrency: usize,
}

impl Default for SloConfig {
    fn default() -> Self {
        SloConfig { max_manifest_segments: 1000, max_manifest_size: 8 << 20, concurrency: 2 }
    }
}

impl Default for FeaturesConfig {
    fn default() -> Self {
        FeaturesConfig {
            bulk_delete: true,
            tempurl: true,
            container_quotas: true,
            account_quotas: true,
            slo: true,
            dlo: true,
            versioned_writes: true,
            symlink: true,
            bulk: BulkConfig::default(),
            slo_limits: SloConfig::default(),
            tempurl_methods: ["GET", "HEAD", "PUT", "POST", "DELETE"].iter().map(|m| m.to_string()).collect(),
            cors_allow_origin: Vec::new(),
            strict_cors_mode: true,
            ratelimit: Default::default(),
        }
    }
}

/// Rate limiting (Swift's `ratelimit`; the step is `middleware::ratelimit`); off by default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Container PUTs and DELETEs per second in one account; 0 = unlimited.
    pub account_ratelimit: f64,
    /// The longest a request waits for its turn; one that would wait longer gets 498.
    pub max_sleep_time_seconds: f64,
    /// Waits longer than this are logged; 0 = none are.
    pub log_sleep_time_seconds: f64,
    /// How long a key's schedule may lag behind the clock before it restarts: the burst a
    /// quiet account or container may make at once.
    pub rate_buffer_seconds: u64,
    /// Ticks per second of the schedules (Swift's `clock_accuracy`).
    pub clock_accuracy: u64,
    /// Storage accounts (`AUTH_test`) never limited.
    pub account_whitelist: Vec<String>,
    /// Storage accounts refused every request (497).
    pub account_blacklist: Vec<String>,
    /// `[container object count, rate]` points (Swift's `container_ratelimit_<size> =
    /// <rate>`): object PUT/POST/DELETE/COPY per second in one container; the rate is
    /// interpolated between points and constant past the last; none below the first.
    pub container_ratelimits: Vec<(u64, f64)>,
    /// The same for container GETs (Swift's `container_listing_ratelimit_<size>`).
    pub container_listing_ratelimits: Vec<(u64, f64)>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            account_ratelimit: 0.0,
            max_sleep_time_seconds: 60.0,
            log_sleep_time_seconds: 0.0,
            rate_buffer_seconds: 5,
            clock_accuracy: 1000,
            account_whitelist: Vec::new(),
            account_blacklist: Vec::new(),
            container_ratelimits: Vec::new(),
            container_listing_ratelimits: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TempAuthConfig {
    /// Seconds a token is valid.
    pub token_life: u64,
    /// Extra secret mixed into token signatures (the cluster hash secret is always mixed in).
    pub token_secret: String,
    /// Account prefix, as Swift's reseller prefix.
    pub reseller_prefix: String,
    pub users: Vec<UserConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserConfig {
    pub account: String,
    pub user: String,
    pub key: String,
    /// `.admin` (owns the account) and/or `.reseller_admin` (owns every account).
    #[serde(default)]
    pub groups: Vec<String>,
}

impl UserConfig {
    fn new(account: &str, user: &str, key: &str, groups: &[&str]) -> Self {
        UserConfig {
            account: account.into(),
            user: user.into(),
            key: key.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

impl Default for TempAuthConfig {
    /// The users of Swift's SAIO, so its functional tests run unchanged.
    fn default() -> Self {
        TempAuthConfig {
            token_life: 86_400,
            token_secret: String::new(),
            reseller_prefix: "AUTH_".into(),
            users: vec![
                UserConfig::new("admin", "admin", "admin", &[".admin", ".reseller_admin"]),
                UserConfig::new("test", "tester", "testing", &[".admin"]),
                UserConfig::new("test", "tester2", "testing2", &[".admin"]),
                UserConfig::new("test", "tester3", "testing3", &[]),
                UserConfig::new("test2", "tester2", "testing2", &[".admin"]),
                UserConfig::new("test5", "tester5", "testing5", &[".admin"]),
            ],
        }
    }
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            bind: "127.0.0.1:8080".into(),
            swift_dir: PathBuf::from("/etc/swiftlet"),
            conn_timeout: 0.5,
            node_timeout: 10.0,
            client_timeout: 60.0,
            account_autocreate: true,
            error_suppression_limit: 10,
            error_suppression_interval: 60.0,
            container_info_ttl: 10.0,
            account_info_ttl: 10.0,
            retryable_body_limit: 1 << 20,
            tempauth: TempAuthConfig::default(),
            features: FeaturesConfig::default(),
            hash_path: common::HashPathSecret::default(),
            backend: common::backend_auth::BackendConfig::default(),
        }
    }
}

impl ProxyConfig {
    pub fn conn_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.conn_timeout)
    }
    pub fn node_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.node_timeout)
    }
    pub fn client_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.client_timeout)
    }
}
