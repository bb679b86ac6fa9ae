//! Identity data in SQLite: projects, users (argon2 password hashes), roles, role
//! assignments and revocation events (written and read by [`super::revocations`]). Everything lives in the one domain `Default`.

use crate::error::{Result, ShimError};
use rusqlite::{params, Connection, OptionalExtension, Row};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '', enabled INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1, default_project_id TEXT);
CREATE TABLE IF NOT EXISTS roles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS assignments (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id, role_id));
-- An older version's revoked token ids; moved into revocation_events when opened.
CREATE TABLE IF NOT EXISTS revoked (token_id TEXT PRIMARY KEY, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revocation_events (
    id INTEGER PRIMARY KEY, audit_id TEXT, user_id TEXT, project_id TEXT,
    issued_before INTEGER NOT NULL, revoked_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
";

pub const DOMAIN_ID: &str = "default";
pub const DOMAIN_NAME: &str = "Default";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub default_project_id: Option<String>,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub name: String,
}

fn project_row(r: &Row) -> rusqlite::Result<Project> {
    Ok(Project { id: r.get(0)?, name: r.get(1)?, description: r.get(2)?, enabled: r.get(3)? })
}

fn user_row(r: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        enabled: r.get(2)?,
        default_project_id: r.get(3)?,
        password_hash: r.get(4)?,
    })
}

fn role_row(r: &Row) -> rusqlite::Result<Role> {
    Ok(Role { id: r.get(0)?, name: r.get(1)? })
}

const PROJECT_COLS: &str = "id, name, description, enabled";
const USER_COLS: &str = "id, name, enabled, default_project_id, password_hash";

/// A UNIQUE violation means the name is taken: 409, as Keystone answers.
fn conflict(what: &str) -> impl Fn(rusqlite::Error) -> ShimError + '_ {
    move |e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            ShimError::Conflict(format!("Conflict occurred attempting to store {what} - Duplicate entry."))
        }
        e => ShimError::Db(e),
    }
}

pub fn is_empty(c: &Connection) -> Result<bool> {
    Ok(c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))? == 0)
}

