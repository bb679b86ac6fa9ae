//! Image records in SQLite. The bytes live in the object store; a record says where
//! (`segments`: 0 for one object, n for n segments under a manifest).

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, visibility TEXT NOT NULL,
    protected INTEGER NOT NULL DEFAULT 0, os_hidden INTEGER NOT NULL DEFAULT 0, owner TEXT,
    disk_format TEXT, container_format TEXT, min_disk INTEGER NOT NULL DEFAULT 0,
    min_ram INTEGER NOT NULL DEFAULT 0, size INTEGER, checksum TEXT, os_hash_algo TEXT,
    os_hash_value TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]', properties TEXT NOT NULL DEFAULT '{}',
    segments INTEGER NOT NULL DEFAULT 0, segment_size INTEGER NOT NULL DEFAULT 0, upload_id TEXT);
";

#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub visibility: String,
    pub protected: bool,
    pub os_hidden: bool,
    pub owner: Option<String>,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub min_disk: i64,
    pub min_ram: i64,
    pub size: Option<u64>,
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    pub tags: Vec<String>,
    /// Glance's additional properties (`kernel_id`, `hypervisor_type`, ...): strings.
    pub properties: BTreeMap<String, String>,
    pub segments: u32,
    /// Bytes per segment (all but the last segment are this long).
    pub segment_size: u64,
    /// The upload in progress, so only it may finish the image.
    pub upload_id: Option<String>,
}

impl Image {
    /// A new image as Glance creates it: queued, shared, no data yet.
    pub fn queued(id: String, owner: Option<String>, now: u64) -> Image {
        Image {
            id,
            name: None,
            status: "queued".into(),
            visibility: "shared".into(),
            protected: false,
            os_hidden: false,
            owner,
            disk_format: None,
            container_format: None,
            min_disk: 0,
            min_ram: 0,
            size: None,
            checksum: None,
            os_hash_algo: None,
            os_hash_value: None,
            created_at: now,
            updated_at: now,
            tags: Vec::new(),
            properties: Default::default(),
            segments: 0,
            segment_size: 0,
            upload_id: None,
        }
    }
}

const COLS: &str = "id, name, status, visibility, protected, os_hidden, owner, disk_format, container_format,
    min_disk, min_ram, size, checksum, os_hash_algo, os_hash_value, created_at, updated_at, tags, properties,
    segments, segment_size, upload_id";

fn row(r: &Row) -> rusqlite::Result<Image> {
    let json_err = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let tags: String = r.get(17)?;
    let props: String = r.get(18)?;
    Ok(Image {
        id: r.get(0)?,
        name: r.get(1)?,
        status: r.get(2)?,
        visibility: r.get(3)?,
        protected: r.get(4)?,
        os_hidden: r.get(5)?,
        owner: r.get(6)?,
        disk_format: r.get(7)?,
        container_format: r.get(8)?,
        min_disk: r.get(9)?,
        min_ram: r.get(10)?,
        size: r.get::<_, Option<i64>>(11)?.map(|s| s as u64),
        checksum: r.get(12)?,
        os_hash_algo: r.get(13)?,
        os_hash_value: r.get(14)?,
        created_at: r.get::<_, i64>(15)? as u64,
        updated_at: r.get::<_, i64>(16)? as u64,
        tags: serde_json::from_str(&tags).map_err(|e| json_err(17, e))?,
        properties: serde_json::from_str(&props).map_err(|e| json_err(18, e))?,
        segments: r.get(19)?,
        segment_size: r.get::<_, i64>(20)? as u64,
        upload_id: r.get(21)?,
    })
}

pub fn get(c: &Connection, id: &str) -> Result<Option<Image>> {
    Ok(c.query_row(&format!("SELECT {COLS} FROM images WHERE id = ?1"), [id], row).optional()?)
}

