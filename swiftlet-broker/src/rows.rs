//! The rows: object rows in a container DB, container rows in an account DB, and how a
//! batch of incoming rows merges with what is stored (newest timestamp wins, per field
//! group as Swift does: data, content-type and metadata each carry their own timestamp).
//!
//! A batch is merged in one transaction. Stats (per policy) and the DB hash (an XOR of
//! per-row hashes, compared by replication) are kept by this code, not by SQL triggers, so
//! a batch of N rows costs N index lookups, N inserts and one stats update.

use super::db::{ts, Db};
use super::error::{BrokerError, Result};
use super::DbKind;
use common::Timestamp;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use xxhash_rust::xxh3::xxh3_128;

/// One object's listing row in a container DB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRow {
    pub name: String,
    /// The data timestamp (the object PUT or DELETE).
    pub created_at: Timestamp,
    /// When the content type last changed (a POST may change it); defaults to `created_at`.
    #[serde(default)]
    pub ctype_timestamp: Option<Timestamp>,
    /// When metadata last changed; the listing's last_modified. Defaults to the ctype time.
    #[serde(default)]
    pub meta_timestamp: Option<Timestamp>,
    pub size: u64,
    pub content_type: String,
    pub etag: String,
    #[serde(default, deserialize_with = "flag")]
    pub deleted: bool,
    #[serde(default)]
    pub storage_policy_index: u32,
    /// Set on rows read for replication: the row's position in the DB.
    #[serde(rename = "ROWID", default, skip_serializing_if = "Option::is_none")]
    pub rowid: Option<i64>,
}

/// A flag sent as a JSON bool, or as Swift's replicators send it: the SQLite integer 0/1.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(i) => i != 0,
    })
}

impl ObjectRow {
    /// The tombstone row for an object DELETE at `t`.
    pub fn tombstone(name: impl Into<String>, t: Timestamp, storage_policy_index: u32) -> Self {
        ObjectRow {
            name: name.into(),
            created_at: t,
            ctype_timestamp: None,
            meta_timestamp: None,
            size: 0,
            content_type: "application/deleted".into(),
            etag: "noetag".into(),
            deleted: true,
            storage_policy_index,
            rowid: None,
        }
    }

    fn ctype_ts(&self) -> Timestamp {
        self.ctype_timestamp.unwrap_or(self.created_at).max(self.created_at)
    }

    fn meta_ts(&self) -> Timestamp {
        self.meta_timestamp.unwrap_or_else(|| self.ctype_ts()).max(self.ctype_ts())
    }

    /// With all three timestamps explicit.
    fn normalized(&self) -> ObjectRow {
        ObjectRow {
            ctype_timestamp: Some(self.ctype_ts()),
            meta_timestamp: Some(self.meta_ts()),
            rowid: None,
            ..self.clone()
        }
    }

    fn hash(&self) -> u128 {
        let text = format!("{}\n{}\n{}\n{}", self.name, self.created_at, self.ctype_ts(), self.meta_ts());
        xxh3_128(text.as_bytes())
    }
}

/// Splits Swift's `;swift_bytes=N` parameter (large-object manifests) off a content type.
pub fn split_swift_bytes(content_type: &str) -> (&str, Option<&str>) {
    match content_type.rsplit_once(';') {
        Some((base, param)) if param.trim_start().starts_with("swift_bytes=") => {
            (base, Some(param.trim_start().trim_start_matches("swift_bytes=")))
        }
        _ => (content_type, None),
    }
}

/// The order of a row's data: its timestamp, then (only for two different writes that
/// share a timestamp) its content, so every replica picks the same winner.
fn data_key(r: &ObjectRow) -> (Timestamp, bool, u64, &str, Option<&str>) {
    (r.created_at, r.deleted, r.size, r.etag.as_str(), split_swift_bytes(&r.content_type).1)
}

fn ctype_key(r: &ObjectRow) -> (Timestamp, &str) {
    (r.ctype_ts(), split_swift_bytes(&r.content_type).0)
}