/// How a request names a user or a project: by id, or by name (in the one domain).
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Id(&'a str),
    Name(&'a str),
}

fn find<T>(c: &Connection, table: &str, cols: &str, key: Key, row: RowFn<T>) -> Result<Option<T>> {
    let (column, value) = match key {
        Key::Id(v) => ("id", v),
        Key::Name(v) => ("name", v),
    };
    let sql = format!("SELECT {cols} FROM {table} WHERE {column} = ?1");
    Ok(c.query_row(&sql, [value], row).optional()?)
}

/// Every row of `table`, or those named `name`, by name.
fn list<T>(c: &Connection, table: &str, cols: &str, name: Option<&str>, row: RowFn<T>) -> Result<Vec<T>> {
    let sql = format!("SELECT {cols} FROM {table} WHERE ?1 IS NULL OR name = ?1 ORDER BY name");
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map([name], row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

type RowFn<T> = fn(&rusqlite::Row) -> rusqlite::Result<T>;

pub fn project(c: &Connection, id: &str) -> Result<Option<Project>> {
    project_by(c, Key::Id(id))
}

pub fn project_by(c: &Connection, key: Key) -> Result<Option<Project>> {
    find(c, "projects", PROJECT_COLS, key, project_row)
}

pub fn projects(c: &Connection, name: Option<&str>) -> Result<Vec<Project>> {
    list(c, "projects", PROJECT_COLS, name, project_row)
}

pub fn insert_project(c: &Connection, p: &Project) -> Result<()> {
    c.execute(
        "INSERT INTO projects (id, name, description, enabled) VALUES (?1, ?2, ?3, ?4)",
        params![p.id, p.name, p.description, p.enabled],
    )
    .map_err(conflict("project"))?;
    Ok(())
}

pub fn update_project(c: &Connection, p: &Project) -> Result<()> {
    c.execute(
        "UPDATE projects SET name = ?2, description = ?3, enabled = ?4 WHERE id = ?1",
        params![p.id, p.name, p.description, p.enabled],
    )
    .map_err(conflict("project"))?;
    Ok(())
}

pub fn delete_project(c: &Connection, id: &str) -> Result<bool> {
    Ok(c.execute("DELETE FROM projects WHERE id = ?1", [id])? > 0)
}

pub fn user(c: &Connection, id: &str) -> Result<Option<User>> {
    user_by(c, Key::Id(id))
}

pub fn user_by(c: &Connection, key: Key) -> Result<Option<User>> {
    find(c, "users", USER_COLS, key, user_row)
}

pub fn users(c: &Connection, name: Option<&str>) -> Result<Vec<User>> {
    list(c, "users", USER_COLS, name, user_row)
}

pub fn insert_user(c: &Connection, u: &User) -> Result<()> {
    c.execute(
        "INSERT INTO users (id, name, password_hash, enabled, default_project_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![u.id, u.name, u.password_hash, u.enabled, u.default_project_id],
    )
    .map_err(conflict("user"))?;
    Ok(())
}

pub fn update_user(c: &Connection, u: &User) -> Result<()> {
    c.execute(
        "UPDATE users SET name = ?2, password_hash = ?3, enabled = ?4, default_project_id = ?5 WHERE id = ?1",
        params![u.id, u.name, u.password_hash, u.enabled, u.default_project_id],
    )
    .map_err(conflict("user"))?;
    Ok(())
}

pub fn delete_user(c: &Connection, id: &str) -> Result<bool> {
    Ok(c.execute("DELETE FROM users WHERE id = ?1", [id])? > 0)
}

pub fn role(c: &Connection, id: &str) -> Result<Option<Role>> {
    Ok(c.query_row("SELECT id, name FROM roles WHERE id = ?1", [id], role_row).optional()?)
}

pub fn roles(c: &Connection, name: Option<&str>) -> Result<Vec<Role>> {
    list(c, "roles", "id, name", name, role_row)
}

pub fn insert_role(c: &Connection, r: &Role) -> Result<()> {
    c.execute("INSERT INTO roles (id, name) VALUES (?1, ?2)", params![r.id, r.name]).map_err(conflict("role"))?;
    Ok(())
}

pub fn delete_role(c: &Connection, id: &str) -> Result<bool> {
    Ok(c.execute("DELETE FROM roles WHERE id = ?1", [id])? > 0)
}

/// The user's roles on the project.
pub fn roles_on(c: &Connection, user_id: &str, project_id: &str) -> Result<Vec<Role>> {
    let mut st = c.prepare(
        "SELECT r.id, r.name FROM assignments a JOIN roles r ON r.id = a.role_id
         WHERE a.user_id = ?1 AND a.project_id = ?2 ORDER BY r.name",
    )?;
    let rows = st.query_map([user_id, project_id], role_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Projects the user has any role on.
pub fn projects_of(c: &Connection, user_id: &str) -> Result<Vec<Project>> {
    let mut st = c.prepare(
        "SELECT DISTINCT p.id, p.name, p.description, p.enabled FROM assignments a
         JOIN projects p ON p.id = a.project_id WHERE a.user_id = ?1 ORDER BY p.name",
    )?;
    let rows = st.query_map([user_id], project_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn assign(c: &Connection, user_id: &str, project_id: &str, role_id: &str) -> Result<()> {
    c.execute("INSERT OR IGNORE INTO assignments VALUES (?1, ?2, ?3)", [user_id, project_id, role_id])?;
    Ok(())
}

pub fn unassign(c: &Connection, user_id: &str, project_id: &str, role_id: &str) -> Result<bool> {
    let n = c.execute(
        "DELETE FROM assignments WHERE user_id = ?1 AND project_id = ?2 AND role_id = ?3",
        [user_id, project_id, role_id],
    )?;
    Ok(n > 0)
}

/// The (user, project) pairs that hold the role.
pub fn holders_of_role(c: &Connection, role_id: &str) -> Result<Vec<(String, String)>> {
    let mut st = c.prepare("SELECT user_id, project_id FROM assignments WHERE role_id = ?1")?;
    let rows = st.query_map([role_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// One user to create when the database is new: name, password hash, project, role.
pub struct Seed {
    pub user: String,
    pub password_hash: String,
    pub project: String,
    pub role: String,
}

/// Fills a new database: the standard roles, then each seed's project, user and assignment.
pub fn bootstrap(c: &mut Connection, seeds: &[Seed]) -> Result<()> {
    let tx = c.transaction()?;
    for name in ["admin", "member", "reader", "ResellerAdmin", "service"] {
        insert_role(&tx, &Role { id: crate::web::new_hex_id(), name: name.into() })?;
    }
    for s in seeds {
        let project = match project_by(&tx, Key::Name(&s.project))? {
            Some(p) => p,
            None => {
                let p = Project {
                    id: crate::web::new_hex_id(),
                    name: s.project.clone(),
                    description: String::new(),
                    enabled: true,
                };
                insert_project(&tx, &p)?;
                p
            }
        };
        let user = User {
            id: crate::web::new_hex_id(),
            name: s.user.clone(),
            enabled: true,
            default_project_id: Some(project.id.clone()),
            password_hash: s.password_hash.clone(),
        };
        insert_user(&tx, &user)?;
        let role =
            roles(&tx, Some(&s.role))?.pop().ok_or_else(|| ShimError::Internal(format!("no role {}", s.role)))?;
        assign(&tx, &user.id, &project.id, &role.id)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_and_assignments() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        c.execute_batch(SCHEMA).unwrap();
        assert!(is_empty(&c).unwrap());
        let seed = |u: &str, p: &str, r: &str| Seed {
            user: u.into(),
            password_hash: "h".into(),
            project: p.into(),
            role: r.into(),
        };
        bootstrap(&mut c, &[seed("admin", "admin", "admin"), seed("demo", "demo", "member")]).unwrap();
        let demo = user_by(&c, Key::Name("demo")).unwrap().unwrap();
        let p = project_by(&c, Key::Name("demo")).unwrap().unwrap();
        assert_eq!(demo.default_project_id.as_deref(), Some(p.id.as_str()));
        assert_eq!(roles_on(&c, &demo.id, &p.id).unwrap()[0].name, "member");
        assert_eq!(projects_of(&c, &demo.id).unwrap(), vec![p.clone()]);
        let dup = insert_user(&c, &User { id: "x".into(), ..demo.clone() });
        assert!(matches!(dup, Err(ShimError::Conflict(_))));
        assert!(delete_project(&c, &p.id).unwrap());
        assert!(roles_on(&c, &demo.id, &p.id).unwrap().is_empty(), "assignments go with the project");
        let token = swiftlet_token::RevocationEvent::token("t1", &demo.id, 100, 50);
        super::super::revocations::record(&c, token, 50).unwrap();
        let revoked = |now| {
            let events = super::super::revocations::load(&c, now).unwrap();
            events.into_iter().map(|e| (e.audit_id.unwrap_or_default(), e.expires_at)).collect::<Vec<_>>()
        };
        assert_eq!(revoked(60), vec![("t1".to_string(), 100)]);
        assert!(revoked(100).is_empty());
    }
}
