//! The cloud services of an all-in-one cluster: identity (port 5000), image (9292) and
//! compute (8774) from `compute-shim`, in front of the cluster's proxy. They hold the
//! cluster's token key, as the proxy does, so the proxy accepts their tokens. Unlike a real
//! deployment, saio keeps the known test credentials admin/admin and demo/demo.

use crate::cluster::Cluster;
use crate::layout::Layout;
use anyhow::{Context, Result};
use compute_shim::{Cloud, Listeners, ShimConfig};
use swiftlet_token::{TokenConfig, TokenKey};

#[derive(Debug, Clone)]
pub struct CloudOptions {
    pub enabled: bool,
    /// 0 picks free ports (`bind_ip` is the cluster's host; `state_dir`, `proxy_url` and
    /// `token` are filled in by the cluster).
    pub config: ShimConfig,
}

impl Default for CloudOptions {
    fn default() -> Self {
        CloudOptions { enabled: true, config: ShimConfig::default() }
    }
}

impl CloudOptions {
    /// For tests: free ports, and images segmented above 2 MiB in 1 MiB segments so small
    /// uploads exercise the large-object path.
    pub fn ephemeral() -> Self {
        let mut config = ShimConfig { identity_port: 0, image_port: 0, compute_port: 0, ..ShimConfig::default() };
        config.image.large_object_threshold = 2 << 20;
        config.image.segment_size = 1 << 20;
        CloudOptions { enabled: true, config }
    }
}

/// Starts the three services with their state under `<data dir>/cloud`.
pub async fn start(
    opts: &CloudOptions,
    host: &str,
    layout: &Layout,
    token_key: &TokenKey,
    proxy_url: String,
) -> Result<Option<Cloud>> {
    if !opts.enabled {
        return Ok(None);
    }
    let mut cfg = ShimConfig {
        bind_ip: host.to_string(),
        state_dir: layout.data_dir.join("cloud"),
        proxy_url,
        token: TokenConfig::inline(token_key),
        ..opts.config.clone()
    };
    // A development cluster keeps the known test users (admin/admin, demo/demo) unless
    // its config names passwords; compute-shim logs a warning that it does.
    cfg.identity.test_credentials = true;
    let listeners = Listeners::bind(&cfg).await.with_context(|| {
        format!("binding the cloud services on {host}:{}/{}/{}", cfg.identity_port, cfg.image_port, cfg.compute_port)
    })?;
    let cloud = compute_shim::start(cfg, listeners).await.context("starting the cloud services")?;
    Ok(Some(cloud))
}

impl Cluster {
    pub fn cloud(&self) -> Option<&Cloud> {
        self.cloud.as_ref()
    }

    /// `http://<host>:<port>/v3`, the Keystone auth URL.
    pub fn identity_url(&self) -> Option<String> {
        self.cloud.as_ref().map(|c| format!("{}/v3", c.endpoints.identity))
    }

    pub fn image_url(&self) -> Option<String> {
        self.cloud.as_ref().map(|c| c.endpoints.image.clone())
    }

    /// `http://<host>:<port>/v2.1`.
    pub fn compute_url(&self) -> Option<String> {
        self.cloud.as_ref().map(|c| format!("{}/v2.1", c.endpoints.compute))
    }
}
