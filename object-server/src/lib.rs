//! Swiftlet's object server: blobs on disk with xattr metadata (the diskfile), the object
//! verbs of Swift's storage-node API, container updates, and the REPLICATE/SSYNC endpoints.
//!
//! Modules, one job each: [`diskfile`] (files on one device), [`devicedb`] (per-device
//! RocksDB: suffix hashes and async pendings), [`devices`] (the registry of opened devices),
//! [`pool`] (a blocking pool per device), [`handlers`] (one file per verb),
//! [`container_update`], [`ssync`] (replication push), [`audit`] (the auditor hook),
//! [`config`], [`error`] and [`server`].
//!
//! What the replicator, auditor and updater daemons use: [`Devices`] (from
//! [`ObjectServer::devices`]), each [`Device`]'s `manager` ([`DiskFileManager`]), `db`
//! ([`DeviceDb`]) and `pool`, [`ssync::send`], [`ssync::fetch_remote_hashes`] and
//! [`audit::audit_object`].

pub mod audit;
pub mod config;
pub mod container_update;
pub mod devicedb;
pub mod devices;
pub mod diskfile;
pub mod error;
pub mod handlers;
pub mod pool;
pub mod server;
pub mod ssync;

pub use audit::{audit_object, AuditOutcome};
pub use config::ObjectServerConfig;
pub use devicedb::{AsyncPending, DeviceDb};
pub use devices::{Device, Devices};
pub use diskfile::{DiskFile, DiskFileManager, DiskFileReader, DiskFileWriter, ObjectState};
pub use error::{Error, Result};
pub use pool::DevicePool;
pub use server::{serve, ObjectServer};
