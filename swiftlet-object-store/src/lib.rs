//! Swiftlet's object storage on one node, with no HTTP server in it: what the object server
//! serves and what the replicator, auditor and updater daemons work on.
//!
//! Modules, one job each:
//! - [`diskfile`]: objects as files on one device (manager, reader, writer, hash dirs,
//!   xattr metadata, body checksums);
//! - [`devicedb`]: the per-device RocksDB (suffix hashes, the async-pending queue);
//! - [`devices`]: the registry of a node's opened devices, with [`config`] its settings;
//! - [`pool`]: a blocking thread pool per device;
//! - [`ssync`]: replication pushes (the sender, and the receiver's protocol logic);
//! - [`audit`]: the auditor hook;
//! - [`container_update`]: the container-update record, its sender and the expirer queue;
//! - [`transport`]: the few HTTP client calls the above make to peers;
//! - [`error`]: [`StoreError`], which knows no HTTP status.
//!
//! RocksDB admits one opener per device DB, so one process owns a node's [`Devices`]; the
//! object server and in-process daemons share it.

pub mod audit;
pub mod config;
pub mod container_update;
pub mod devicedb;
pub mod devices;
pub mod diskfile;
pub mod error;
pub mod pool;
pub mod ssync;
pub mod transport;

pub use audit::{audit_object, AuditOutcome};
pub use config::DevicesConfig;
pub use container_update::{ContainerUpdate, UpdateOp, UpdateSender, UpdateTargets};
pub use devicedb::DeviceDb;
pub use devices::{Device, Devices};
pub use diskfile::{DiskFile, DiskFileManager, DiskFileReader, DiskFileWriter, ObjectState};
pub use error::{Result, StoreError};
pub use pool::DevicePool;
pub use transport::quote_path;
