//! REPLICATE over HTTP between real servers (sync points, rows since a point, a whole DB
//! for a replica that lacks it), reclaim of old tombstones, and quarantine of damaged DBs.

mod support;

use common::Timestamp;
use http::StatusCode;
use std::sync::Arc;
use support::*;
use swiftlet_broker::{DbKind, DbLocation, Rows, Store, StoreConfig, SyncReply};

const C: &str = "/sda/3/AUTH_test/c";

/// A broker store over a server's devices dir: what a replicator on that node uses.
fn local_store(devices: &std::path::Path) -> Arc<Store> {
    let cfg = StoreConfig { devices: devices.to_owned(), mount_check: false, ..Default::default() };
    Store::new(DbKind::Container, cfg, secret())
}

fn loc(store: &Store) -> DbLocation {
    store.location("sda", 3, "AUTH_test", Some("c"))
}

async fn rpc(node: &Node, hash: &str, body: serde_json::Value) -> Resp {
    req(node.addr, "REPLICATE", &format!("/sda/3/{hash}"), &[], serde_json::to_vec(&body).unwrap()).await
}

async fn listing(node: &Node) -> Vec<String> {
    names(&req(node.addr, "GET", &format!("{C}?format=json"), &[], vec![]).await.json())
}

#[tokio::test]
async fn sync_points_rows_since_and_whole_db() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = container_server(&devices_dir(dirs[0].path()), 0, |_| {}).await;
    let b = container_server(&devices_dir(dirs[1].path()), 0, |_| {}).await;
    let c = container_server(&devices_dir(dirs[2].path()), 0, |_| {}).await;
    put_container(a.addr, C, 1).await;
    put_container(b.addr, C, 1).await;
    for i in 0..30 {
        put_row(a.addr, &format!("{C}/a{i:02}"), 2, i).await;
    }
    put_row(b.addr, &format!("{C}/b"), 2, 1).await;
    req(a.addr, "POST", C, &[("x-timestamp", &ts(3)), ("x-container-meta-color", "blue")], vec![]).await;

    // A's replicator: sync with B, then push the rows above the point B holds for A.
    let sa = local_store(&a.devices);
    let la = loc(&sa);
    let hash = la.hash.clone();
    let sync = sa.read(&la, |db| db.sync_request()).await.unwrap();
    let r = rpc(&b, &hash, serde_json::json!(["sync", sync])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let reply: SyncReply = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(reply.point, -1);
    assert_ne!(reply.info.hash, sync.hash);
    let mut point = reply.point;
    loop {
        let rows = sa.read(&la, move |db| db.items_since(point, 7)).await.unwrap();
        let Rows::Objects(v) = &rows else { panic!() };
        let Some(last) = v.last().and_then(|r| r.rowid) else { break };
        let r = rpc(&b, &hash, serde_json::json!(["merge_items", rows, sync.id])).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        point = last;
    }
    let mut want: Vec<String> = (0..30).map(|i| format!("a{i:02}")).collect();
    want.push("b".into());
    assert_eq!(listing(&b).await, want);
    let head = req(b.addr, "HEAD", C, &[], vec![]).await;
    assert_eq!(head.header("x-container-meta-color"), Some("blue"), "sync carries metadata");
    // B now holds A's sync point; a second sync answers with it.
    let syncs = rpc(&b, &hash, serde_json::json!(["get_syncs", true])).await.json();
    assert_eq!(syncs[0]["remote_id"], serde_json::json!(sync.id));
    assert_eq!(syncs[0]["sync_point"], serde_json::json!(sync.max_row));
    let again: SyncReply =
        serde_json::from_slice(&rpc(&b, &hash, serde_json::json!(["sync", sync])).await.body).unwrap();
    assert_eq!(again.point, sync.max_row);
    // Pull instead of push: rows since a point.
    let pulled = rpc(&b, &hash, serde_json::json!(["get_items_since", 25, 3])).await.json();
    assert_eq!(pulled.as_array().unwrap().len(), 3);
    assert!(pulled[0]["ROWID"].as_i64().unwrap() > 25);
    assert_eq!(
        rpc(&b, &hash, serde_json::json!(["merge_syncs", [{"remote_id": "x", "sync_point": 5}]])).await.status,
        StatusCode::ACCEPTED
    );

    // C lacks the DB: sync says 404, so A sends the whole DB.
    assert_eq!(rpc(&c, &hash, serde_json::json!(["sync", sync])).await.status, StatusCode::NOT_FOUND);
    let snap = dirs[0].path().join("snap.db");
    sa.snapshot(&la, snap.clone()).await.unwrap();
    let bytes = std::fs::read(&snap).unwrap();
    let path = format!("/sda/3/{hash}/db");
    let up = req(c.addr, "REPLICATE", &path, &[("x-remote-id", &sync.id)], bytes.clone()).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    assert_eq!(listing(&c).await, listing(&a).await);
    let info_c = local_store(&c.devices).info(&loc(&local_store(&c.devices))).await.unwrap();
    assert_ne!(info_c.id, sync.id, "an installed copy gets its own id");
    // Sent again while C has it: merged, not replaced.
    put_row(c.addr, &format!("{C}/only-on-c"), 4, 1).await;
    let up = req(c.addr, "REPLICATE", &path, &[("x-remote-id", &sync.id)], bytes.clone()).await;
    assert_eq!(up.status, StatusCode::ACCEPTED, "{}", up.text());
    assert!(listing(&c).await.contains(&"only-on-c".to_string()));

    // Bad replication input: 4xx and nothing installed.
    assert_eq!(rpc(&c, &hash, serde_json::json!(["bogus"])).await.status, StatusCode::BAD_REQUEST);
    let r = req(c.addr, "REPLICATE", &format!("/sda/3/{hash}"), &[], b"not json".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let other = secret().hash_hex("AUTH_test", Some("other"), None);
    let wrong = req(c.addr, "REPLICATE", &format!("/sda/3/{other}/db"), &[("x-remote-id", "r")], bytes).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "a DB sent to another hash's place");
    let junk = req(c.addr, "REPLICATE", &format!("/sda/3/{other}/db"), &[("x-remote-id", "r")], vec![7u8; 8192]).await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
    assert_eq!(req(c.addr, "HEAD", "/sda/3/AUTH_test/other", &[], vec![]).await.status, StatusCode::NOT_FOUND);
    let tmp = std::fs::read_dir(dirs[2].path().join("srv/sda/tmp")).unwrap().count();
    assert_eq!(tmp, 0, "received files are cleaned up");
    let r = req(c.addr, "REPLICATE", &format!("/sdz/3/{hash}"), &[], b"[\"get_syncs\", true]".to_vec()).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE);
}

