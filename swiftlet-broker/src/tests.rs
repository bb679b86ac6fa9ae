//! Broker tests on real SQLite files in temp dirs.

use super::*;
use common::Timestamp;
use std::time::Instant;

/// A directory removed when dropped (the common crate has no tempfile dependency).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let p =
            std::env::temp_dir().join(format!("swiftlet-broker-{}-{:016x}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn t(secs: u64) -> Timestamp {
    Timestamp::from_ticks(1_700_000_000 * 100_000 + secs * 100_000)
}

fn init(container: Option<&str>) -> DbInit {
    DbInit {
        account: "AUTH_test".into(),
        container: container.map(str::to_string),
        put_timestamp: t(0),
        storage_policy_index: 0,
        device: "sda".into(),
    }
}

fn container_db(dir: &std::path::Path) -> Db {
    Db::create(&dir.join("c.db"), DbKind::Container, &init(Some("c"))).unwrap()
}

fn obj(name: &str, ts: Timestamp, size: u64) -> ObjectRow {
    ObjectRow {
        name: name.into(),
        created_at: ts,
        ctype_timestamp: None,
        meta_timestamp: None,
        size,
        content_type: "text/plain".into(),
        etag: format!("etag-{size}"),
        deleted: false,
        storage_policy_index: 0,
        rowid: None,
    }
}

fn names(entries: &[Entry<ObjectEntry>]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            Entry::Item(o) => o.name.clone(),
            Entry::Subdir(s) => s.clone(),
        })
        .collect()
}

#[test]
fn create_is_atomic_and_refuses_to_overwrite() {
    let dir = TempDir::new();
    let db = container_db(dir.path());
    assert_eq!(db.schema_version().unwrap(), schema::latest_version(DbKind::Container));
    let info = db.info().unwrap();
    assert_eq!((info.object_count, info.put_timestamp, info.max_row), (0, t(0), -1));
    assert!(matches!(
        Db::create(&dir.path().join("c.db"), DbKind::Container, &init(Some("c"))),
        Err(BrokerError::AlreadyExists(_))
    ));
    // Only the DB itself is left in the directory (no temp files).
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(files.iter().all(|f| f.to_string_lossy().starts_with("c.db")), "{files:?}");
    assert!(matches!(Db::open(&dir.path().join("missing.db"), DbKind::Container), Err(BrokerError::NotFound(_))));
}

#[test]
fn old_schema_is_migrated_on_open() {
    let dir = TempDir::new();
    let path = dir.path().join("old.db");
    Db::create_at_version(&path, DbKind::Container, &init(Some("c")), Some(1)).unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(schema::user_version(&raw, &path).unwrap(), 1);
    assert!(raw.query_row("SELECT account_targets FROM info", [], |_| Ok(())).is_err(), "v1 lacks the column");
    drop(raw);
    let mut db = Db::open(&path, DbKind::Container).unwrap();
    assert_eq!(db.schema_version().unwrap(), 2);
    db.set_account_targets("x").unwrap();
    assert_eq!(db.account_targets().unwrap(), "x");
}

