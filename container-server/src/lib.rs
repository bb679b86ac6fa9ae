//! The container server: one SQLite DB per container holding its object listing and stats,
//! as OpenStack Swift's container server does, on the shared broker in `swiftlet_broker`.
//!
//! - [`router`]: the typed [`router::Endpoint`] and the `Service` impl that answers it.
//! - [`server`]: shared state and `serve` (on `common::server`).
//! - [`handlers`]: one module per verb family (container, object rows, listings, REPLICATE).
//! - [`account_update`]: reports to the account servers and the durable retry queue.

pub mod account_update;
pub mod config;
pub mod error;
pub mod handlers;
pub mod router;
pub mod server;

pub use account_update::{AccountTarget, AccountUpdateDaemon, AccountUpdater, SendOutcome, UpdateReport};
pub use config::ContainerConfig;
pub use error::ContainerError;
pub use server::{serve, serve_app, App};
