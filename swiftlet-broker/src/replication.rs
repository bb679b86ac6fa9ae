//! What DB replication needs from one database: sync points (how far each peer's rows have
//! been merged), the `sync` exchange, re-identifying a copied DB, consistent snapshots, and
//! reclaiming tombstones and stale sync rows.
//!
//! The protocol is Swift's: the sender asks the receiver for the sync point it holds for
//! the sender's DB id, then sends the rows above it (`merge_rows` with `source`); when the
//! two hashes match, nothing needs sending. A replica that lacks the DB gets a snapshot.

use super::db::{Db, DbInfo};
use super::error::{BrokerError, Result};
use super::meta::{self, Metadata};
use common::Timestamp;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One peer's position: rows up to `sync_point` of DB `remote_id` have been merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPoint {
    pub remote_id: String,
    pub sync_point: i64,
    /// Unix seconds of the last change (reclaim drops points older than a reclaim age).
    #[serde(default)]
    pub updated_at: i64,
}

/// What a replicator sends in a `sync` call: its own DB's identity and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The sender's max row (its newest ROWID).
    pub max_row: i64,
    pub hash: String,
    pub id: String,
    pub created_at: Timestamp,
    pub put_timestamp: Timestamp,
    pub delete_timestamp: Timestamp,
    #[serde(default)]
    pub metadata: Metadata,
}

/// The answer to `sync`: the receiver's info, its metadata, and `point`, the sync point it
/// holds for the sender (rows above it are what the sender must send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReply {
    #[serde(flatten)]
    pub info: DbInfo,
    pub metadata: Metadata,
    pub point: i64,
}

/// What `reclaim` removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReclaimReport {
    pub rows: usize,
    pub metadata_keys: usize,
    pub sync_points: usize,
}

fn now_secs() -> i64 {
    Timestamp::now().secs() as i64
}

fn sync_table(incoming: bool) -> &'static str {
    if incoming {
        "incoming_sync"
    } else {
        "outgoing_sync"
    }
}

/// Raises `remote`'s point in `table` to at least `point`.
pub(crate) fn bump_sync(tx: &Transaction, table: &str, remote: &str, point: i64) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO {table} (remote_id, sync_point, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(remote_id) DO UPDATE SET sync_point = max(sync_point, ?2), updated_at = ?3"
        ),
        params![remote, point, now_secs()],
    )
    .map(drop)
}

impl Db {
    /// The sync point held for `remote_id`, or -1 when none.
    pub fn get_sync(&self, remote_id: &str, incoming: bool) -> Result<i64> {
        let sql = format!("SELECT sync_point FROM {} WHERE remote_id = ?1", sync_table(incoming));
        let v: Option<i64> =
            self.conn.query_row(&sql, [remote_id], |r| r.get(0)).optional().map_err(|e| self.err(e))?;
        Ok(v.unwrap_or(-1))
    }

