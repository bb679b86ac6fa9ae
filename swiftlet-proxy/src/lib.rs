//! The proxy library: the Swift API v1 in front of the storage nodes, in floors, each
//! importing only the floors below it:
//!
//! - base: [`error`], [`config`], [`route`] (a path parsed once), [`context`] and
//!   [`request`] (the typed request that travels), `auth` (identities, tokens, ACLs),
//!   path quoting and header helpers;
//! - `state`: the [`Cluster`] every request shares (config, rings, secret, backend client,
//!   error limiter, info caches);
//! - `storage`: talking to storage nodes (placement with stand-ins, reads with failover,
//!   fanned-out and streamed writes, quorum);
//! - `lookups`: account and container info;
//! - `controllers`: account, container and object verbs;
//! - the pipeline: `pipeline` (steps, sub-requests, frontends) and `middleware` (every
//!   step, and the one ordered list of them);
//! - the [`FrontDoor`]: serves a listener.
//!
//! Frontends of other APIs (the S3 API, crate `swiftlet-s3`) plug in through
//! [`Frontend`] and run Swift requests through the [`SwiftApi`] facade.

#![warn(unreachable_pub)]

pub(crate) mod auth;
pub(crate) mod body;
pub mod config;
pub mod context;
pub(crate) mod controllers;
pub mod error;
pub(crate) mod front_door;
pub(crate) mod headers;
pub(crate) mod lookups;
pub(crate) mod middleware;
pub(crate) mod pipeline;
pub(crate) mod quote;
pub mod request;
pub mod route;
pub(crate) mod state;
pub(crate) mod storage;

pub use auth::identity::Identity;
pub use auth::tempauth::constant_time_eq;
pub use config::{ProxyConfig, UserConfig};
pub use error::ProxyError;
pub use front_door::FrontDoor;
pub use middleware::versioning::archive::DELETE_MARKER;
pub use pipeline::frontend::{Frontend, SwiftApi};
pub use quote::{quote, swift_path};
pub use state::cluster::{Cluster, Rings};
pub use state::info::ContainerInfo;
