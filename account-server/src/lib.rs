//! The account server: one SQLite DB per account holding its container listing and stats,
//! as OpenStack Swift's account server does, on the shared broker in `swiftlet_broker`.
//!
//! - [`server`]: `serve` and the request router.
//! - [`handlers`]: one module per verb family (account, container rows, listings, REPLICATE).

pub mod config;
pub mod error;
pub mod handlers;
pub mod server;

pub use config::AccountConfig;
pub use error::AccountError;
pub use server::{serve, App};
