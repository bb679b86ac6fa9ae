//! Server records in SQLite: what was asked for (image, flavor, networks), where it runs
//! (host) and its state (status, task, power state, fault).

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS servers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    image_id TEXT NOT NULL, flavor_id TEXT NOT NULL, host TEXT, status TEXT NOT NULL,
    task_state TEXT, power_state INTEGER NOT NULL DEFAULT 0, fault TEXT, fault_at INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}', network TEXT NOT NULL DEFAULT 'none',
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, launched_at INTEGER);
";

/// Nova's power states.
pub const NOSTATE: i64 = 0;
pub const RUNNING: i64 = 1;
pub const SHUTDOWN: i64 = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub user_id: String,
    pub image_id: String,
    pub flavor_id: String,
    pub host: Option<String>,
    /// BUILD, ACTIVE, SHUTOFF, REBOOT, HARD_REBOOT or ERROR.
    pub status: String,
    pub task_state: Option<String>,
    pub power_state: i64,
    pub fault: Option<String>,
    pub fault_at: Option<u64>,
    pub metadata: BTreeMap<String, String>,
    /// `none` or `auto`.
    pub network: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub launched_at: Option<u64>,
}

impl Server {
    /// Nova's `vm_state` for a status.
    pub fn vm_state(&self) -> &'static str {
        match self.status.as_str() {
            "BUILD" => "building",
            "SHUTOFF" => "stopped",
            "ERROR" => "error",
            _ => "active",
        }
    }
}

const COLS: &str = "id, name, project_id, user_id, image_id, flavor_id, host, status, task_state, power_state,
    fault, fault_at, metadata, network, created_at, updated_at, launched_at";

fn row(r: &Row) -> rusqlite::Result<Server> {
    let meta: String = r.get(12)?;
    Ok(Server {
        id: r.get(0)?,
        name: r.get(1)?,
        project_id: r.get(2)?,
        user_id: r.get(3)?,
        image_id: r.get(4)?,
        flavor_id: r.get(5)?,
        host: r.get(6)?,
        status: r.get(7)?,
        task_state: r.get(8)?,
        power_state: r.get(9)?,
        fault: r.get(10)?,
        fault_at: r.get::<_, Option<i64>>(11)?.map(|t| t as u64),
        metadata: serde_json::from_str(&meta)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(12, rusqlite::types::Type::Text, Box::new(e)))?,
        network: r.get(13)?,
        created_at: r.get::<_, i64>(14)? as u64,
        updated_at: r.get::<_, i64>(15)? as u64,
        launched_at: r.get::<_, Option<i64>>(16)?.map(|t| t as u64),
    })
}

pub fn get(c: &Connection, id: &str) -> Result<Option<Server>> {
    Ok(c.query_row(&format!("SELECT {COLS} FROM servers WHERE id = ?1"), [id], row).optional()?)
}

/// Servers of one project (or all, for `None`), oldest first.
pub fn list(c: &Connection, project: Option<&str>) -> Result<Vec<Server>> {
    let sql = format!("SELECT {COLS} FROM servers WHERE ?1 IS NULL OR project_id = ?1 ORDER BY created_at, id");
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map([project], row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn put(c: &Connection, s: &Server) -> Result<()> {
    c.execute(
        &format!("INSERT OR REPLACE INTO servers ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
        params![
            s.id,
            s.name,
            s.project_id,
            s.user_id,
            s.image_id,
            s.flavor_id,
            s.host,
            s.status,
            s.task_state,
            s.power_state,
            s.fault,
            s.fault_at.map(|t| t as i64),
            serde_json::to_string(&s.metadata).unwrap_or_else(|_| "{}".into()),
            s.network,
            s.created_at as i64,
            s.updated_at as i64,
            s.launched_at.map(|t| t as i64),
        ],
    )?;
    Ok(())
}

/// Sets the state fields of a server that still exists; false if it was deleted.
pub fn set_state(c: &Connection, id: &str, status: &str, task: Option<&str>, power: i64, now: u64) -> Result<bool> {
    let n = c.execute(
        "UPDATE servers SET status = ?2, task_state = ?3, power_state = ?4, updated_at = ?5,
         launched_at = CASE WHEN ?2 = 'ACTIVE' AND launched_at IS NULL THEN ?5 ELSE launched_at END
         WHERE id = ?1",
        params![id, status, task, power, now as i64],
    )?;
    Ok(n == 1)
}

pub fn set_host(c: &Connection, id: &str, host: &str) -> Result<bool> {
    Ok(c.execute("UPDATE servers SET host = ?2 WHERE id = ?1", [id, host])? == 1)
}

/// ERROR with a fault message for the API to show.
pub fn set_error(c: &Connection, id: &str, fault: &str, now: u64) -> Result<bool> {
    let n = c.execute(
        "UPDATE servers SET status = 'ERROR', task_state = NULL, power_state = ?3, fault = ?2, fault_at = ?4,
         updated_at = ?4 WHERE id = ?1",
        params![id, fault, NOSTATE, now as i64],
    )?;
    Ok(n == 1)
}

pub fn delete(c: &Connection, id: &str) -> Result<bool> {
    Ok(c.execute("DELETE FROM servers WHERE id = ?1", [id])? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changes() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        let s = Server {
            id: "s".into(),
            name: "vm".into(),
            project_id: "p".into(),
            user_id: "u".into(),
            image_id: "i".into(),
            flavor_id: "1".into(),
            host: None,
            status: "BUILD".into(),
            task_state: Some("scheduling".into()),
            power_state: NOSTATE,
            fault: None,
            fault_at: None,
            metadata: BTreeMap::from([("k".to_string(), "v".to_string())]),
            network: "none".into(),
            created_at: 1,
            updated_at: 1,
            launched_at: None,
        };
        put(&c, &s).unwrap();
        assert_eq!(get(&c, "s").unwrap().unwrap(), s);
        assert!(set_host(&c, "s", "h1").unwrap());
        assert!(set_state(&c, "s", "ACTIVE", None, RUNNING, 5).unwrap());
        let got = get(&c, "s").unwrap().unwrap();
        assert_eq!((got.status.as_str(), got.launched_at, got.host.as_deref()), ("ACTIVE", Some(5), Some("h1")));
        assert_eq!(got.vm_state(), "active");
        assert!(set_error(&c, "s", "boom", 6).unwrap());
        assert_eq!(get(&c, "s").unwrap().unwrap().fault.as_deref(), Some("boom"));
        assert_eq!(list(&c, Some("p")).unwrap().len(), 1);
        assert!(list(&c, Some("q")).unwrap().is_empty());
        assert!(delete(&c, "s").unwrap());
        assert!(!set_state(&c, "s", "ACTIVE", None, RUNNING, 7).unwrap(), "a deleted server stays deleted");
    }
}
