//! The cluster as the proxy knows it, shared by all requests: config, rings, the
//! hash-path secret, the backend client (signing every request with the backend key),
//! the error limiter and the info caches.

use super::info::{AccountInfoCache, ContainerInfoCache};
use super::node::ErrorLimiter;
use crate::config::ProxyConfig;
use common::http::HttpClient;
use common::secrets::Secrets;
use common::HashPathSecret;
use std::path::Path;
use std::time::Duration;
use swiftlet_ring::SharedRing;

/// The three rings, each reloaded when its file changes.
#[derive(Clone)]
pub struct Rings {
    pub account: SharedRing,
    pub container: SharedRing,
    pub object: SharedRing,
}

impl Rings {
    /// Opens `account.ring`, `container.ring` and `object.ring` in `dir`.
    pub fn open(dir: &Path) -> std::result::Result<Rings, swiftlet_ring::RingError> {
        let interval = Duration::from_secs(15);
        Ok(Rings {
            account: SharedRing::open(&dir.join("account.ring"), interval)?,
            container: SharedRing::open(&dir.join("container.ring"), interval)?,
            object: SharedRing::open(&dir.join("object.ring"), interval)?,
        })
    }
}

pub struct Cluster {
    pub config: ProxyConfig,
    pub rings: Rings,
    pub secret: HashPathSecret,
    pub client: HttpClient,
    pub limiter: ErrorLimiter,
    pub containers: ContainerInfoCache,
    pub accounts: AccountInfoCache,
    /// Keystone revocation events (tokens, users, projects) as the identity service's feed
    /// last listed them; kept current by a poller when `[keystone] identity_url` is set.
    pub revocations: swiftlet_token::Revocations,
}

impl Cluster {
    pub fn new(config: ProxyConfig, rings: Rings, secrets: &Secrets) -> Cluster {
        Cluster {
            client: HttpClient::new(config.conn_timeout()).with_signer(secrets.backend.signer.clone()),
            limiter: ErrorLimiter::new(
                config.error_suppression_limit,
                Duration::from_secs_f64(config.error_suppression_interval),
            ),
            containers: ContainerInfoCache::new(Duration::from_secs_f64(config.container_info_ttl)),
            accounts: AccountInfoCache::new(Duration::from_secs_f64(config.account_info_ttl)),
            revocations: swiftlet_token::Revocations::default(),
            rings,
            secret: secrets.hash_path.clone(),
            config,
        }
    }
}
