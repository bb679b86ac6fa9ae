//! What every Swiftlet server shares.
//!
//! Each module has one job: [`timestamp`] orders versions, [`hash`] places names,
//! [`constraints`] holds the API limits, [`path`] parses and validates request paths,
//! [`config`] loads TOML, [`http`] serves and calls HTTP, [`headers`] reads and writes
//! header values, [`server`] is the scaffold every server stands on (service, request
//! wrapper, one-call `main`), [`daemon`] the shape of background work.

pub mod backend_auth;
pub mod config;
pub mod constraints;
pub mod daemon;
pub mod group_sync;
pub mod hash;
pub mod headers;
pub mod http;
pub mod logging;
pub mod metadata;
pub mod path;
pub mod secrets;
pub mod server;
pub mod signal;
pub mod timestamp;

pub use hash::HashPathSecret;
pub use timestamp::Timestamp;
