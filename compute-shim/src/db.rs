//! One SQLite database per service, used only from blocking threads so the runtime never
//! waits on disk.

use crate::error::{Result, ShimError};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and applies `schema` (idempotent
    /// `CREATE ... IF NOT EXISTS` statements).
    pub async fn open(path: &Path, schema: &'static str) -> Result<Db> {
        let path = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let conn = Connection::open(&path)?;
            // WAL + FULL: a committed write survives a crash; readers do not block the writer.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(schema)?;
            Ok(conn)
        })
        .await
        .map_err(|e| ShimError::Internal(format!("database open task: {e}")))??;
        Ok(Db { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the connection itself is still
            // consistent (SQLite rolls back the open transaction), so keep using it.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| ShimError::Internal(format!("database task: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/t.db");
        let schema = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT);";
        let db = Db::open(&path, schema).await.unwrap();
        db.call(|c| Ok(c.execute("INSERT INTO t VALUES ('a', 'b')", [])?)).await.unwrap();
        drop(db);
        let db = Db::open(&path, schema).await.unwrap();
        let v: String = db.call(|c| Ok(c.query_row("SELECT v FROM t WHERE k = 'a'", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(v, "b");
    }
}
