//! Swiftlet's background daemons, which keep every replica whole:
//!
//! - [`object`]: the object replicator (suffix hashes compared over REPLICATE, differences
//!   pushed with SSYNC, handoff partitions reverted to their primaries);
//! - [`db`]: the container and account DB replicator (sync points, rows in batches, whole
//!   DBs for peers that have none, handoff DBs reverted);
//! - [`auditor`]: re-reads objects (body checksum) and checks DBs (SQLite), quarantining damage;
//! - [`updater`]: delivers queued container updates and account updates;
//! - [`expirer`]: deletes objects whose `X-Delete-At` has passed.
//!
//! Each implements [`Daemon`]: `run_once(cancel)` does one pass and returns a report;
//! [`common::daemon::run_pass`] logs it and writes it as recon JSON, [`common::daemon::run_forever`] repeats
//! it on an interval. [`DaemonSet`] holds all six over one [`Node`] (config, rings,
//! storage handles); `saio` runs a set per storage node, the `replicator` binary one daemon.

pub mod auditor;
pub mod config;
pub mod db;
pub mod error;
pub mod expirer;
pub mod failures;
pub mod node;
pub mod object;
pub mod set;
pub mod throttle;
pub mod updater;

pub use auditor::{AuditReport, Auditor};
pub use common::daemon::Daemon;
pub use config::DaemonConfig;
pub use db::{DbReplicator, DbReport};
pub use error::{ReplicatorError, Result};
pub use expirer::{Expirer, ExpirerReport};
pub use node::{Node, Rings, Storage};
pub use object::{ObjectReplicator, ObjectReport};
pub use set::{DaemonSet, Kind};
pub use updater::{Updater, UpdaterReport};
