//! The proxy's TOML config; every key has a default.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyConfig {
    /// Address to listen on, `IP:PORT` (the binary's `--bind` overrides it).
    #[serde(deserialize_with = "common::server::deserialize_bind")]
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
    /// Seconds to wait, once a quorum of object servers answered a streamed PUT, for the
    /// others' answers (Swift's `post_quorum_timeout`); later ones are not waited for.
    pub post_quorum_timeout: f64,
    /// Client connections served at once; further accepts wait. Each can hold a backend
    /// connection too, so the process needs about twice this many open files.
    pub max_connections: usize,
    /// Client connections one address may hold at once (0: no cap); more are closed at
    /// accept. High enough for many clients behind one NAT (python-swiftclient opens about
    /// ten per upload), low enough that a few addresses cannot fill `max_connections`.
    pub max_connections_per_ip: usize,
    /// Seconds a client may take to send a request's headers.
    pub header_read_timeout: f64,
    /// Seconds a client connection may go with no byte moving (an idle keep-alive, a
    /// stalled body, an unread response) before it is closed.
    pub idle_timeout: f64,
    /// Seconds a request may take until its response starts, its body included (a slower
    /// one is answered 408); long, as a 5 GiB PUT over a slow link is honest.
    pub request_timeout: f64,
    pub tempauth: TempAuthConfig,
    /// Where Keystone tokens' revocations come from.
    pub keystone: KeystoneConfig,
    /// The cluster's token key (`[token] key_file`, or `SWIFTLET_TOKEN_KEY`): it signs
    /// tempauth tokens and validates Keystone ones; the identity service holds the same.
    pub token: swiftlet_token::TokenConfig,
    /// Which middlewares run, and their settings.
    pub features: FeaturesConfig,
    /// The cluster's hash-path secret; must match the storage nodes'.
    pub hash_path: common::HashPathSecret,
    /// The backend key the proxy signs its requests to storage nodes with.
    pub backend: common::backend_auth::BackendConfig,
    /// `cert_file` and `key_file` to serve HTTPS (HTTP/2 and HTTP/1.1) instead of HTTP;
    /// SIGHUP reads them again.
    pub tls: common::http::TlsFiles,
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

/// The identity service the proxy polls for revoked Keystone tokens, disabled users and
/// removed roles (`GET /v3/OS-REVOKE/events`, signed with a key derived from the token key).
/// Without it, a Keystone token stays valid until it expires.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KeystoneConfig {
    /// `http://<identity host>:5000` (no `/v3`); unset: no polling.
    pub identity_url: Option<String>,
    /// Seconds between polls: how long a revoked token may still be accepted.
    pub revocation_interval: f64,
}