#[test]
fn newest_timestamp_wins_per_field_group() {
    let dir = TempDir::new();
    let mut db = container_db(dir.path());
    db.merge_rows(&Rows::Objects(vec![obj("o", t(10), 5)]), None).unwrap();
    // Older data loses; equal data is a no-op.
    let out = db.merge_rows(&Rows::Objects(vec![obj("o", t(9), 7), obj("o", t(10), 5)]), None).unwrap();
    assert!(!out.stats_changed);
    let list = db.list_objects(&ListParams::default(), 0).unwrap();
    assert!(matches!(&list[0], Entry::Item(o) if o.size == 5 && o.last_modified == t(10)));
    // A POST-style update: new content type and metadata time, data kept.
    let mut post = obj("o", t(10), 0);
    post.ctype_timestamp = Some(t(12));
    post.meta_timestamp = Some(t(13));
    post.content_type = "image/png".into();
    db.merge_rows(&Rows::Objects(vec![post]), None).unwrap();
    let list = db.list_objects(&ListParams::default(), 0).unwrap();
    assert!(
        matches!(&list[0], Entry::Item(o) if o.size == 5 && o.content_type == "image/png" && o.last_modified == t(13)),
        "{list:?}"
    );
    // A newer PUT replaces the data but an older content type does not win back.
    db.merge_rows(&Rows::Objects(vec![obj("o", t(11), 9)]), None).unwrap();
    let list = db.list_objects(&ListParams::default(), 0).unwrap();
    assert!(matches!(&list[0], Entry::Item(o) if o.size == 9 && o.content_type == "image/png"), "{list:?}");
    // A delete newer than everything removes it from listings and stats.
    db.merge_rows(&Rows::Objects(vec![ObjectRow::tombstone("o", t(20), 0)]), None).unwrap();
    assert!(db.list_objects(&ListParams::default(), 0).unwrap().is_empty());
    let info = db.info().unwrap();
    assert_eq!((info.object_count, info.bytes_used), (0, 0));
    // A late PUT older than the delete changes nothing.
    assert!(!db.merge_rows(&Rows::Objects(vec![obj("o", t(15), 3)]), None).unwrap().stats_changed);
    assert_eq!(db.info().unwrap().object_count, 0);
}

#[test]
fn swift_bytes_follow_the_data_timestamp() {
    let mut manifest = obj("m", t(10), 0);
    manifest.content_type = "text/plain;swift_bytes=100".into();
    let mut post = obj("m", t(5), 0);
    post.ctype_timestamp = Some(t(11));
    post.content_type = "image/gif".into();
    let merged = rows::merge_object(&manifest, &post).unwrap();
    assert_eq!(merged.content_type, "image/gif;swift_bytes=100");
    assert_eq!(rows::split_swift_bytes(&merged.content_type), ("image/gif", Some("100")));
}

#[test]
fn account_rows_keep_newest_put_and_delete() {
    let dir = TempDir::new();
    let mut db = Db::create(&dir.path().join("a.db"), DbKind::Account, &init(None)).unwrap();
    let rows = vec![
        ContainerRow::report("c1", t(1), t(0), 3, 30, 0),
        ContainerRow::report("c2", t(1), t(0), 1, 10, 0),
        ContainerRow::report("c2", t(0), t(5), 0, 0, 0),
    ];
    db.merge_rows(&Rows::Containers(rows), None).unwrap();
    let info = db.info().unwrap();
    assert_eq!((info.container_count, info.object_count, info.bytes_used), (1, 3, 30));
    // An older put for c2 cannot resurrect it.
    db.merge_rows(&Rows::Containers(vec![ContainerRow::report("c2", t(2), t(0), 0, 0, 0)]), None).unwrap();
    let live = db.list_containers(&ListParams::default()).unwrap();
    assert_eq!(live.len(), 1);
    assert!(matches!(&live[0], Entry::Item(c) if c.name == "c1" && c.object_count == 3));
    assert!(db.merge_rows(&Rows::Objects(vec![obj("x", t(1), 1)]), None).is_err(), "wrong kind");
}

/// The reference: filter, sort, roll up, as the listing API is specified.
fn reference(all: &[String], p: &ListParams) -> Vec<String> {
    let mut names: Vec<&String> = all.iter().collect();
    names.sort();
    if p.reverse {
        names.reverse();
    }
    let (lower, upper) = if p.reverse {
        (p.end_marker.clone().unwrap_or_default(), p.marker.clone())
    } else {
        (p.marker.clone(), p.end_marker.clone().unwrap_or_default())
    };
    let prefix = p.prefix.clone().unwrap_or_default();
    let orig_marker = if p.reverse { p.end_marker.clone().unwrap_or_default() } else { p.marker.clone() };
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if (!lower.is_empty() && n.as_str() <= lower.as_str()) || (!upper.is_empty() && n.as_str() >= upper.as_str()) {
            continue;
        }
        if !n.starts_with(&prefix) {
            continue;
        }
        let (entry, is_dir) = match &p.delimiter {
            Some(d) if !d.is_empty() => match n[prefix.len()..].find(d.as_str()) {
                Some(i) => (n[..prefix.len() + i + d.len()].to_string(), true),
                None => (n.clone(), false),
            },
            _ => (n.clone(), false),
        };
        if is_dir && (out.last() == Some(&entry) || entry == orig_marker) {
            continue;
        }
        out.push(entry);
    }
    out.truncate(p.limit);
    out
}

