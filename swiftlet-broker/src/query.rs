//! Listings: prefix, delimiter, marker, end_marker, reverse, limit and path, answered from
//! the listing index as a name-range scan (never a table scan or a sort).
//!
//! With a delimiter, each "subdir" found ends the scan and the next one starts just past
//! it, so a page costs one index seek per subdir plus one row per entry, however many
//! rows share a subdir.

use super::db::{ts, Db};
use super::error::Result;
use super::DbKind;
use common::Timestamp;
use rusqlite::types::Value;

/// The parameters of one listing request (already validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub limit: usize,
    pub marker: String,
    pub end_marker: Option<String>,
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub path: Option<String>,
    pub reverse: bool,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams {
            limit: common::constraints::CONTAINER_LISTING_LIMIT,
            marker: String::new(),
            end_marker: None,
            prefix: None,
            delimiter: None,
            path: None,
            reverse: false,
        }
    }
}

/// A listing entry: a row, or a "directory" rolled up by the delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<T> {
    Item(T),
    Subdir(String),
}

/// An object in a container listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub name: String,
    /// The newest of the object's data, content-type and metadata timestamps.
    pub last_modified: Timestamp,
    pub size: u64,
    pub content_type: String,
    pub etag: String,
}

/// A container in an account listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEntry {
    pub name: String,
    pub object_count: i64,
    pub bytes_used: i64,
    pub put_timestamp: Timestamp,
    pub storage_policy_index: u32,
}

/// The smallest string greater than every string starting with `s` (its last char + 1);
/// `None` when no such bound exists.
fn after_prefix(s: &str) -> Option<String> {
    let last = s.chars().last()?;
    let mut code = u32::from(last) + 1;
    if (0xD800..0xE000).contains(&code) {
        code = 0xE000;
    }
    let next = char::from_u32(code)?;
    Some(format!("{}{next}", &s[..s.len() - last.len_utf8()]))
}

struct Spec {
    select: &'static str,
    /// Conditions that pick live rows (and the policy), with their arguments.
    fixed: &'static str,
    fixed_args: Vec<Value>,
}

fn spec(kind: DbKind, policy: u32) -> Spec {
    match kind {
        DbKind::Container => Spec {
            select: "SELECT name, meta_timestamp, size, content_type, etag FROM object",
            fixed: "deleted = 0 AND storage_policy_index = ?",
            fixed_args: vec![Value::Integer(i64::from(policy))],
        },
        DbKind::Account => Spec {
            select: "SELECT name, object_count, bytes_used, put_timestamp, storage_policy_index FROM container",
            fixed: "deleted = 0",
            fixed_args: vec![],
        },
    }
}

/// The state of a listing between its range scans.
struct Cursor {
    marker: Option<String>,
    end_marker: Option<String>,
    prefix: Option<String>,
    end_prefix: Option<String>,
    force_gte: bool,
}

impl Cursor {
    fn sql(&self, spec: &Spec, reverse: bool, limit: usize) -> (String, Vec<Value>) {
        let mut conds: Vec<&str> = vec![spec.fixed];
        let mut args = spec.fixed_args.clone();
        let prefix = self.prefix.as_deref().filter(|p| !p.is_empty());
        match (self.end_marker.as_deref().filter(|e| !e.is_empty()), &self.end_prefix) {
            (Some(e), end_prefix) if prefix.is_none() || !matches!(end_prefix.as_deref(), Some(ep) if e >= ep) => {
                conds.push("name < ?");
                args.push(Value::Text(e.to_string()));
            }
            (_, Some(ep)) if prefix.is_some() => {
                conds.push("name < ?");
                args.push(Value::Text(ep.clone()));
            }
            _ => {}
        }
        let marker = self.marker.as_deref().filter(|m| !m.is_empty());
        if let (true, Some(m)) = (self.force_gte, marker) {
            conds.push("name >= ?");
            args.push(Value::Text(m.to_string()));
        } else if let Some(m) = marker.filter(|m| !matches!(prefix, Some(p) if *m < p)) {
            conds.push("name > ?");
            args.push(Value::Text(m.to_string()));
        } else if let Some(p) = prefix {
            conds.push("name >= ?");
            args.push(Value::Text(p.to_string()));
        }
        args.push(Value::Integer(limit as i64));
        let order = if reverse { "DESC" } else { "ASC" };
        (format!("{} WHERE {} ORDER BY name {order} LIMIT ?", spec.select, conds.join(" AND ")), args)
    }
}

fn start(p: &ListParams) -> (Cursor, Option<String>, Option<String>) {
    let (mut marker, mut end_marker) = (Some(p.marker.clone()), p.end_marker.clone());
    if p.reverse {
        std::mem::swap(&mut marker, &mut end_marker);
    }
    let mut prefix = p.prefix.clone();
    let mut delimiter = p.delimiter.clone().filter(|d| !d.is_empty());
    let mut path = None;
    if let Some(raw) = &p.path {
        let dir = if raw.is_empty() { String::new() } else { format!("{}/", raw.trim_end_matches('/')) };
        prefix = Some(dir.clone());
        path = Some(dir);
        delimiter = Some("/".into());
    } else if delimiter.is_some() && prefix.is_none() {
        prefix = Some(String::new());
    }
    let end_prefix = prefix.as_deref().and_then(after_prefix);
    (Cursor { marker, end_marker, prefix, end_prefix, force_gte: false }, delimiter, path)
}