/// Merges `new` over `old` field group by field group; `None` when `new` brings nothing
/// newer. The result does not depend on which of two rows arrives first.
pub fn merge_object(old: &ObjectRow, new: &ObjectRow) -> Option<ObjectRow> {
    let (old, new) = (old.normalized(), new.normalized());
    let data_newer = data_key(&new) > data_key(&old);
    let ctype_newer = ctype_key(&new) > ctype_key(&old);
    let meta_newer = new.meta_ts() > old.meta_ts();
    if !(data_newer || ctype_newer || meta_newer) {
        return None;
    }
    let data = if data_newer { &new } else { &old };
    let ctype = if ctype_newer { &new } else { &old };
    let (base, _) = split_swift_bytes(&ctype.content_type);
    let content_type = match split_swift_bytes(&data.content_type).1 {
        Some(n) => format!("{base};swift_bytes={n}"),
        None => base.to_string(),
    };
    Some(ObjectRow {
        name: new.name.clone(),
        created_at: data.created_at,
        ctype_timestamp: Some(ctype.ctype_ts().max(data.created_at)),
        meta_timestamp: Some(old.meta_ts().max(new.meta_ts()).max(data.created_at)),
        size: data.size,
        content_type,
        etag: data.etag.clone(),
        deleted: data.deleted,
        storage_policy_index: new.storage_policy_index,
        rowid: None,
    })
}

/// One container's row in an account DB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRow {
    pub name: String,
    pub put_timestamp: Timestamp,
    pub delete_timestamp: Timestamp,
    pub object_count: i64,
    pub bytes_used: i64,
    #[serde(default, deserialize_with = "flag")]
    pub deleted: bool,
    #[serde(default)]
    pub storage_policy_index: u32,
    #[serde(rename = "ROWID", default, skip_serializing_if = "Option::is_none")]
    pub rowid: Option<i64>,
}

impl ContainerRow {
    /// A container's report: deleted when its delete is newer than its put and it is empty.
    pub fn report(
        name: impl Into<String>,
        put: Timestamp,
        delete: Timestamp,
        objects: i64,
        bytes: i64,
        policy: u32,
    ) -> Self {
        ContainerRow {
            name: name.into(),
            put_timestamp: put,
            delete_timestamp: delete,
            object_count: objects,
            bytes_used: bytes,
            deleted: delete > put && objects == 0,
            storage_policy_index: policy,
            rowid: None,
        }
    }

    fn hash(&self) -> u128 {
        let text = format!(
            "{}\n{}-{}-{}-{}",
            self.name, self.put_timestamp, self.delete_timestamp, self.object_count, self.bytes_used
        );
        xxh3_128(text.as_bytes())
    }
}

/// Account rows: newest put and newest delete each win; counts come from the newer report.
pub fn merge_container(old: &ContainerRow, new: &ContainerRow) -> Option<ContainerRow> {
    let mut merged = ContainerRow::report(
        new.name.clone(),
        old.put_timestamp.max(new.put_timestamp),
        old.delete_timestamp.max(new.delete_timestamp),
        new.object_count,
        new.bytes_used,
        new.storage_policy_index,
    );
    merged.deleted = merged.delete_timestamp > merged.put_timestamp && merged.object_count == 0;
    let same = ContainerRow { rowid: None, ..old.clone() };
    (merged != same).then_some(merged)
}