pub fn all(c: &Connection) -> Result<Vec<Image>> {
    let mut st = c.prepare(&format!("SELECT {COLS} FROM images"))?;
    let rows = st.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Inserts or replaces the whole record.
pub fn put(c: &Connection, i: &Image) -> Result<()> {
    c.execute(
        &format!("INSERT OR REPLACE INTO images ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"),
        params![
            i.id,
            i.name,
            i.status,
            i.visibility,
            i.protected,
            i.os_hidden,
            i.owner,
            i.disk_format,
            i.container_format,
            i.min_disk,
            i.min_ram,
            i.size.map(|s| s as i64),
            i.checksum,
            i.os_hash_algo,
            i.os_hash_value,
            i.created_at as i64,
            i.updated_at as i64,
            serde_json::to_string(&i.tags).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(&i.properties).unwrap_or_else(|_| "{}".into()),
            i.segments,
            i.segment_size as i64,
            i.upload_id,
        ],
    )?;
    Ok(())
}

/// Claims a queued image for an upload: true when this upload now owns it.
pub fn begin_upload(c: &Connection, id: &str, upload_id: &str, now: u64) -> Result<bool> {
    let n = c.execute(
        "UPDATE images SET status = 'saving', upload_id = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'queued'",
        params![id, upload_id, now as i64],
    )?;
    Ok(n == 1)
}

/// What a finished upload learned about the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub size: u64,
    pub md5: String,
    pub sha512: String,
    pub segments: u32,
    pub segment_size: u64,
}

/// Marks the image active if this upload still owns it; false if it was deleted meanwhile.
pub fn finish_upload(c: &Connection, id: &str, upload_id: &str, u: &Uploaded, now: u64) -> Result<bool> {
    let n = c.execute(
        "UPDATE images SET status = 'active', size = ?3, checksum = ?4, os_hash_algo = 'sha512',
         os_hash_value = ?5, segments = ?6, segment_size = ?8, upload_id = NULL, updated_at = ?7
         WHERE id = ?1 AND upload_id = ?2 AND status = 'saving'",
        params![id, upload_id, u.size as i64, u.md5, u.sha512, u.segments, now as i64, u.segment_size as i64],
    )?;
    Ok(n == 1)
}

/// A failed upload puts the image back to `queued`, as Glance does.
pub fn abort_upload(c: &Connection, id: &str, upload_id: &str, now: u64) -> Result<()> {
    c.execute(
        "UPDATE images SET status = 'queued', upload_id = NULL, updated_at = ?3 WHERE id = ?1 AND upload_id = ?2",
        params![id, upload_id, now as i64],
    )?;
    Ok(())
}

pub fn delete(c: &Connection, id: &str) -> Result<bool> {
    Ok(c.execute("DELETE FROM images WHERE id = ?1", [id])? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn queued(id: &str) -> Image {
        Image {
            name: Some("n".into()),
            disk_format: Some("raw".into()),
            container_format: Some("bare".into()),
            tags: vec!["t".into()],
            properties: BTreeMap::from([("kernel_id".to_string(), "k".to_string())]),
            ..Image::queued(id.into(), Some("p".into()), 1)
        }
    }

    #[test]
    fn upload_state_machine() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        put(&c, &queued("a")).unwrap();
        assert_eq!(get(&c, "a").unwrap().unwrap(), queued("a"));
        assert!(begin_upload(&c, "a", "u1", 2).unwrap());
        assert!(!begin_upload(&c, "a", "u2", 2).unwrap(), "one upload at a time");
        abort_upload(&c, "a", "u1", 3).unwrap();
        assert_eq!(get(&c, "a").unwrap().unwrap().status, "queued");
        assert!(begin_upload(&c, "a", "u3", 4).unwrap());
        let up = Uploaded { size: 3, md5: "m".into(), sha512: "s".into(), segments: 2, segment_size: 2 };
        assert!(!finish_upload(&c, "a", "u1", &up, 5).unwrap(), "a stale upload cannot finish");
        assert!(finish_upload(&c, "a", "u3", &up, 5).unwrap());
        let img = get(&c, "a").unwrap().unwrap();
        assert_eq!((img.status.as_str(), img.size, img.segments), ("active", Some(3), 2));
        assert!(delete(&c, "a").unwrap());
        assert!(all(&c).unwrap().is_empty());
    }
}
