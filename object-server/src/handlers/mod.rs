//! The verbs, one file each, over the state they share ([`AppState`]) and the validated
//! object path ([`ObjectPath`]). The router (`crate::router`) parses a request into its
//! endpoint and calls one of them; errors become responses in exactly one place, `Error`'s
//! `HttpError` impl. After a write commits, every write verb calls
//! [`after_write::after_write`] once.

pub mod after_write;
pub mod delete;
pub mod get;
pub mod headers;
pub mod post;
pub mod put;
pub mod range;
pub mod replicate;
pub mod ssync;
pub mod stream;
pub mod targets;

use crate::config::ObjectServerConfig;
use crate::container_ring::ContainerRing;
use crate::error::{Error, Result};
use common::backend_auth::Verifier;
use common::path::{PathError, StoragePath};
use common::server::EndpointStats;
use std::sync::Arc;
use swiftlet_object_store::{Devices, UpdateSender};

/// Objects up to this size are handled whole, in one pool job: a GET reads and verifies the
/// body when it opens the object; a PUT sent without `Expect: 100-continue` is read first,
/// then written without fsyncs and made durable by the device's group sync.
pub const SMALL_BODY: u64 = 64 * 1024;

/// What every handler shares.
pub struct AppState {
    pub devices: Arc<Devices>,
    pub config: Arc<ObjectServerConfig>,
    pub allowed_headers: Vec<String>,
    /// Sends the container updates of writes (and queues the failures), signed.
    pub updates: UpdateSender,
    /// What update targets are checked against.
    pub container_ring: Arc<ContainerRing>,
    /// Checks that requests come from the cluster.
    pub verifier: Arc<Verifier>,
    /// Requests answered, per endpoint.
    pub stats: Arc<EndpointStats>,
}

/// A validated object path.
#[derive(Debug, Clone)]
pub struct ObjectPath {
    pub device: String,
    pub partition: u32,
    pub account: String,
    pub container: String,
    pub obj: String,
}

impl ObjectPath {
    /// `/<dev>/<part>/<a>/<c>/<o>`, percent-encoded; names are checked against Swift's limits.
    pub fn parse(raw: &str) -> Result<Self> {
        let p = StoragePath::parse(raw, 5)?;
        let (Some(container), Some(obj)) = (p.container, p.object) else {
            return Err(Error::BadRequest("Invalid path".into()));
        };
        // Account and container are plain names; "." and ".." are never valid ones.
        if [p.account.as_str(), container.as_str()].iter().any(|s| *s == "." || *s == "..") {
            return Err(PathError::Invalid(raw.chars().take(256).collect()).into());
        }
        Ok(ObjectPath { device: p.device, partition: p.partition, account: p.account, container, obj })
    }

    /// The `/a/c/o` name stored with the object.
    pub fn name(&self) -> String {
        format!("/{}/{}/{}", self.account, self.container, self.obj)
    }
}
