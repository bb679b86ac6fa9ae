//! The account server: one SQLite DB per account holding its container listing and stats,
//! as OpenStack Swift's account server does, on the shared broker in `swiftlet_broker`.
//!
//! - [`router`]: the typed [`router::Endpoint`] and the `Service` impl that answers it.
//! - [`server`]: shared state and `serve` (on `common::server`).
//! - [`handlers`]: one module per verb family (account, container rows, listings, REPLICATE).

pub mod config;
pub mod error;
pub mod handlers;
pub mod router;
pub mod server;

pub use config::AccountConfig;
pub use error::AccountError;
pub use server::{serve, serve_app, App};
