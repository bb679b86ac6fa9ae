//! Swiftlet's object server: the object verbs of Swift's storage-node API and the
//! REPLICATE/SSYNC endpoints, served over HTTP on top of the store
//! ([`swiftlet_object_store`]: the diskfile, device DBs and pools, SSYNC, container updates).
//!
//! Modules, one job each: [`router`] (an `Endpoint` parsed once, and the scaffold's
//! `Service` over it), [`handlers`] (one file per verb, range parsing, request headers,
//! the after-write step), [`error`] (the one status mapping, store errors included),
//! [`config`], [`container_ring`] (what update targets are checked against) and
//! [`server`]. Every request must carry the cluster's backend signature
//! (`common::backend_auth`), checked by the scaffold before it is parsed.
//!
//! In-process daemons (replicator, auditor, updater) take the store's
//! [`Devices`](swiftlet_object_store::Devices) registry from [`ObjectServer::devices`].

pub mod config;
pub mod container_ring;
pub mod error;
pub mod handlers;
pub mod router;
pub mod server;

pub use config::ObjectServerConfig;
pub use error::{Error, Result};
pub use server::{serve, ObjectServer};
