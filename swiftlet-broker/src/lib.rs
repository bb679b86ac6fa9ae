//! The SQLite listing broker shared by the account and container servers.
//!
//! One SQLite file per account or per container holds its rows (objects, or containers),
//! its own state (timestamps, status, metadata, stats) and its replication sync points.
//! Modules, one job each:
//! - [`schema`]: the tables, built and upgraded by versioned migrations.
//! - [`db`]: one database: atomic creation, opening (WAL), the info row and metadata.
//! - [`rows`]: object and container rows and their merge by timestamp, in batches.
//! - [`query`]: listings (prefix, delimiter, markers, reverse, limit, path) off the index.
//! - [`replication`]: sync points, the `sync` exchange, snapshots, reclaim.
//! - [`disk`]: paths on disk, device checks, quarantine, walking a device.
//! - [`store`]: the async API servers use: per-device blocking pools, cached
//!   connections, quarantine on corruption, and group-committed row merges.
//! - [`rpc`]: the REPLICATE operations, shared by both servers.
//! - [`headers`]: request timestamps and metadata, and DB info as response headers.
//! - [`listing`]: listings on the wire: query parameters, format negotiation, and the
//!   plain, JSON and XML bodies.
//! - [`server_error`]: the account and container servers' one error type and its statuses.

pub mod db;
pub mod disk;
mod error;
pub mod headers;
pub mod listing;
pub mod meta;
pub mod query;
pub mod replication;
pub mod rows;
pub mod rpc;
pub mod schema;
pub mod server_error;
pub mod store;
#[cfg(test)]
mod tests;

pub use db::{CommitSync, Db, DbInfo, DbInit};
pub use disk::DbLocation;
pub use error::{BrokerError, Result};
pub use meta::Metadata;
pub use query::{ContainerEntry, Entry, ListParams, ObjectEntry};
pub use replication::{ReclaimReport, SyncPoint, SyncReply, SyncRequest};
pub use rows::{ContainerRow, MergeOutcome, ObjectRow, Rows};
pub use store::{BatchStats, InstallOutcome, Store, StoreConfig};

/// Which kind of database: an account's (container rows) or a container's (object rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbKind {
    Account,
    Container,
}

impl DbKind {
    /// The directory under a device that holds this kind of DB.
    pub fn datadir(self) -> &'static str {
        match self {
            DbKind::Account => "accounts",
            DbKind::Container => "containers",
        }
    }
}
