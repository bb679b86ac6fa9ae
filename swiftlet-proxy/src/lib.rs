//! The proxy server: Swift API v1 in front of the storage nodes.
//!
//! A request is parsed into a [`router::Route`], authenticated by [`auth`], then handed to
//! the controller for its resource (`controllers::{account, container, object}`), which
//! routes it through the ring to the storage nodes ([`backend`], [`nodes`]) and settles
//! the replies ([`quorum`]).

pub mod auth;
pub mod backend;
pub mod config;
pub mod controllers;
pub mod error;
pub mod info;
pub mod info_cache;
pub mod middleware;
pub mod nodes;
pub mod quorum;
pub mod response;
pub mod router;
pub mod s3;
pub mod server;

pub use config::ProxyConfig;
pub use error::ProxyError;
pub use server::{serve, Proxy, Rings};