impl Default for KeystoneConfig {
    fn default() -> Self {
        KeystoneConfig { identity_url: None, revocation_interval: 5.0 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TempAuthConfig {
    /// Seconds a token is valid.
    pub token_life: u64,
    /// Extra secret mixed into token signatures (the token key is always mixed in).
    pub token_secret: String,
    /// Account prefix, as Swift's reseller prefix.
    pub reseller_prefix: String,
    /// None by default: a proxy has only the users its config names.
    pub users: Vec<UserConfig>,
}

/// A configured user whose key anyone can look up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("[[tempauth.users]] {0}: its key is a known test credential (Swift's SAIO users'); give it a long random key")]
pub struct KnownCredential(pub String);

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
    fn default() -> Self {
        TempAuthConfig {
            token_life: 86_400,
            token_secret: String::new(),
            reseller_prefix: "AUTH_".into(),
            users: Vec::new(),
        }
    }
}

/// The users of Swift's SAIO, so its functional tests run unchanged. Their keys are
/// published: only `saio` (a test cluster on 127.0.0.1) uses them, and `proxy-server`
/// refuses to start with any of them.
pub fn saio_test_users() -> Vec<UserConfig> {
    vec![
        UserConfig::new("admin", "admin", "admin", &[".admin", ".reseller_admin"]),
        UserConfig::new("test", "tester", "testing", &[".admin"]),
        UserConfig::new("test", "tester2", "testing2", &[".admin"]),
        UserConfig::new("test", "tester3", "testing3", &[]),
        UserConfig::new("test2", "tester2", "testing2", &[".admin"]),
        UserConfig::new("test5", "tester5", "testing5", &[".admin"]),
    ]
}

impl TempAuthConfig {
    /// The first user whose key is one of [`saio_test_users`]' keys, if any.
    pub fn known_credential(&self) -> Result<(), KnownCredential> {
        let known = saio_test_users();
        match self.users.iter().find(|u| known.iter().any(|k| k.key == u.key)) {
            Some(u) => Err(KnownCredential(format!("{}:{}", u.account, u.user))),
            None => Ok(()),
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
            post_quorum_timeout: 0.5,
            max_connections: 4096,
            max_connections_per_ip: 256,
            header_read_timeout: 10.0,
            idle_timeout: 60.0,
            request_timeout: 86_400.0,
            tempauth: TempAuthConfig::default(),
            keystone: KeystoneConfig::default(),
            token: swiftlet_token::TokenConfig::default(),
            features: FeaturesConfig::default(),
            hash_path: common::HashPathSecret::default(),
            backend: common::backend_auth::BackendConfig::default(),
            tls: common::http::TlsFiles::default(),
        }
    }
}

/// What the one server `main` needs: the proxy has no devices, so `--devices` and
/// `--no-mount-check` are refused; `--swift-dir` names its rings.
impl common::server::ServerConfig for ProxyConfig {
    fn bind_addr(&self) -> (String, u16) {
        common::server::bind_pair(&self.bind)
    }
    fn set_bind_addr(&mut self, ip: String, port: u16) {
        self.bind = common::server::join_bind(&ip, port);
    }
    fn set_swift_dir(&mut self, dir: PathBuf) -> Result<(), common::server::StartError> {
        self.swift_dir = dir;
        Ok(())
    }
    fn hash_path(&self) -> &common::HashPathSecret {
        &self.hash_path
    }
    fn backend(&self) -> &common::backend_auth::BackendConfig {
        &self.backend
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
    pub fn post_quorum_timeout(&self) -> Duration {
        seconds(self.post_quorum_timeout)
    }

    /// How the front door serves client connections.
    pub fn server_options(&self) -> common::http::ServerOptions {
        common::http::ServerOptions {
            max_connections: self.max_connections.max(1),
            max_connections_per_ip: match self.max_connections_per_ip {
                0 => usize::MAX,
                n => n,
            },
            header_read_timeout: seconds(self.header_read_timeout),
            idle_timeout: seconds(self.idle_timeout),
            request_timeout: seconds(self.request_timeout),
            ..common::http::ServerOptions::default()
        }
    }
}

/// A config duration; negative, NaN or infinite values saturate instead of panicking.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_users_unless_configured() {
        assert!(TempAuthConfig::default().users.is_empty(), "a proxy has no users (nor known keys) by default");
        assert!(ProxyConfig::default().tempauth.users.is_empty());
    }

    #[test]
    fn known_test_keys_are_refused() {
        let mut cfg = TempAuthConfig { users: saio_test_users(), ..TempAuthConfig::default() };
        assert_eq!(cfg.known_credential(), Err(KnownCredential("admin:admin".into())));
        cfg.users = vec![UserConfig::new("ops", "alice", "testing3", &[])];
        assert!(cfg.known_credential().unwrap_err().to_string().contains("ops:alice"));
        cfg.users[0].key = "7c0b3a4e-long-and-random".into();
        assert_eq!(cfg.known_credential(), Ok(()));
        assert_eq!(TempAuthConfig::default().known_credential(), Ok(()));
    }
}