#[tokio::test]
async fn reclaim_removes_old_tombstones_only() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    put_container(node.addr, C, 1).await;
    put_row(node.addr, &format!("{C}/live"), 2, 5).await;
    put_row(node.addr, &format!("{C}/gone"), 2, 5).await;
    delete_row(node.addr, &format!("{C}/gone"), 3).await;
    let now = Timestamp::now().secs();
    let recent = format!("{now}.00000");
    put_row(node.addr, &format!("{C}/recent"), 2, 1).await;
    req(node.addr, "DELETE", &format!("{C}/recent"), &[("x-timestamp", &recent)], vec![]).await;
    let store = local_store(&node.devices);
    let l = loc(&store);
    let week = Timestamp::from_ticks((now - 7 * 24 * 3600) * 100_000);
    let report = store.write(&l, move |db| db.reclaim(week, week)).await.unwrap();
    assert_eq!(report.rows, 1);
    let rows =
        req(node.addr, "REPLICATE", &format!("/sda/3/{}", l.hash), &[], br#"["get_items_since", -1, 100]"#.to_vec())
            .await
            .json();
    let mut left: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["live", "recent"]);
    assert_eq!(listing(&node).await, ["live"]);
    assert_eq!(req(node.addr, "HEAD", C, &[], vec![]).await.header("x-container-object-count"), Some("1"));
}

async fn corrupt_and_check(damage: impl FnOnce(&std::path::Path)) {
    let dir = tempfile::tempdir().unwrap();
    let devices = devices_dir(dir.path());
    let node = container_server(&devices, 0, |_| {}).await;
    let port = node.addr.port();
    put_container(node.addr, C, 1).await;
    for i in 0..1500 {
        put_row(node.addr, &format!("{C}/object-with-a-longish-name-{i:05}"), 2, i).await;
    }
    node.stop().await;
    let store = local_store(&devices);
    let l = loc(&store);
    let db = store.db_path(&l).unwrap();
    // The last batch's writer task may still hold the store for a moment after the
    // server stops; the DB closes (and SQLite removes its WAL) when that task ends.
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while wal.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!wal.exists(), "closed cleanly");
    damage(&db);
    let node = container_server(&devices, port, |_| {}).await;
    let r = req(node.addr, "GET", &format!("{C}?format=json"), &[], vec![]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "never served half-read: {}", r.text());
    assert!(!db.exists(), "moved away");
    let q = devices.join("sda/quarantined/containers").join(&l.hash).join(format!("{}.db", l.hash));
    assert!(q.is_file(), "quarantined at {}", q.display());
    assert_eq!(req(node.addr, "HEAD", C, &[], vec![]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_garbage_db_file_is_quarantined() {
    corrupt_and_check(|db| std::fs::write(db, vec![0x5au8; 64 * 1024]).unwrap()).await;
}

#[tokio::test]
async fn a_db_with_damaged_pages_is_quarantined() {
    corrupt_and_check(|db| {
        let mut bytes = std::fs::read(db).unwrap();
        // Keep page 1 (header and schema); scribble over the rest of the b-tree pages.
        let n = bytes.len();
        for b in &mut bytes[8192..n] {
            *b = 0xa5;
        }
        std::fs::write(db, bytes).unwrap();
    })
    .await;
}
