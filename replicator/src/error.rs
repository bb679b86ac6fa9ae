//! The crate's one error type. Daemons serve no HTTP, so no status mapping lives here: a
//! failed step is counted in its pass report and logged, and the pass goes on.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReplicatorError {
    #[error("object storage: {0}")]
    Object(#[from] swiftlet_object_store::StoreError),
    #[error("database: {0}")]
    Broker(#[from] swiftlet_broker::BrokerError),
    #[error("ring: {0}")]
    Ring(#[from] swiftlet_ring::RingError),
    #[error("container server: {0}")]
    Container(#[from] container_server::ContainerError),
    #[error("config: {0}")]
    Config(#[from] common::config::ConfigError),
    /// The cluster's secrets are missing or unusable: daemons do not run without them.
    #[error(transparent)]
    Secrets(#[from] common::secrets::SecretError),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    /// A peer answered with an unexpected status, or not at all.
    #[error("{0}")]
    Remote(String),
    #[error("{0}")]
    Internal(String),
}

impl ReplicatorError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReplicatorError::Io { what, path: path.into(), source }
    }
}

pub type Result<T, E = ReplicatorError> = std::result::Result<T, E>;
