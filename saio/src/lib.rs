//! Swiftlet all in one: a whole cluster (storage nodes, proxy) in one process on 127.0.0.1.
//!
//! The `saio` binary runs it for people; the [`Cluster`] type is the harness the
//! integration tests use, on ephemeral ports and temp dirs, with nodes that can be
//! stopped and started again.

pub mod cloud;
pub mod cluster;
pub mod daemons;
pub mod layout;
pub mod rings;

pub use cluster::{Cluster, ClusterOptions};
pub use daemons::ReplicationPass;