fn sample_names() -> Vec<String> {
    let mut v = Vec::new();
    for a in ["a", "b", "b/", "c", "é"] {
        for b in ["", "/", "/x", "/y/", "/y/z", "-1", "/y-2", "//"] {
            v.push(format!("{a}{b}"));
        }
    }
    v.sort();
    v.dedup();
    v
}

#[test]
fn every_listing_parameter_combination_matches_the_reference() {
    let dir = TempDir::new();
    let mut db = container_db(dir.path());
    let all = sample_names();
    db.merge_rows(&Rows::Objects(all.iter().map(|n| obj(n, t(1), 1)).collect()), None).unwrap();
    // A deleted row never shows.
    db.merge_rows(&Rows::Objects(vec![ObjectRow::tombstone("b/gone", t(2), 0)]), None).unwrap();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let mut checked = 0;
    for prefix in ["", "b", "b/", "é", "zz"] {
        for delimiter in ["", "/", "-", "/y"] {
            for marker in ["", "a", "b/", "b/x", "c/y/", "é//"] {
                for end_marker in ["", "b", "b/y", "c", "é/y"] {
                    for reverse in [false, true] {
                        for limit in [1, 3, 10_000] {
                            let p = ListParams {
                                limit,
                                marker: marker.into(),
                                end_marker: opt(end_marker),
                                prefix: opt(prefix),
                                delimiter: opt(delimiter),
                                path: None,
                                reverse,
                            };
                            let got = names(&db.list_objects(&p, 0).unwrap());
                            assert_eq!(got, reference(&all, &p), "{p:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 5 * 4 * 6 * 5 * 2 * 3);
}

#[test]
fn pagination_loses_and_repeats_nothing() {
    let dir = TempDir::new();
    let mut db = container_db(dir.path());
    let all = sample_names();
    db.merge_rows(&Rows::Objects(all.iter().map(|n| obj(n, t(1), 1)).collect()), None).unwrap();
    for (delimiter, reverse) in [(None, false), (None, true), (Some("/"), false), (Some("/"), true)] {
        let full = ListParams { delimiter: delimiter.map(str::to_string), reverse, ..Default::default() };
        let expected = names(&db.list_objects(&full, 0).unwrap());
        let mut got: Vec<String> = Vec::new();
        let mut marker = String::new();
        loop {
            let p = ListParams { limit: 2, marker: marker.clone(), ..full.clone() };
            let page = names(&db.list_objects(&p, 0).unwrap());
            let Some(last) = page.last() else { break };
            marker = last.clone();
            got.extend(page);
        }
        assert_eq!(got, expected, "delimiter {delimiter:?} reverse {reverse}");
    }
}

#[test]
fn path_lists_direct_children_only() {
    let dir = TempDir::new();
    let mut db = container_db(dir.path());
    let all = ["a", "a/", "a/b", "a/b/c", "a/b0", "a/d", "b"];
    db.merge_rows(&Rows::Objects(all.iter().map(|n| obj(n, t(1), 1)).collect()), None).unwrap();
    let p = ListParams { path: Some("a".into()), ..Default::default() };
    assert_eq!(names(&db.list_objects(&p, 0).unwrap()), ["a/b", "a/b0", "a/d"]);
    let p = ListParams { path: Some("a/".into()), reverse: true, ..Default::default() };
    assert_eq!(names(&db.list_objects(&p, 0).unwrap()), ["a/d", "a/b0", "a/b"]);
}

#[test]
fn listing_a_page_of_a_million_rows_uses_the_index() {
    let dir = TempDir::new();
    let db = container_db(dir.path());
    // Bulk-load 1,000,000 rows straight into the table (merge is tested elsewhere).
    db.conn
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
             INSERT INTO object (name, created_at, ctype_timestamp, meta_timestamp, size, content_type, etag,
                                 deleted, storage_policy_index)
             SELECT printf('dir%02d/obj%07d', i % 50, i), '1700000000.00000', '1700000000.00000',
                    '1700000000.00000', i, 'text/plain', 'e', 0, 0 FROM n;",
        )
        .unwrap();
    let cases = [
        ListParams::default(),
        ListParams { marker: "dir25/obj0500000".into(), ..Default::default() },
        ListParams { prefix: Some("dir07/".into()), ..Default::default() },
        ListParams {
            prefix: Some("dir07/".into()),
            marker: "dir07/obj0900000".into(),
            reverse: true,
            ..Default::default()
        },
        ListParams { end_marker: Some("dir30".into()), reverse: true, ..Default::default() },
    ];
    for p in &cases {
        let plan = db.explain_listing(p, 0).unwrap().join(" | ");
        assert!(plan.contains("USING INDEX ix_object_listing"), "{p:?}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "sorts instead of walking the index: {plan}");
        assert!(plan.contains("name>") || plan.contains("name<") || plan.contains("storage_policy_index=?"), "{plan}");
        let started = Instant::now();
        let page = db.list_objects(p, 0).unwrap();
        assert_eq!(page.len(), 10_000, "{p:?}");
        assert!(started.elapsed().as_secs_f64() < 2.0, "page took {:?}", started.elapsed());
    }
    // Rolling up 50 directories costs one seek each.
    let p = ListParams { delimiter: Some("/".into()), ..Default::default() };
    let started = Instant::now();
    assert_eq!(db.list_objects(&p, 0).unwrap().len(), 50);
    assert!(started.elapsed().as_secs_f64() < 1.0);
}

#[test]
fn replication_sync_points_and_merge() {
    let dir = TempDir::new();
    let mut a = Db::create(&dir.path().join("a.db"), DbKind::Container, &init(Some("c"))).unwrap();
    let mut b = Db::create(&dir.path().join("b.db"), DbKind::Container, &init(Some("c"))).unwrap();
    a.merge_rows(&Rows::Objects((0..25).map(|i| obj(&format!("o{i:02}"), t(1), i)).collect()), None).unwrap();
    b.merge_rows(&Rows::Objects(vec![obj("o03", t(5), 99), obj("zz", t(1), 1)]), None).unwrap();
    a.update_metadata(&[("X-Container-Meta-Color".to_string(), ("blue".to_string(), t(3)))].into(), true).unwrap();
    // a -> b: sync, then push rows above the point b holds for a, in chunks.
    let req = a.sync_request().unwrap();
    let reply = b.sync(&req).unwrap();
    assert_eq!(reply.point, -1);
    assert_eq!(b.metadata().unwrap()["X-Container-Meta-Color"].0, "blue");
    let mut point = reply.point;
    loop {
        let rows = a.items_since(point, 10).unwrap();
        let Rows::Objects(v) = &rows else { panic!() };
        let Some(last) = v.last().and_then(|r| r.rowid) else { break };
        b.merge_rows(&rows, Some(&req.id)).unwrap();
        point = last;
    }
    assert_eq!(b.get_sync(&req.id, true).unwrap(), a.info().unwrap().max_row);
    // b -> a the same way; then both hold the same rows and the same hash.
    let req_b = b.sync_request().unwrap();
    let p = a.sync(&req_b).unwrap().point;
    a.merge_rows(&b.items_since(p, 1000).unwrap(), Some(&req_b.id)).unwrap();
    let (ia, ib) = (a.info().unwrap(), b.info().unwrap());
    assert_eq!(ia.hash, ib.hash);
    assert_eq!((ia.object_count, ib.object_count), (26, 26));
    assert_eq!(ia.bytes_used, ib.bytes_used);
    // With equal hashes a sync call alone records the sender as caught up.
    let req = a.sync_request().unwrap();
    assert_eq!(b.sync(&req).unwrap().point, req.max_row);
    // Snapshot + newid: a copy with its own identity that knows it holds a's rows.
    let snap = dir.path().join("snap.db");
    a.snapshot_to(&snap).unwrap();
    let mut copy = Db::open(&snap, DbKind::Container).unwrap();
    copy.newid(&req.id, "sdb").unwrap();
    let ci = copy.info().unwrap();
    assert_ne!(ci.id, req.id);
    assert_eq!(ci.hash, ia.hash);
    assert_eq!(copy.get_sync(&req.id, true).unwrap(), ci.max_row);
}

#[test]
fn reclaim_drops_old_tombstones_metadata_and_sync_points() {
    let dir = TempDir::new();
    let mut db = container_db(dir.path());
    db.merge_rows(
        &Rows::Objects(vec![
            ObjectRow::tombstone("old", t(10), 0),
            ObjectRow::tombstone("new", t(1000), 0),
            obj("live", t(10), 4),
        ]),
        None,
    )
    .unwrap();
    db.update_metadata(&[("X-Container-Meta-Gone".to_string(), (String::new(), t(10)))].into(), false).unwrap();
    db.merge_syncs(&[SyncPoint { remote_id: "peer".into(), sync_point: 3, updated_at: 0 }], true).unwrap();
    let hash_before = db.info().unwrap().hash;
    let report = db.reclaim(t(500), Timestamp::from_ticks(Timestamp::now().ticks() + 100_000)).unwrap();
    assert_eq!(report, ReclaimReport { rows: 1, metadata_keys: 1, sync_points: 1 });
    let remaining = db.items_since(-1, 10).unwrap();
    let Rows::Objects(v) = remaining else { panic!() };
    let mut left: Vec<_> = v.iter().map(|r| r.name.as_str()).collect();
    left.sort();
    assert_eq!(left, ["live", "new"]);
    assert_ne!(db.info().unwrap().hash, hash_before, "the hash follows the rows");
    assert_eq!(db.info().unwrap().object_count, 1);
    assert!(db.metadata().unwrap().is_empty());
}

#[test]
fn deleted_container_lifecycle() {
    let dir = TempDir::new();
    let mut db = container_db(dir.path());
    db.update_metadata(&[("X-Container-Meta-A".to_string(), ("1".to_string(), t(1)))].into(), true).unwrap();
    db.delete_db(t(5)).unwrap();
    assert!(db.is_deleted().unwrap());
    assert_eq!(db.metadata().unwrap()["X-Container-Meta-A"].0, "");
    assert!(!db.is_reclaimable(t(10), std::time::Duration::from_secs(100)).unwrap());
    assert!(db.is_reclaimable(t(200), std::time::Duration::from_secs(100)).unwrap());
    db.update_put_timestamp(t(6)).unwrap();
    assert!(!db.is_deleted().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_merges_are_batched_and_all_committed() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path().join("sda")).unwrap();
    let cfg = StoreConfig { devices: dir.path().to_owned(), mount_check: false, ..Default::default() };
    let store = Store::new(DbKind::Container, cfg, common::HashPathSecret::new("p", "s"));
    let loc = store.location("sda", 3, "AUTH_test", Some("c"));
    assert!(store.create(&loc, init(Some("c"))).await.unwrap());
    assert!(!store.create(&loc, init(Some("c"))).await.unwrap());
    let mut tasks = Vec::new();
    for i in 0..400u64 {
        let (store, loc) = (store.clone(), loc.clone());
        tasks.push(tokio::spawn(async move {
            store.merge_rows(&loc, Rows::Objects(vec![obj(&format!("o{i:04}"), t(1), i)])).await.unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().stats_changed);
    }
    let info = store.info(&loc).await.unwrap();
    assert_eq!(info.object_count, 400);
    let stats = store.batch_stats();
    assert_eq!(stats.rows, 400);
    assert!(stats.batches < 100, "400 concurrent rows took {} commits", stats.batches);
    assert_eq!(info.bytes_used, (0..400).sum::<u64>() as i64);
    assert_eq!(store.walk("sda").await.unwrap(), vec![loc.clone()]);
    let unmounted = store.location("sdz", 3, "AUTH_test", Some("c"));
    assert!(matches!(store.info(&unmounted).await, Err(BrokerError::Unmounted(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_are_durable_by_group_sync_or_by_fsync_each() {
    for group_sync in [true, false] {
        let dir = TempDir::new();
        std::fs::create_dir_all(dir.path().join("sda")).unwrap();
        let cfg = StoreConfig { devices: dir.path().to_owned(), mount_check: false, group_sync, ..Default::default() };
        let store = Store::new(DbKind::Container, cfg, common::HashPathSecret::new("p", "s"));
        let loc = store.location("sda", 3, "AUTH_test", Some("c"));
        store.create(&loc, init(Some("c"))).await.unwrap();
        let group = common::group_sync::GroupSync::for_path(&dir.path().join("sda")).unwrap();

        let before = group.syncs();
        store.merge_rows(&loc, Rows::Objects(vec![obj("o1", t(1), 1)])).await.unwrap();
        let after_merge = group.syncs();
        let pragma: i64 = store
            .write(&loc, |db| Ok(db.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap()))
            .await
            .unwrap();
        let after_write = group.syncs();
        if group_sync {
            // NORMAL: the commit itself does not fsync; a group sync that began after it did.
            assert_eq!(pragma, 1);
            assert!(after_merge > before && after_write > after_merge, "{before} {after_merge} {after_write}");
        } else {
            assert_eq!(pragma, 2, "FULL: each commit fsyncs the WAL");
        }
        assert_eq!(store.info(&loc).await.unwrap().object_count, 1);
    }
}

mod order_independence {
    use super::*;
    use proptest::prelude::*;

    fn row_strategy() -> impl Strategy<Value = ObjectRow> {
        (0..4u8, 1..20u64, 0..3u64, 0..3u64, 0..100u64, any::<bool>(), 0..3u8).prop_map(
            |(name, data, ctype_delta, meta_delta, size, deleted, ct)| {
                let created = t(data);
                let ctype = (ctype_delta > 0).then(|| t(data + ctype_delta));
                let meta = (meta_delta > 0).then(|| t(data + ctype_delta + meta_delta));
                if deleted {
                    ObjectRow::tombstone(format!("o{name}"), created, 0)
                } else {
                    ObjectRow {
                        name: format!("o{name}"),
                        created_at: created,
                        ctype_timestamp: ctype,
                        meta_timestamp: meta,
                        size,
                        content_type: format!("type/{ct}"),
                        etag: format!("etag{size}"),
                        deleted: false,
                        storage_policy_index: 0,
                        rowid: None,
                    }
                }
            },
        )
    }

    fn state(db: &Db) -> (Vec<Entry<ObjectEntry>>, i64, i64, String) {
        let info = db.info().unwrap();
        (db.list_objects(&ListParams::default(), 0).unwrap(), info.object_count, info.bytes_used, info.hash)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Replicas that receive the same rows in any order, in any batching, converge:
        /// same listing, same stats, same hash (so replication sees them in sync).
        #[test]
        fn any_order_and_batching_converges(rows in proptest::collection::vec(row_strategy(), 1..24), split in 1..6usize) {
            let dir = TempDir::new();
            let mut a = Db::create(&dir.path().join("a.db"), DbKind::Container, &init(Some("c"))).unwrap();
            let mut b = Db::create(&dir.path().join("b.db"), DbKind::Container, &init(Some("c"))).unwrap();
            // a: one row per transaction, in order; b: reversed, in batches of `split`.
            for r in &rows {
                a.merge_rows(&Rows::Objects(vec![r.clone()]), None).unwrap();
            }
            let reversed: Vec<ObjectRow> = rows.iter().rev().cloned().collect();
            for chunk in reversed.chunks(split) {
                b.merge_rows(&Rows::Objects(chunk.to_vec()), None).unwrap();
            }
            prop_assert_eq!(state(&a), state(&b));
        }
    }
}