impl Db {
    fn list<T>(
        &self,
        p: &ListParams,
        spec: &Spec,
        read: fn(&rusqlite::Row) -> rusqlite::Result<T>,
        name_of: fn(&T) -> &str,
    ) -> Result<Vec<Entry<T>>> {
        let (mut cur, delimiter, path) = start(p);
        let orig_marker = cur.marker.clone();
        let mut results: Vec<Entry<T>> = Vec::new();
        while results.len() < p.limit {
            let (sql, args) = cur.sql(spec, p.reverse, p.limit - results.len());
            cur.force_gte = false;
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(|e| self.err(e))?;
            let (Some(prefix), Some(delim)) = (cur.prefix.clone(), delimiter.as_deref()) else {
                // No delimiter: the range scan is the answer.
                while let Some(row) = rows.next().map_err(|e| self.err(e))? {
                    results.push(Entry::Item(read(row).map_err(|e| self.err(e))?));
                }
                return Ok(results);
            };
            let mut seen = 0;
            while let Some(row) = rows.next().map_err(|e| self.err(e))? {
                seen += 1;
                let item = read(row).map_err(|e| self.err(e))?;
                let name = name_of(&item).to_string();
                if p.reverse {
                    cur.end_marker = Some(name.clone());
                } else {
                    cur.marker = Some(name.clone());
                }
                if results.len() >= p.limit {
                    return Ok(results);
                }
                let end = name.get(prefix.len()..).and_then(|rest| rest.find(delim)).map(|i| i + prefix.len());
                if let Some(path) = &path {
                    if name == *path {
                        continue;
                    }
                    // Deeper names under a path listing are skipped, not rolled up.
                    if let Some(end) = end.filter(|e| name.len() > e + delim.len()) {
                        self.skip_dir(&mut cur, &name, end, delim, p.reverse);
                        break;
                    }
                } else if let Some(end) = end {
                    self.skip_dir(&mut cur, &name, end, delim, p.reverse);
                    let dir = name[..end + delim.len()].to_string();
                    if Some(&dir) != orig_marker.as_ref() {
                        results.push(Entry::Subdir(dir));
                    }
                    break;
                }
                results.push(Entry::Item(item));
            }
            if seen == 0 {
                break;
            }
        }
        Ok(results)
    }

    /// Moves the cursor past every name under the directory `name[..end + delim]`.
    fn skip_dir(&self, cur: &mut Cursor, name: &str, end: usize, delim: &str, reverse: bool) {
        if reverse {
            cur.end_marker = Some(name[..end + delim.len()].to_string());
        } else {
            // The first name past the directory: the delimiter's last char + 1.
            cur.marker = after_prefix(&name[..end + delim.len()]);
            cur.force_gte = cur.marker.is_some();
        }
    }

    /// A page of a container listing (live objects of `policy`).
    pub fn list_objects(&self, p: &ListParams, policy: u32) -> Result<Vec<Entry<ObjectEntry>>> {
        self.list(p, &spec(DbKind::Container, policy), read_object_entry, |o| &o.name)
    }

    /// A page of an account listing (live containers).
    pub fn list_containers(&self, p: &ListParams) -> Result<Vec<Entry<ContainerEntry>>> {
        self.list(p, &spec(DbKind::Account, 0), read_container_entry, |c| &c.name)
    }

    /// The query plan of the first scan a listing makes (tests check it uses the index).
    pub fn explain_listing(&self, p: &ListParams, policy: u32) -> Result<Vec<String>> {
        let (cur, _, _) = start(p);
        let (sql, args) = cur.sql(&spec(self.kind, policy), p.reverse, p.limit);
        let mut stmt = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).map_err(|e| self.err(e))?;
        let plan = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .and_then(|m| m.collect())
            .map_err(|e| self.err(e))?;
        Ok(plan)
    }
}

fn read_object_entry(r: &rusqlite::Row) -> rusqlite::Result<ObjectEntry> {
    Ok(ObjectEntry {
        name: r.get(0)?,
        last_modified: ts(&r.get::<_, String>(1)?)?,
        size: r.get::<_, i64>(2)? as u64,
        content_type: r.get(3)?,
        etag: r.get(4)?,
    })
}

fn read_container_entry(r: &rusqlite::Row) -> rusqlite::Result<ContainerEntry> {
    Ok(ContainerEntry {
        name: r.get(0)?,
        object_count: r.get(1)?,
        bytes_used: r.get(2)?,
        put_timestamp: ts(&r.get::<_, String>(3)?)?,
        storage_policy_index: r.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::after_prefix;

    #[test]
    fn after_prefix_bumps_last_char() {
        assert_eq!(after_prefix("ab").as_deref(), Some("ac"));
        assert_eq!(after_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(after_prefix("x\u{d7ff}").as_deref(), Some("x\u{e000}"));
        assert_eq!(after_prefix(""), None);
        assert_eq!(after_prefix("\u{10ffff}"), None);
    }
}
