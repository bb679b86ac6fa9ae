//! One open database: creation (atomically, never half-built), opening with the connection
//! settings, and the `info` row (timestamps, status, metadata, reported stats).
//!
//! Connections use WAL; readers never block the writer. A connection either fsyncs each
//! commit before it returns (`synchronous=FULL`), or leaves that to its caller's group sync
//! ([`CommitSync`]); either way a 2xx is only sent for rows that are on disk.

use super::error::{BrokerError, Result};
use super::meta::{self, Metadata};
use super::schema;
use super::DbKind;
use common::path::StoragePath;
use common::Timestamp;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a connection waits for another writer's lock (Swift's broker timeout).
const BUSY_TIMEOUT: Duration = Duration::from_secs(25);

/// What a new database starts with.
#[derive(Debug, Clone)]
pub struct DbInit {
    pub account: String,
    /// `None` for an account DB.
    pub container: Option<String>,
    pub put_timestamp: Timestamp,
    pub storage_policy_index: u32,
    /// The device name, part of the new DB's replication id.
    pub device: String,
}

impl DbInit {
    /// A new account DB for `sp`'s account, on `sp`'s device.
    pub fn account(sp: &StoragePath, put_timestamp: Timestamp) -> DbInit {
        DbInit::new(sp, None, put_timestamp, 0)
    }

    /// A new container DB for `sp`'s container, on `sp`'s device.
    pub fn container(sp: &StoragePath, put_timestamp: Timestamp, storage_policy_index: u32) -> DbInit {
        DbInit::new(sp, sp.container.clone(), put_timestamp, storage_policy_index)
    }

    fn new(sp: &StoragePath, container: Option<String>, put_timestamp: Timestamp, storage_policy_index: u32) -> DbInit {
        DbInit {
            account: sp.account.clone(),
            container,
            put_timestamp,
            storage_policy_index,
            device: sp.device.clone(),
        }
    }
}

/// The `info` row plus the stats: what HEAD, account updates and replication need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInfo {
    pub account: String,
    pub container: Option<String>,
    pub id: String,
    pub created_at: Timestamp,
    pub put_timestamp: Timestamp,
    pub delete_timestamp: Timestamp,
    pub status: String,
    pub status_changed_at: Timestamp,
    pub hash: String,
    pub storage_policy_index: u32,
    /// For a container: objects in its own policy. For an account: all objects.
    pub object_count: i64,
    pub bytes_used: i64,
    /// Accounts only: containers not deleted.
    pub container_count: i64,
    pub reported_put_timestamp: Timestamp,
    pub reported_delete_timestamp: Timestamp,
    pub reported_object_count: i64,
    pub reported_bytes_used: i64,
    /// The highest ROWID ever used in the row table (-1 when none): the sync point.
    pub max_row: i64,
}

impl DbInfo {
    /// Deleted as clients see it: a container is deleted when empty and its delete
    /// timestamp is newer than its put timestamp; an account also when marked DELETED.
    pub fn is_deleted(&self, kind: DbKind) -> bool {
        match kind {
            DbKind::Container => self.object_count == 0 && self.delete_timestamp > self.put_timestamp,
            DbKind::Account => {
                self.status == "DELETED" || (self.container_count == 0 && self.delete_timestamp > self.put_timestamp)
            }
        }
    }

    /// Accounts: marked deleted by a DELETE (a PUT must not silently revive it).
    pub fn is_status_deleted(&self) -> bool {
        self.status == "DELETED" || self.delete_timestamp > self.put_timestamp
    }

    /// Whether the account server has not yet heard the current stats.
    pub fn needs_report(&self) -> bool {
        self.reported_put_timestamp != self.put_timestamp
            || self.reported_delete_timestamp != self.delete_timestamp
            || self.reported_object_count != self.object_count
            || self.reported_bytes_used != self.bytes_used
    }
}

/// How a connection makes its commits durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitSync {
    /// Each commit fsyncs the WAL before it returns (`synchronous=FULL`).
    Each,
    /// Commits return without an fsync (`synchronous=NORMAL`: the DB stays consistent after
    /// a crash, but may lose its newest commits). Whoever commits must make them durable,
    /// with a filesystem sync, before answering anyone.
    Deferred,
}

