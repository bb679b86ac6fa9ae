//! REPLICATE suffix hashes, SSYNC pushes between two servers, quarantine on GET and by the
//! auditor hook.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use support::{files_under, object_files, Clock, Server};
use swiftlet_object_store::ssync::{self, SsyncTarget};
use swiftlet_object_store::{audit_object, AuditOutcome};

async fn hashes(s: &Server, path: &str) -> BTreeMap<String, String> {
    let r = s.req("REPLICATE", path, &[], "").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    serde_json::from_slice(&r.body).unwrap()
}

fn data_file(s: &Server, name: &str) -> PathBuf {
    object_files(&s.device_path("sda"))
        .into_iter()
        .find(|p| {
            p.extension().is_some_and(|e| e == "data") && {
                let hash = s.devices.secret().hash_hex("AUTH_t", Some("c"), Some(name));
                p.to_string_lossy().contains(&hash)
            }
        })
        .unwrap()
}

fn flip_byte(path: &PathBuf, offset: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, offset).unwrap();
    b[0] ^= 0xff;
    f.write_all_at(&b, offset).unwrap();
}

#[tokio::test]
async fn replicate_reports_and_refreshes_suffix_hashes() {
    let s = Server::start().await;
    let c = Clock::new();
    assert!(hashes(&s, "/sda/4").await.is_empty());
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let r = s
            .req(
                "PUT",
                &format!("/sda/4/AUTH_t/c/{name}"),
                &[("x-timestamp", &c.at(i as u64)), ("content-type", "x/y")],
                "v",
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let h1 = hashes(&s, "/sda/4").await;
    assert_eq!(h1.len(), 3);
    assert_eq!(hashes(&s, "/sda/4").await, h1, "stable without writes");
    // A write invalidates its suffix; only that hash changes.
    let suffix_b = s.devices.secret().hash_hex("AUTH_t", Some("c"), Some("b"))[29..].to_string();
    assert_eq!(s.req("DELETE", "/sda/4/AUTH_t/c/b", &[("x-timestamp", &c.at(9))], "").await.status, 204);
    let h2 = hashes(&s, "/sda/4").await;
    let changed: Vec<_> = h2.iter().filter(|(k, v)| h1.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect();
    assert_eq!(changed, vec![suffix_b.clone()]);
    assert_eq!(hashes(&s, &format!("/sda/4/{suffix_b}-abc")).await, h2);
    assert_eq!(s.req("REPLICATE", "/sda/4/zz", &[], "").await.status, 400);
    assert_eq!(s.req("REPLICATE", "/nodev/4", &[], "").await.status, 507);
}

#[tokio::test]
async fn ssync_pushes_only_what_the_peer_lacks_and_newer_wins() {
    let a = Server::start().await;
    let b = Server::start().await;
    let c = Clock::new();
    let ct = ("content-type", "x/y");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    assert_eq!(a.req("PUT", "/sda/9/AUTH_t/c/data", &[("x-timestamp", &c.at(1)), ct], "payload").await.status, 201);
    assert_eq!(a.req("PUT", "/sda/9/AUTH_t/c/big", &[("x-timestamp", &c.at(1)), ct], big.clone()).await.status, 201);
    assert_eq!(a.req("PUT", "/sda/9/AUTH_t/c/posted", &[("x-timestamp", &c.at(1)), ct], "p").await.status, 201);
    let meta = [("x-timestamp", c.at(2)), ("x-object-meta-k", "v".to_string())];
    let meta: Vec<(&str, &str)> = meta.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(a.req("POST", "/sda/9/AUTH_t/c/posted", &meta, "").await.status, 202);
    assert_eq!(a.req("DELETE", "/sda/9/AUTH_t/c/gone", &[("x-timestamp", &c.at(3))], "").await.status, 404);
    // The peer already has a newer version of one object and an older one of another.
    assert_eq!(a.req("PUT", "/sda/9/AUTH_t/c/contested", &[("x-timestamp", &c.at(4)), ct], "a-old").await.status, 201);
    assert_eq!(b.req("PUT", "/sda/9/AUTH_t/c/contested", &[("x-timestamp", &c.at(5)), ct], "b-new").await.status, 201);
    assert_eq!(b.req("PUT", "/sda/9/AUTH_t/c/data", &[("x-timestamp", &c.at(0)), ct], "stale").await.status, 201);

    let dev = a.devices.get("sda").await.unwrap();
    let target = SsyncTarget { addr: b.addr.to_string(), device: "sdb".into() };
    // Pushing to B's other device: everything is missing there.
    let client = support::cluster_client();
    let report = ssync::send(&client, &dev, 9, None, &target, Duration::from_secs(30)).await.unwrap();
    assert_eq!((report.offered, report.wanted), (5, 5));
    assert_eq!((report.puts, report.deletes, report.posts), (4, 1, 1));
    assert_eq!(report.bytes, 7 + 3_000_000 + 1 + 5, "body bytes of the four PUTs");
    assert_eq!(report.remote.applied, 6);

    let target = SsyncTarget { addr: b.addr.to_string(), device: "sda".into() };
    let report = ssync::send(&client, &dev, 9, None, &target, Duration::from_secs(30)).await.unwrap();
    assert_eq!(report.offered, 5);
    assert_eq!(report.wanted, 4, "all but the object B has newer");
    assert!(report.remote.failed.is_empty(), "{:?}", report.remote.failed);
    assert_eq!(b.req("GET", "/sda/9/AUTH_t/c/data", &[], "").await.body, "payload");
    assert_eq!(b.req("GET", "/sda/9/AUTH_t/c/big", &[], "").await.body, big);
    assert_eq!(b.req("GET", "/sda/9/AUTH_t/c/contested", &[], "").await.body, "b-new");
    let posted = b.req("HEAD", "/sda/9/AUTH_t/c/posted", &[], "").await;
    assert_eq!(
        (posted.header("x-object-meta-k"), posted.header("x-backend-timestamp")),
        (Some("v"), Some(c.at(2).as_str()))
    );
    let gone = b.req("GET", "/sda/9/AUTH_t/c/gone", &[], "").await;
    assert_eq!((gone.status, gone.header("x-backend-timestamp")), (404, Some(c.at(3).as_str())));

    // Nothing is sent twice, and suffix hashes agree except where B is newer.
    let again = ssync::send(&client, &dev, 9, None, &target, Duration::from_secs(30)).await.unwrap();
    assert_eq!((again.wanted, again.puts), (0, 0));
    let (ha, hb) = (hashes(&a, "/sda/9").await, hashes(&b, "/sda/9").await);
    let differing = ha.iter().filter(|(k, v)| hb.get(*k) != Some(v)).count();
    assert_eq!(differing, 1);
    let remote = ssync::fetch_remote_hashes(&client, &target, 9, &[], Duration::from_secs(5)).await.unwrap();
    assert_eq!(remote, hb);

    // Only some suffixes.
    let suffix = a.devices.secret().hash_hex("AUTH_t", Some("c"), Some("data"))[29..].to_string();
    let t3 = SsyncTarget { addr: b.addr.to_string(), device: "sdb".into() };
    let one = ssync::send(&client, &dev, 9, Some(vec![suffix]), &t3, Duration::from_secs(30)).await.unwrap();
    assert!(one.offered >= 1 && one.offered < 5);
}

#[tokio::test]
async fn corrupt_objects_are_quarantined_on_get() {
    let s = Server::start().await;
    let c = Clock::new();
    let ct = ("content-type", "x/y");
    assert_eq!(
        s.req("PUT", "/sda/1/AUTH_t/c/small", &[("x-timestamp", &c.at(1)), ct], "hello world").await.status,
        201
    );
    let big: Vec<u8> = vec![7u8; 3 << 20];
    assert_eq!(s.req("PUT", "/sda/1/AUTH_t/c/big", &[("x-timestamp", &c.at(1)), ct], big).await.status, 201);
    let before = hashes(&s, "/sda/1").await;

    flip_byte(&data_file(&s, "small"), 3);
    assert_eq!(s.req("GET", "/sda/1/AUTH_t/c/small", &[], "").await.status, 404);
    let quarantined = files_under(&s.device_path("sda/quarantined/objects"));
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_ne!(hashes(&s, "/sda/1").await, before, "replication sees the loss");

    // A large body is verified as it streams: the client never gets a complete body.
    flip_byte(&data_file(&s, "big"), (3 << 20) - 10);
    let req = http::Request::get(format!("http://{}/sda/1/AUTH_t/c/big", s.addr)).body(common::http::empty()).unwrap();
    let resp = s.client.send(req, Duration::from_secs(10)).await.unwrap();
    assert_eq!(resp.status(), 200);
    use http_body_util::BodyExt;
    let got = resp.into_body().collect().await;
    assert!(got.is_err() || got.unwrap().to_bytes().len() < 3 << 20);
    assert_eq!(s.req("GET", "/sda/1/AUTH_t/c/big", &[], "").await.status, 404);
    assert_eq!(files_under(&s.device_path("sda/quarantined/objects")).len(), 2);

    // A body cut short on disk ends the stream early and is quarantined.
    let long: Vec<u8> = vec![9u8; 1 << 20];
    assert_eq!(s.req("PUT", "/sda/1/AUTH_t/c/cut", &[("x-timestamp", &c.at(1)), ct], long).await.status, 201);
    std::fs::OpenOptions::new().write(true).open(data_file(&s, "cut")).unwrap().set_len(300 << 10).unwrap();
    let req = http::Request::get(format!("http://{}/sda/1/AUTH_t/c/cut", s.addr)).body(common::http::empty()).unwrap();
    let resp = s.client.send(req, Duration::from_secs(10)).await.unwrap();
    let got = resp.into_body().collect().await;
    assert!(got.is_err() || got.unwrap().to_bytes().len() < 1 << 20);
    assert_eq!(s.req("GET", "/sda/1/AUTH_t/c/cut", &[], "").await.status, 404);
    assert_eq!(files_under(&s.device_path("sda/quarantined/objects")).len(), 3);

    // Unreadable metadata is quarantined too.
    assert_eq!(s.req("PUT", "/sda/1/AUTH_t/c/meta", &[("x-timestamp", &c.at(1)), ct], "m").await.status, 201);
    xattr::set(data_file(&s, "meta"), "user.swiftlet.metadata", b"SWM\x01broken-broken").unwrap();
    assert_eq!(s.req("HEAD", "/sda/1/AUTH_t/c/meta", &[], "").await.status, 404);
    assert_eq!(files_under(&s.device_path("sda/quarantined/objects")).len(), 4);
}

#[tokio::test]
async fn auditor_hook_verifies_and_quarantines() {
    let s = Server::start().await;
    let c = Clock::new();
    let ct = ("content-type", "x/y");
    for name in ["good", "bad", "deleted"] {
        let r = s
            .req("PUT", &format!("/sda/3/AUTH_t/c/{name}"), &[("x-timestamp", &c.at(1)), ct], vec![1u8; 100_000])
            .await;
        assert_eq!(r.status, 201);
    }
    assert_eq!(s.req("DELETE", "/sda/3/AUTH_t/c/deleted", &[("x-timestamp", &c.at(2))], "").await.status, 204);
    flip_byte(&data_file(&s, "bad"), 50_000);
    let dev = s.devices.get("sda").await.unwrap();
    let manager = dev.manager.clone();
    let outcomes = dev
        .pool
        .run(move || {
            let mut out = BTreeMap::new();
            for suffix in manager.suffixes(3).unwrap() {
                for hash in manager.hashes(3, &suffix).unwrap() {
                    out.insert(hash.clone(), audit_object(&manager, 3, &hash).unwrap());
                }
            }
            out
        })
        .await
        .unwrap();
    let secret = s.devices.secret();
    let of = |n: &str| outcomes[&secret.hash_hex("AUTH_t", Some("c"), Some(n))].clone();
    assert_eq!(of("good"), AuditOutcome::Ok { bytes: 100_000 });
    assert!(matches!(of("bad"), AuditOutcome::Quarantined { .. }));
    assert_eq!(of("deleted"), AuditOutcome::NoData);
    assert_eq!(s.req("GET", "/sda/3/AUTH_t/c/bad", &[], "").await.status, 404);
    assert_eq!(s.req("GET", "/sda/3/AUTH_t/c/good", &[], "").await.status, 200);
}

/// Rewrites a small object's metadata as older versions stored it: a BLAKE3 checksum.
fn make_legacy_blake3(path: &PathBuf, body: &[u8]) {
    let mut meta = common::metadata::decode(&xattr::get(path, "user.swiftlet.metadata").unwrap().unwrap()).unwrap();
    assert_eq!(meta.remove("xxh3-128").map(|h| h.len()), Some(32), "new objects carry XXH3-128");
    meta.insert("blake3".into(), blake3::hash(body).to_hex().to_string());
    xattr::set(path, "user.swiftlet.metadata", &common::metadata::encode(&meta)).unwrap();
}

#[tokio::test]
async fn objects_with_a_legacy_blake3_checksum_are_still_verified() {
    let (a, b) = (Server::start().await, Server::start().await);
    let c = Clock::new();
    let ct = ("content-type", "x/y");
    for name in ["old", "old-bad"] {
        let r = a.req("PUT", &format!("/sda/5/AUTH_t/c/{name}"), &[("x-timestamp", &c.at(1)), ct], "legacy body").await;
        assert_eq!(r.status, 201);
        make_legacy_blake3(&data_file(&a, name), b"legacy body");
    }
    flip_byte(&data_file(&a, "old-bad"), 2);
    assert_eq!(a.req("GET", "/sda/5/AUTH_t/c/old", &[], "").await.body, "legacy body");
    assert_eq!(a.req("GET", "/sda/5/AUTH_t/c/old-bad", &[], "").await.status, 404, "BLAKE3 mismatch quarantines");

    // SSYNC keeps the sender's algorithm, and the receiver verifies with it.
    let dev = a.devices.get("sda").await.unwrap();
    let target = SsyncTarget { addr: b.addr.to_string(), device: "sda".into() };
    let client = support::cluster_client();
    let report = ssync::send(&client, &dev, 5, None, &target, Duration::from_secs(30)).await.unwrap();
    assert_eq!((report.puts, report.remote.applied), (1, 1), "{:?}", report.remote.failed);
    let copy = data_file(&b, "old");
    let meta = common::metadata::decode(&xattr::get(&copy, "user.swiftlet.metadata").unwrap().unwrap()).unwrap();
    assert_eq!(meta.get("blake3"), Some(&blake3::hash(b"legacy body").to_hex().to_string()));
    assert!(!meta.contains_key("xxh3-128"));
    let manager = b.devices.get("sda").await.unwrap().manager.clone();
    let hash = b.devices.secret().hash_hex("AUTH_t", Some("c"), Some("old"));
    assert_eq!(audit_object(&manager, 5, &hash).unwrap(), AuditOutcome::Ok { bytes: 11 });
}