/// Rows of either kind, as replication moves them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Rows {
    Objects(Vec<ObjectRow>),
    Containers(Vec<ContainerRow>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Objects(v) => v.len(),
            Rows::Containers(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn max_rowid(&self) -> Option<i64> {
        match self {
            Rows::Objects(v) => v.iter().filter_map(|r| r.rowid).max(),
            Rows::Containers(v) => v.iter().filter_map(|r| r.rowid).max(),
        }
    }
}

/// Per-policy changes of (containers, objects, bytes) made by one batch.
#[derive(Default)]
struct Deltas {
    by_policy: BTreeMap<u32, (i64, i64, i64)>,
    hash: u128,
}

impl Deltas {
    fn add(&mut self, policy: u32, sign: i64, (c, o, b): (i64, i64, i64), hash: u128) {
        let e = self.by_policy.entry(policy).or_default();
        e.0 += sign * c;
        e.1 += sign * o;
        e.2 += sign * b;
        self.hash ^= hash;
    }

    fn changed_stats(&self) -> bool {
        self.by_policy.values().any(|&(c, o, b)| c != 0 || o != 0 || b != 0)
    }

    fn apply(&self, tx: &Transaction) -> rusqlite::Result<()> {
        // Cached statements: a batch is often one row, and parsing these cost as much as it.
        for (policy, (c, o, b)) in &self.by_policy {
            tx.prepare_cached(
                "INSERT INTO policy_stat (storage_policy_index, container_count, object_count, bytes_used)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT(storage_policy_index) DO UPDATE SET
                 container_count = container_count + ?2, object_count = object_count + ?3,
                 bytes_used = bytes_used + ?4",
            )?
            .execute(params![policy, c, o, b])?;
        }
        if self.hash != 0 {
            let old: String = tx.prepare_cached("SELECT hash FROM info")?.query_row([], |r| r.get(0))?;
            let old = u128::from_str_radix(&old, 16).unwrap_or(0);
            tx.prepare_cached("UPDATE info SET hash = ?1")?.execute([format!("{:032x}", old ^ self.hash)])?;
        }
        Ok(())
    }
}

fn object_stats(r: &ObjectRow) -> (i64, i64, i64) {
    if r.deleted {
        (0, 0, 0)
    } else {
        (0, 1, r.size as i64)
    }
}

fn container_stats(r: &ContainerRow) -> (i64, i64, i64) {
    (i64::from(!r.deleted), r.object_count, r.bytes_used)
}

fn read_object(r: &rusqlite::Row) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        rowid: Some(r.get(0)?),
        name: r.get(1)?,
        created_at: ts(&r.get::<_, String>(2)?)?,
        ctype_timestamp: Some(ts(&r.get::<_, String>(3)?)?),
        meta_timestamp: Some(ts(&r.get::<_, String>(4)?)?),
        size: r.get::<_, i64>(5)? as u64,
        content_type: r.get(6)?,
        etag: r.get(7)?,
        deleted: r.get::<_, i64>(8)? != 0,
        storage_policy_index: r.get(9)?,
    })
}

fn read_container(r: &rusqlite::Row) -> rusqlite::Result<ContainerRow> {
    Ok(ContainerRow {
        rowid: Some(r.get(0)?),
        name: r.get(1)?,
        put_timestamp: ts(&r.get::<_, String>(2)?)?,
        delete_timestamp: ts(&r.get::<_, String>(3)?)?,
        object_count: r.get(4)?,
        bytes_used: r.get(5)?,
        deleted: r.get::<_, i64>(6)? != 0,
        storage_policy_index: r.get(7)?,
    })
}

const OBJECT_COLS: &str = "ROWID, name, created_at, ctype_timestamp, meta_timestamp, size, content_type, etag, \
                           deleted, storage_policy_index";
const CONTAINER_COLS: &str =
    "ROWID, name, put_timestamp, delete_timestamp, object_count, bytes_used, deleted, storage_policy_index";