    pub fn get_syncs(&self, incoming: bool) -> Result<Vec<SyncPoint>> {
        let sql = format!("SELECT remote_id, sync_point, updated_at FROM {} ORDER BY remote_id", sync_table(incoming));
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok(SyncPoint { remote_id: r.get(0)?, sync_point: r.get(1)?, updated_at: r.get(2)? }))
            .and_then(|m| m.collect())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Merges sync points (each only ever moves forward).
    pub fn merge_syncs(&mut self, points: &[SyncPoint], incoming: bool) -> Result<()> {
        let path = self.path.clone();
        let sql = |e| BrokerError::sqlite(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        for p in points {
            bump_sync(&tx, sync_table(incoming), &p.remote_id, p.sync_point).map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// The receiving side of Swift's `sync` call: take the sender's metadata and
    /// timestamps, and answer with our state and the point we hold for the sender. When
    /// both hashes already match, the sender's max row counts as merged.
    pub fn sync(&mut self, remote: &SyncRequest) -> Result<SyncReply> {
        if !remote.metadata.is_empty() {
            self.update_metadata(&remote.metadata, false)?;
        }
        let info = self.info()?;
        if (info.created_at, info.put_timestamp, info.delete_timestamp)
            != (remote.created_at, remote.put_timestamp, remote.delete_timestamp)
        {
            self.merge_timestamps(remote.created_at, remote.put_timestamp, remote.delete_timestamp)?;
        }
        let mut point = self.get_sync(&remote.id, true)?;
        let info = self.info()?;
        if remote.hash == info.hash && point < remote.max_row {
            let p = SyncPoint { remote_id: remote.id.clone(), sync_point: remote.max_row, updated_at: 0 };
            self.merge_syncs(&[p], true)?;
            point = remote.max_row;
        }
        Ok(SyncReply { info, metadata: self.metadata()?, point })
    }

    /// What this DB sends as the sender of a `sync` call.
    pub fn sync_request(&self) -> Result<SyncRequest> {
        let info = self.info()?;
        Ok(SyncRequest {
            max_row: info.max_row,
            hash: info.hash,
            id: info.id,
            created_at: info.created_at,
            put_timestamp: info.put_timestamp,
            delete_timestamp: info.delete_timestamp,
            metadata: self.metadata()?,
        })
    }

    /// Gives a copied-in DB its own id, and records that it holds all of `remote_id`'s
    /// rows up to its max row (so they are not sent back to it).
    pub fn newid(&mut self, remote_id: &str, device: &str) -> Result<()> {
        let max_row = self.max_row()?;
        let path = self.path.clone();
        let sql = |e| BrokerError::sqlite(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let id = format!("{:032x}-{device}", rand::random::<u128>());
        tx.execute("UPDATE info SET db_id = ?1", [id]).map_err(sql)?;
        bump_sync(&tx, "incoming_sync", remote_id, max_row).map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// Writes a consistent, self-contained copy (WAL content included) to `dest`, fsynced.
    pub fn snapshot_to(&self, dest: &Path) -> Result<()> {
        let target = dest.to_str().ok_or_else(|| BrokerError::BadInput("snapshot path is not UTF-8".into()))?;
        self.conn.execute("VACUUM INTO ?1", [target]).map_err(|e| self.err(e))?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(dest)
            .and_then(|f| f.sync_all())
            .map_err(|e| BrokerError::io(dest, e))
    }

    /// Full integrity check (for DBs received from a peer before they are installed).
    pub fn check_integrity(&self) -> Result<()> {
        let verdict: String = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(BrokerError::Corrupt { path: self.path.clone(), detail: verdict })
        }
    }

    /// Removes tombstone rows and emptied metadata older than `age`, and sync points not
    /// updated since `sync_age`.
    pub fn reclaim(&mut self, age: Timestamp, sync_age: Timestamp) -> Result<ReclaimReport> {
        let rows = self.reclaim_rows(age)?;
        let mut md = self.metadata()?;
        let before = md.len();
        md.retain(|_, (v, t)| !(v.is_empty() && *t < age));
        let metadata_keys = before - md.len();
        let path = self.path.clone();
        let sql = |e| BrokerError::sqlite(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        if metadata_keys > 0 {
            tx.execute("UPDATE info SET metadata = ?1", [meta::to_json(&md)]).map_err(sql)?;
        }
        let cutoff = sync_age.secs() as i64;
        let mut sync_points = 0;
        for table in ["incoming_sync", "outgoing_sync"] {
            sync_points += tx.execute(&format!("DELETE FROM {table} WHERE updated_at < ?1"), [cutoff]).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(ReclaimReport { rows, metadata_keys, sync_points })
    }

    /// Whether the whole DB may go: deleted longer than `reclaim_age` ago and empty.
    pub fn is_reclaimable(&self, now: Timestamp, reclaim_age: std::time::Duration) -> Result<bool> {
        let info = self.info()?;
        let limit = Timestamp::from_micros((now.ticks() * 10).saturating_sub(reclaim_age.as_micros() as u64));
        Ok(info.is_deleted(self.kind)
            && self.is_empty()?
            && info.delete_timestamp < limit
            && info.delete_timestamp > info.put_timestamp)
    }
}
