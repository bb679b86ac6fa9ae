//! A small cloud over the object store: identity (a Keystone v3 subset, [`identity`]),
//! image (a Glance v2 subset storing image data in the store through the proxy's Swift
//! API, [`image`]) and compute (a Nova subset booting servers with qemu or a plain process,
//! [`compute`]).
//!
//! Tokens are signed with a key derived from the cluster's token key (`[token]`), so every
//! service and the proxy validate them locally ([`auth`]). [`start`] runs all three on
//! bound listeners; `saio` and the `compute-shim` binary use it.

pub mod auth;
pub mod compute;
pub mod config;
pub mod db;
pub mod error;
pub mod identity;
pub mod image;
pub mod web;

pub use config::ShimConfig;
pub use error::ShimError;

use auth::Validator;
use common::http::ServerOptions;
use hyper::body::Incoming;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use swiftlet_token::{KeystoneTokens, Revocations};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Base URLs of the services (no trailing slash); the identity catalog lists them.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub identity: String,
    pub image: String,
    pub compute: String,
    /// The proxy; a project's object-store endpoint is `<this>/v1/AUTH_<project id>`.
    pub object_store: String,
}

/// The three bound listeners (bind first, so callers can use port 0).
pub struct Listeners {
    pub identity: TcpListener,
    pub image: TcpListener,
    pub compute: TcpListener,
}

impl Listeners {
    pub async fn bind(cfg: &ShimConfig) -> std::io::Result<Listeners> {
        let ip = cfg.bind_ip.as_str();
        Ok(Listeners {
            identity: TcpListener::bind((ip, cfg.identity_port)).await?,
            image: TcpListener::bind((ip, cfg.image_port)).await?,
            compute: TcpListener::bind((ip, cfg.compute_port)).await?,
        })
    }
}

/// The running services. Dropping it stops them; [`Cloud::shutdown`] also waits and stops
/// the servers' VMs and processes.
pub struct Cloud {
    pub identity_addr: SocketAddr,
    pub image_addr: SocketAddr,
    pub compute_addr: SocketAddr,
    pub endpoints: Endpoints,
    pub identity: Arc<identity::IdentityService>,
    pub compute: Arc<compute::ComputeService>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Cloud {
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
        self.compute.shutdown().await;
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Opens the databases and serves the three services until the returned [`Cloud`] stops.
pub async fn start(cfg: ShimConfig, listeners: Listeners) -> Result<Cloud, ShimError> {
    let (identity_addr, image_addr, compute_addr) =
        (listeners.identity.local_addr()?, listeners.image.local_addr()?, listeners.compute.local_addr()?);
    let endpoints = Endpoints {
        identity: format!("http://{identity_addr}"),
        image: format!("http://{image_addr}"),
        compute: format!("http://{compute_addr}"),
        object_store: cfg.proxy_url.trim_end_matches('/').to_string(),
    };
    let key = cfg.token.load_key().map_err(|e| ShimError::Internal(e.to_string()))?;
    let validator = Validator { tokens: KeystoneTokens::new(&key), revoked: Revocations::default() };
    tokio::fs::create_dir_all(&cfg.state_dir).await?;
    let identity =
        identity::IdentityService::open(cfg.identity.clone(), &cfg.state_dir, validator.clone(), endpoints.clone())
            .await?;
    let image =
        image::ImageService::open(cfg.image.clone(), &cfg.state_dir, validator.clone(), endpoints.clone()).await?;
    let compute =
        compute::ComputeService::open(cfg.compute.clone(), &cfg.state_dir, validator, endpoints.clone()).await?;
    let cancel = CancellationToken::new();
    let tasks = vec![
        spawn_server("identity", listeners.identity, cancel.clone(), {
            let identity = identity.clone();
            move |r| identity.clone().handle(r)
        }),
        spawn_server("image", listeners.image, cancel.clone(), move |r| image.clone().handle(r)),
        spawn_server("compute", listeners.compute, cancel.clone(), {
            let compute = compute.clone();
            move |r| compute.clone().handle(r)
        }),
    ];
    tracing::info!(%identity_addr, %image_addr, %compute_addr, "cloud services listening");
    Ok(Cloud { identity_addr, image_addr, compute_addr, endpoints, identity, compute, cancel, tasks })
}

fn spawn_server<H, F>(
    name: &'static str,
    listener: TcpListener,
    cancel: CancellationToken,
    handler: H,
) -> JoinHandle<()>
where
    H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = http::Response<common::http::Body>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = common::http::serve(listener, handler, ServerOptions::default(), cancel).await {
            tracing::error!(service = name, error = %e, "server stopped");
        }
    })
}