impl CommitSync {
    fn pragma(self) -> &'static str {
        match self {
            CommitSync::Each => "FULL",
            CommitSync::Deferred => "NORMAL",
        }
    }
}

pub struct Db {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) kind: DbKind,
}

pub(crate) fn ts(s: &str) -> rusqlite::Result<Timestamp> {
    s.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn configure(conn: &Connection, path: &Path, synchronous: &str) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| BrokerError::sqlite(path, e))?;
    // journal_mode answers with a row; the other pragmas answer nothing.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(|e| BrokerError::sqlite(path, e))?;
    conn.execute_batch(&format!("PRAGMA synchronous = {synchronous}; PRAGMA temp_store = MEMORY;"))
        .map_err(|e| BrokerError::sqlite(path, e))
}

fn new_db_id(device: &str) -> String {
    format!("{:032x}-{device}", rand::random::<u128>())
}

fn fsync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| BrokerError::io(dir, e))
}

impl Db {
    /// Creates the DB at `path`: built in a temp file beside it, fsynced, then linked into
    /// place (link fails if another creator won the race: `AlreadyExists`).
    pub fn create(path: &Path, kind: DbKind, init: &DbInit) -> Result<Db> {
        Self::create_at_version(path, kind, init, None)?;
        Self::open(path, kind)
    }

