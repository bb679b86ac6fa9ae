//! The schema, as an ordered list of migrations per kind of DB.
//!
//! A new database is built by running every migration from version 0, and an old one is
//! brought up to date by running the ones it lacks, so the creation path and the upgrade
//! path are the same code and both are always exercised. `PRAGMA user_version` records the
//! version reached; each step commits together with its version bump.
//!
//! Timestamps are stored as Swift's internal text form: 10 integer digits, so text order is
//! time order and SQL can compare them directly.

use super::error::{BrokerError, Result};
use super::DbKind;
use rusqlite::Connection;
use std::path::Path;

/// Tables every kind has: the one-row `info`, per-policy stats, and replication sync points.
const COMMON_V1: &str = "
CREATE TABLE info (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    account TEXT NOT NULL,
    container TEXT,
    db_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    delete_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    status TEXT NOT NULL DEFAULT '',
    status_changed_at TEXT NOT NULL DEFAULT '0000000000.00000',
    metadata TEXT NOT NULL DEFAULT '{}',
    hash TEXT NOT NULL DEFAULT '00000000000000000000000000000000',
    storage_policy_index INTEGER NOT NULL DEFAULT 0,
    reported_put_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    reported_delete_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    reported_object_count INTEGER NOT NULL DEFAULT 0,
    reported_bytes_used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE policy_stat (
    storage_policy_index INTEGER PRIMARY KEY,
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE incoming_sync (
    remote_id TEXT PRIMARY KEY,
    sync_point INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE outgoing_sync (
    remote_id TEXT PRIMARY KEY,
    sync_point INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
";

/// Object rows. AUTOINCREMENT keeps ROWIDs from ever being reused, which sync points rely
/// on; a changed row is deleted and re-inserted so it gets a new ROWID and replicates.
/// The listing index leads with (deleted, policy) so a page is one index range scan.
const CONTAINER_V1: &str = "
CREATE TABLE object (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ctype_timestamp TEXT NOT NULL,
    meta_timestamp TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    storage_policy_index INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_object_listing ON object (deleted, storage_policy_index, name);
";

/// v2: where this container's stats are reported (the proxy's X-Account-* headers of the
/// last container PUT), so changes made by object rows can be reported later.
const CONTAINER_V2: &str = "ALTER TABLE info ADD COLUMN account_targets TEXT NOT NULL DEFAULT '';";

const ACCOUNT_V1: &str = "
CREATE TABLE container (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    put_timestamp TEXT NOT NULL,
    delete_timestamp TEXT NOT NULL,
    object_count INTEGER NOT NULL,
    bytes_used INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    storage_policy_index INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_container_listing ON container (deleted, name);
";

fn migrations(kind: DbKind) -> Vec<String> {
    match kind {
        DbKind::Container => vec![format!("{COMMON_V1}{CONTAINER_V1}"), CONTAINER_V2.to_string()],
        DbKind::Account => vec![format!("{COMMON_V1}{ACCOUNT_V1}")],
    }
}

/// The version a database of `kind` has once fully migrated.
pub fn latest_version(kind: DbKind) -> i64 {
    migrations(kind).len() as i64
}

pub(crate) fn user_version(conn: &Connection, path: &Path) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| BrokerError::sqlite(path, e))
}

/// Runs the migrations `conn` lacks, each in its own transaction with its version bump.
/// Migrating only up to `upto` is for tests that build an old database.
pub fn migrate(conn: &mut Connection, kind: DbKind, path: &Path, upto: Option<i64>) -> Result<i64> {
    let steps = migrations(kind);
    let known = steps.len() as i64;
    let target = upto.unwrap_or(known).min(known);
    let mut version = user_version(conn, path)?;
    if version > known {
        return Err(BrokerError::SchemaTooNew { path: path.to_owned(), found: version, known });
    }
    let sql_err = |e| BrokerError::sqlite(path, e);
    while version < target {
        let tx = conn.transaction().map_err(sql_err)?;
        tx.execute_batch(&steps[version as usize]).map_err(sql_err)?;
        tx.pragma_update(None, "user_version", version + 1).map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        version += 1;
    }
    Ok(version)
}