fn merge_objects_tx(tx: &Transaction, rows: &[ObjectRow], d: &mut Deltas) -> rusqlite::Result<()> {
    // Fold duplicates within the batch first, so each name costs one lookup.
    let mut folded: HashMap<(&str, u32), ObjectRow> = HashMap::with_capacity(rows.len());
    for r in rows {
        match folded.get_mut(&(r.name.as_str(), r.storage_policy_index)) {
            Some(cur) => {
                if let Some(m) = merge_object(cur, r) {
                    *cur = m;
                }
            }
            None => {
                folded.insert((r.name.as_str(), r.storage_policy_index), r.normalized());
            }
        }
    }
    let mut find = tx.prepare_cached(&format!(
        "SELECT {OBJECT_COLS} FROM object WHERE deleted IN (0, 1) AND storage_policy_index = ?1 AND name = ?2"
    ))?;
    let mut del = tx.prepare_cached("DELETE FROM object WHERE ROWID = ?1")?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO object (name, created_at, ctype_timestamp, meta_timestamp, size, content_type, etag,
                             deleted, storage_policy_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for ((name, policy), row) in folded {
        let existing = find.query_row(params![policy, name], read_object).optional()?;
        let row = match &existing {
            Some(old) => match merge_object(old, &row) {
                Some(m) => {
                    del.execute([old.rowid])?;
                    d.add(policy, -1, object_stats(old), old.hash());
                    m
                }
                None => continue,
            },
            None => row,
        };
        ins.execute(params![
            row.name,
            row.created_at.internal(),
            row.ctype_ts().internal(),
            row.meta_ts().internal(),
            row.size as i64,
            row.content_type,
            row.etag,
            row.deleted,
            row.storage_policy_index
        ])?;
        d.add(policy, 1, object_stats(&row), row.hash());
    }
    Ok(())
}

fn merge_containers_tx(tx: &Transaction, rows: &[ContainerRow], d: &mut Deltas) -> rusqlite::Result<()> {
    let mut find =
        tx.prepare_cached(&format!("SELECT {CONTAINER_COLS} FROM container WHERE deleted IN (0, 1) AND name = ?1"))?;
    let mut del = tx.prepare_cached("DELETE FROM container WHERE ROWID = ?1")?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO container (name, put_timestamp, delete_timestamp, object_count, bytes_used, deleted,
                                storage_policy_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    // Rows apply in order: a later report for the same container is the newer one.
    for r in rows {
        let mut incoming = r.clone();
        incoming.deleted = incoming.delete_timestamp > incoming.put_timestamp && incoming.object_count == 0;
        let existing = find.query_row([&r.name], read_container).optional()?;
        let row = match &existing {
            Some(old) => match merge_container(old, &incoming) {
                Some(m) => {
                    del.execute([old.rowid])?;
                    d.add(old.storage_policy_index, -1, container_stats(old), old.hash());
                    m
                }
                None => continue,
            },
            None => ContainerRow { rowid: None, ..incoming },
        };
        ins.execute(params![
            row.name,
            row.put_timestamp.internal(),
            row.delete_timestamp.internal(),
            row.object_count,
            row.bytes_used,
            row.deleted,
            row.storage_policy_index
        ])?;
        d.add(row.storage_policy_index, 1, container_stats(&row), row.hash());
    }
    Ok(())
}

/// What one merged batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Object/container counts or bytes changed (the account server should hear of it).
    pub stats_changed: bool,
}

impl Db {
    /// Merges `rows` in one transaction. With `source` (a replication peer's DB id) the
    /// peer's incoming sync point advances to the highest ROWID among the rows.
    pub fn merge_rows(&mut self, rows: &Rows, source: Option<&str>) -> Result<MergeOutcome> {
        let wrong_kind = match (self.kind, rows) {
            (DbKind::Container, Rows::Containers(v)) => !v.is_empty(),
            (DbKind::Account, Rows::Objects(v)) => !v.is_empty(),
            _ => false,
        };
        if wrong_kind {
            return Err(BrokerError::BadInput("rows of the wrong kind for this database".into()));
        }
        let path = self.path.clone();
        let sql = |e| BrokerError::sqlite(&path, e);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql)?;
        let mut d = Deltas::default();
        match rows {
            Rows::Objects(v) => merge_objects_tx(&tx, v, &mut d).map_err(sql)?,
            Rows::Containers(v) => merge_containers_tx(&tx, v, &mut d).map_err(sql)?,
        }
        d.apply(&tx).map_err(sql)?;
        if let (Some(remote), Some(point)) = (source, rows.max_rowid()) {
            super::replication::bump_sync(&tx, "incoming_sync", remote, point).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(MergeOutcome { stats_changed: d.changed_stats() })
    }

    /// Rows with ROWID above `point`, oldest first: what a peer past `point` lacks.
    pub fn items_since(&self, point: i64, count: usize) -> Result<Rows> {
        let (cols, table) = match self.kind {
            DbKind::Container => (OBJECT_COLS, "object"),
            DbKind::Account => (CONTAINER_COLS, "container"),
        };
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {cols} FROM {table} WHERE ROWID > ?1 ORDER BY ROWID LIMIT ?2"))
            .map_err(|e| self.err(e))?;
        let args = params![point, count as i64];
        let rows = match self.kind {
            DbKind::Container => {
                Rows::Objects(stmt.query_map(args, read_object).and_then(|m| m.collect()).map_err(|e| self.err(e))?)
            }
            DbKind::Account => Rows::Containers(
                stmt.query_map(args, read_container).and_then(|m| m.collect()).map_err(|e| self.err(e))?,
            ),
        };
        Ok(rows)
    }

    /// Deletes tombstone rows older than `age` (after every replica has had a reclaim age
    /// to learn of them); returns how many were removed.
    pub(crate) fn reclaim_rows(&mut self, age: Timestamp) -> Result<usize> {
        let path = self.path.clone();
        let sql = |e| BrokerError::sqlite(&path, e);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql)?;
        let mut d = Deltas::default();
        let mut removed = 0;
        {
            let age = age.internal();
            match self.kind {
                DbKind::Container => {
                    let mut q = tx
                        .prepare(&format!("SELECT {OBJECT_COLS} FROM object WHERE deleted = 1 AND meta_timestamp < ?1"))
                        .map_err(sql)?;
                    let dead: Vec<ObjectRow> =
                        q.query_map([&age], read_object).and_then(|m| m.collect()).map_err(sql)?;
                    for r in &dead {
                        d.add(r.storage_policy_index, -1, object_stats(r), r.hash());
                    }
                    removed = dead.len();
                    tx.execute("DELETE FROM object WHERE deleted = 1 AND meta_timestamp < ?1", [&age]).map_err(sql)?;
                }
                DbKind::Account => {
                    let mut q = tx
                        .prepare(&format!(
                            "SELECT {CONTAINER_COLS} FROM container WHERE deleted = 1 AND delete_timestamp < ?1"
                        ))
                        .map_err(sql)?;
                    let dead: Vec<ContainerRow> =
                        q.query_map([&age], read_container).and_then(|m| m.collect()).map_err(sql)?;
                    for r in &dead {
                        d.add(r.storage_policy_index, -1, container_stats(r), r.hash());
                        removed += 1;
                    }
                    tx.execute("DELETE FROM container WHERE deleted = 1 AND delete_timestamp < ?1", [&age])
                        .map_err(sql)?;
                }
            }
        }
        d.apply(&tx).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(removed)
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn rows_from_swift_replicators_carry_deleted_as_an_integer() {
        let swift = r#"{"name": "o", "created_at": "1700000000.00000", "size": 0, "content_type": "text/plain",
            "etag": "d41d8cd98f00b204e9800998ecf8427e", "deleted": 1, "storage_policy_index": 0}"#;
        assert!(serde_json::from_str::<ObjectRow>(swift).unwrap().deleted);
        let ours = swift.replace("\"deleted\": 1", "\"deleted\": false");
        assert!(!serde_json::from_str::<ObjectRow>(&ours).unwrap().deleted);
        let container = r#"{"name": "c", "put_timestamp": "1700000000.00000", "delete_timestamp": "0",
            "object_count": 0, "bytes_used": 0, "deleted": 0}"#;
        assert!(!serde_json::from_str::<ContainerRow>(container).unwrap().deleted);
    }
}