    /// `create` that leaves the file closed, stopping at schema version `upto` when given
    /// (tests of migrations build old versions with it).
    pub fn create_at_version(path: &Path, kind: DbKind, init: &DbInit, upto: Option<i64>) -> Result<()> {
        let dir = path.parent().ok_or_else(|| BrokerError::BadInput(format!("bad db path {}", path.display())))?;
        std::fs::create_dir_all(dir).map_err(|e| BrokerError::io(dir, e))?;
        let tmp = dir.join(format!(".{:016x}.tmp", rand::random::<u64>()));
        let built = Self::build(&tmp, kind, init, upto);
        let linked = built.and_then(|()| match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(BrokerError::AlreadyExists(path.to_owned())),
            Err(e) => Err(BrokerError::io(path, e)),
        });
        // The temp name is gone either way; the link (if made) is the only name left.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
        }
        linked?;
        fsync_dir(dir)
    }

    fn build(tmp: &Path, kind: DbKind, init: &DbInit, upto: Option<i64>) -> Result<()> {
        let sql = |e| BrokerError::sqlite(tmp, e);
        let mut conn = Connection::open(tmp).map_err(sql)?;
        // One fsync at the end instead of one per schema statement.
        configure(&conn, tmp, "OFF")?;
        schema::migrate(&mut conn, kind, tmp, upto)?;
        let now = Timestamp::now().internal();
        let put = init.put_timestamp.internal();
        conn.execute(
            "INSERT INTO info (one, account, container, db_id, created_at, put_timestamp, status_changed_at,
                               storage_policy_index) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            params![init.account, init.container, new_db_id(&init.device), now, put, init.storage_policy_index],
        )
        .map_err(sql)?;
        if kind == DbKind::Container {
            conn.execute("INSERT INTO policy_stat (storage_policy_index) VALUES (?1)", [init.storage_policy_index])
                .map_err(sql)?;
        }
        conn.close().map_err(|(_, e)| sql(e))?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| BrokerError::io(tmp, e))
    }

    /// Opens an existing DB (never creates one) and brings its schema up to date; each
    /// commit is fsynced.
    pub fn open(path: &Path, kind: DbKind) -> Result<Db> {
        Self::open_with(path, kind, CommitSync::Each)
    }

    /// `open`, with the commits made durable as `sync` says.
    pub fn open_with(path: &Path, kind: DbKind, sync: CommitSync) -> Result<Db> {
        if !path.is_file() {
            return Err(BrokerError::NotFound(path.to_owned()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| BrokerError::sqlite(path, e))?;
        configure(&conn, path, sync.pragma())?;
        schema::migrate(&mut conn, kind, path, None)?;
        let db = Db { conn, path: path.to_owned(), kind };
        let has_info: Option<i64> =
            db.conn.query_row("SELECT one FROM info", [], |r| r.get(0)).optional().map_err(|e| db.err(e))?;
        if has_info.is_none() {
            return Err(BrokerError::Corrupt { path: path.to_owned(), detail: "missing row in info table".into() });
        }
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> BrokerError {
        BrokerError::sqlite(&self.path, e)
    }

    /// The row table of this kind of DB.
    pub(crate) fn table(&self) -> &'static str {
        match self.kind {
            DbKind::Container => "object",
            DbKind::Account => "container",
        }
    }

    pub fn info(&self) -> Result<DbInfo> {
        let mut info = self
            .conn
            .query_row(
                "SELECT account, container, db_id, created_at, put_timestamp, delete_timestamp, status,
                        status_changed_at, hash, storage_policy_index, reported_put_timestamp,
                        reported_delete_timestamp, reported_object_count, reported_bytes_used FROM info",
                [],
                |r| {
                    Ok(DbInfo {
                        account: r.get(0)?,
                        container: r.get(1)?,
                        id: r.get(2)?,
                        created_at: ts(&r.get::<_, String>(3)?)?,
                        put_timestamp: ts(&r.get::<_, String>(4)?)?,
                        delete_timestamp: ts(&r.get::<_, String>(5)?)?,
                        status: r.get(6)?,
                        status_changed_at: ts(&r.get::<_, String>(7)?)?,
                        hash: r.get(8)?,
                        storage_policy_index: r.get(9)?,
                        object_count: 0,
                        bytes_used: 0,
                        container_count: 0,
                        reported_put_timestamp: ts(&r.get::<_, String>(10)?)?,
                        reported_delete_timestamp: ts(&r.get::<_, String>(11)?)?,
                        reported_object_count: r.get(12)?,
                        reported_bytes_used: r.get(13)?,
                        max_row: -1,
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        let (count_sql, arg): (&str, Option<u32>) = match self.kind {
            DbKind::Container => (
                "SELECT 0, object_count, bytes_used FROM policy_stat WHERE storage_policy_index = ?1",
                Some(info.storage_policy_index),
            ),
            DbKind::Account => (
                "SELECT coalesce(sum(container_count), 0), coalesce(sum(object_count), 0),
                        coalesce(sum(bytes_used), 0) FROM policy_stat",
                None,
            ),
        };
        let stats: Option<(i64, i64, i64)> = match arg {
            Some(p) => self.conn.query_row(count_sql, [p], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional(),
            None => self.conn.query_row(count_sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional(),
        }
        .map_err(|e| self.err(e))?;
        let (containers, objects, bytes) = stats.unwrap_or((0, 0, 0));
        info.container_count = containers;
        info.object_count = objects;
        info.bytes_used = bytes;
        info.max_row = self.max_row()?;
        Ok(info)
    }

    /// The highest ROWID ever handed out (AUTOINCREMENT remembers it even after deletes).
    pub fn max_row(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT seq FROM sqlite_sequence WHERE name = ?1", [self.table()], |r| r.get(0))
            .optional()
            .map(|v| v.unwrap_or(-1))
            .map_err(|e| self.err(e))
    }

    pub fn is_deleted(&self) -> Result<bool> {
        Ok(self.info()?.is_deleted(self.kind))
    }

    /// Whether no live rows remain (in any policy, for a container).
    pub fn is_empty(&self) -> Result<bool> {
        let sql = match self.kind {
            DbKind::Container => "SELECT coalesce(max(object_count), 0) FROM policy_stat",
            DbKind::Account => "SELECT coalesce(sum(container_count), 0) FROM policy_stat",
        };
        let n: i64 = self.conn.query_row(sql, [], |r| r.get(0)).map_err(|e| self.err(e))?;
        Ok(n <= 0)
    }

    /// Raises the put timestamp (never lowers it).
    pub fn update_put_timestamp(&mut self, t: Timestamp) -> Result<()> {
        let t = t.internal();
        self.conn
            .execute("UPDATE info SET put_timestamp = ?1 WHERE put_timestamp < ?1", [&t])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn update_status_changed_at(&mut self, t: Timestamp) -> Result<()> {
        let t = t.internal();
        self.conn
            .execute("UPDATE info SET status_changed_at = ?1 WHERE status_changed_at < ?1", [&t])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Switches a (deleted, recreated) container to another policy.
    pub fn set_storage_policy_index(&mut self, index: u32, t: Timestamp) -> Result<()> {
        let tx = self.conn.transaction().map_err(|e| BrokerError::sqlite(&self.path, e))?;
        let sql = |e| BrokerError::sqlite(&self.path, e);
        tx.execute("INSERT OR IGNORE INTO policy_stat (storage_policy_index) VALUES (?1)", [index]).map_err(sql)?;
        tx.execute(
            "UPDATE info SET storage_policy_index = ?1, status_changed_at = max(status_changed_at, ?2)",
            params![index, t.internal()],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// Marks the DB deleted at `t` and clears its metadata (as deletion markers at `t`).
    pub fn delete_db(&mut self, t: Timestamp) -> Result<()> {
        let mut md = self.metadata()?;
        let cleared: Metadata = md.keys().map(|k| (k.clone(), (String::new(), t))).collect();
        meta::merge(&mut md, &cleared);
        let ti = t.internal();
        let tx = self.conn.transaction().map_err(|e| BrokerError::sqlite(&self.path, e))?;
        let sql = |e| BrokerError::sqlite(&self.path, e);
        tx.execute("UPDATE info SET metadata = ?1", [meta::to_json(&md)]).map_err(sql)?;
        tx.execute(
            "UPDATE info SET delete_timestamp = ?1, status = 'DELETED', status_changed_at = ?1
             WHERE delete_timestamp < ?1",
            [&ti],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)
    }

    pub fn metadata(&self) -> Result<Metadata> {
        let text: String =
            self.conn.query_row("SELECT metadata FROM info", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        meta::from_json(&text).map_err(|detail| BrokerError::Corrupt { path: self.path.clone(), detail })
    }

    /// Merges metadata updates (newest timestamp per key wins). With `validate`, refuses
    /// (changing nothing) when the result would exceed the metadata limits.
    pub fn update_metadata(&mut self, updates: &Metadata, validate: bool) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(|e| BrokerError::sqlite(&self.path, e))?;
        let sql = |e| BrokerError::sqlite(&self.path, e);
        let text: String = tx.query_row("SELECT metadata FROM info", [], |r| r.get(0)).map_err(sql)?;
        let mut md =
            meta::from_json(&text).map_err(|detail| BrokerError::Corrupt { path: self.path.clone(), detail })?;
        if !meta::merge(&mut md, updates) {
            return Ok(());
        }
        if validate {
            meta::validate(&md).map_err(BrokerError::BadInput)?;
        }
        tx.execute("UPDATE info SET metadata = ?1", [meta::to_json(&md)]).map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// Replication: keeps the oldest created_at and the newest put/delete timestamps.
    pub fn merge_timestamps(&mut self, created_at: Timestamp, put: Timestamp, delete: Timestamp) -> Result<()> {
        let was_deleted = self.is_deleted()?;
        self.conn
            .execute(
                "UPDATE info SET created_at = min(created_at, ?1), put_timestamp = max(put_timestamp, ?2),
                                 delete_timestamp = max(delete_timestamp, ?3)",
                params![created_at.internal(), put.internal(), delete.internal()],
            )
            .map_err(|e| self.err(e))?;
        if was_deleted != self.is_deleted()? {
            self.update_status_changed_at(Timestamp::now())?;
        }
        Ok(())
    }

    /// Records what the account server was last told.
    pub fn set_reported(&mut self, put: Timestamp, delete: Timestamp, objects: i64, bytes: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE info SET reported_put_timestamp = ?1, reported_delete_timestamp = ?2,
                                 reported_object_count = ?3, reported_bytes_used = ?4",
                params![put.internal(), delete.internal(), objects, bytes],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Containers: where to report stats (opaque text chosen by the container server).
    pub fn account_targets(&self) -> Result<String> {
        self.conn.query_row("SELECT account_targets FROM info", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    pub fn set_account_targets(&mut self, targets: &str) -> Result<()> {
        self.conn.execute("UPDATE info SET account_targets = ?1", [targets]).map(drop).map_err(|e| self.err(e))
    }

    /// Runs `f` inside one read transaction, so everything it reads (info, metadata and a
    /// listing page) comes from the same commit.
    pub fn read_consistent<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN DEFERRED").map_err(|e| self.err(e))?;
        let r = f(self);
        let end = if r.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end).map_err(|e| self.err(e))?;
        r
    }

    /// The schema version this file is at.
    pub fn schema_version(&self) -> Result<i64> {
        schema::user_version(&self.conn, &self.path)
    }
}
