//! Healing: the replicators, auditor, updater and expirer against a whole in-process
//! cluster (4 nodes, 3 replicas), probe-style — break something, run one pass of the
//! daemons, and check every replica directly on its storage server.

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use swiftlet_tests::{Session, TestCluster};

const ACCOUNT: &str = "AUTH_test";

fn body_of(name: &str, len: usize) -> Vec<u8> {
    let seed = name.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    (0..len).map(|i| (seed.wrapping_add(i as u32 * 13) % 251) as u8).collect()
}

/// PUTs every name (body from `body_of`) through the proxy, a few at a time.
async fn put_all(t: &TestCluster, s: &Session, container: &str, names: &[String], len: usize) {
    let puts = names.iter().map(|name| async move {
        let r = t.req(s, Method::PUT, &format!("/{container}/{name}")).body(body_of(name, len)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "PUT {name}");
    });
    futures::stream::iter(puts).buffer_unordered(16).collect::<Vec<_>>().await;
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:04}")).collect()
}

/// A replica's storage server: `http://ip:port/dev/part`.
fn replica_base(dev_ip: &str, port: u16, device: &str, part: u32) -> String {
    format!("http://{dev_ip}:{port}/{device}/{part}")
}

/// The object's primaries as `(base url, device name)`.
fn object_primaries(t: &TestCluster, container: &str, name: &str) -> Vec<(String, String)> {
    let ring = t.cluster.object_ring();
    let (part, nodes) = ring.get_nodes(&t.cluster.secret, ACCOUNT, Some(container), Some(name));
    nodes.iter().map(|d| (replica_base(&d.ip, d.port, &d.device, part), d.device.clone())).collect()
}

/// GETs the object from each primary directly; returns how many served exactly `want`
/// (`None`: how many answered 404).
async fn replicas_with(t: &TestCluster, container: &str, name: &str, want: Option<&[u8]>) -> usize {
    let mut n = 0;
    for (base, _) in object_primaries(t, container, name) {
        let r = t.backend(Method::GET, &format!("{base}/{ACCOUNT}/{container}/{name}"), &[]).send().await.unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        match want {
            Some(w) if status == StatusCode::OK && body.as_ref() == w => n += 1,
            None if status == StatusCode::NOT_FOUND => n += 1,
            _ => {}
        }
    }
    n
}

/// Checks every object has 3 good replicas (`Some(body)`), or 3 primaries that say 404.
async fn assert_replicas(t: &TestCluster, container: &str, expect: &[(String, Option<Vec<u8>>)]) {
    let checks = expect.iter().map(|(name, body)| async move {
        let good = replicas_with(t, container, name, body.as_deref()).await;
        assert_eq!(good, 3, "{name}: {good} of 3 primaries hold the expected state");
    });
    futures::stream::iter(checks).buffer_unordered(16).collect::<Vec<_>>().await;
}

/// The listing of one container (or account, with `container = None`) on each primary.
async fn listings(t: &TestCluster, container: Option<&str>) -> Vec<BTreeSet<String>> {
    let ring = match container {
        Some(_) => t.cluster.container_ring(),
        None => t.cluster.account_ring(),
    };
    let (part, nodes) = ring.get_nodes(&t.cluster.secret, ACCOUNT, container, None);
    let mut out = Vec::new();
    for d in nodes {
        let path = match container {
            Some(c) => format!("{ACCOUNT}/{c}"),
            None => ACCOUNT.to_string(),
        };
        let url = format!("{}/{path}?format=json&limit=10000", replica_base(&d.ip, d.port, &d.device, part));
        let r = t.backend(Method::GET, &url, &[]).send().await.unwrap();
        assert!(r.status().is_success(), "listing on {}: {}", d.device, r.status());
        let rows: Vec<serde_json::Value> = r.json().await.unwrap();
        out.push(rows.iter().map(|v| v["name"].as_str().unwrap().to_string()).collect());
    }
    out
}

/// Every copy of the object's hash directory across the cluster's devices, by device.
fn copies_on_disk(t: &TestCluster, container: &str, name: &str) -> BTreeSet<String> {
    let ring = t.cluster.object_ring();
    let hash = t.cluster.secret.hash_hex(ACCOUNT, Some(container), Some(name));
    let mut found = BTreeSet::new();
    for d in ring.devices() {
        let dir = t.cluster.device_path(&d.device).unwrap().join("objects");
        let Ok(parts) = std::fs::read_dir(&dir) else { continue };
        for p in parts.flatten() {
            let hash_dir = p.path().join(&hash[29..]).join(&hash);
            let live = std::fs::read_dir(&hash_dir).map(|rd| rd.count() > 0).unwrap_or(false);
            if live {
                found.insert(format!("{}:{}", d.device, p.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// The devices holding a copy of the object that are not its primaries.
fn handoff_copies(t: &TestCluster, container: &str, name: &str) -> Vec<String> {
    let primaries: BTreeSet<String> = object_primaries(t, container, name).into_iter().map(|(_, d)| d).collect();
    copies_on_disk(t, container, name)
        .into_iter()
        .filter(|c| !primaries.contains(c.split(':').next().unwrap_or("")))
        .collect()
}

fn wipe(dir: &Path) {
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::create_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_wiped_device_is_whole_again_after_one_pass() {
    let mut t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(t.req(&s, Method::PUT, "/c").send().await.unwrap().status(), 201);
    let all = names("obj", 1000);
    put_all(&t, &s, "c", &all, 1024).await;

    t.cluster.stop_node(0).await;
    wipe(&t.cluster.device_dir(0));
    t.cluster.start_node(0).await.unwrap();
    // The wiped node now lacks its share: some object whose primary it is answers 404 there.
    let on_node0 = all.iter().find(|n| object_primaries(&t, "c", n).iter().any(|(_, d)| d == "sdb1")).unwrap();
    let (base, _) = object_primaries(&t, "c", on_node0).into_iter().find(|(_, d)| d == "sdb1").unwrap();
    let r = t.backend(Method::GET, &format!("{base}/{ACCOUNT}/c/{on_node0}"), &[]).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let pass = t.cluster.run_replicators_once().await.unwrap();
    assert_eq!(pass.failures(), 0, "{pass:?}");
    let pushed: usize = pass.objects.iter().map(|r| r.objects_pushed).sum();
    assert!(pushed >= 600, "about 3/4 of 1000 objects had a replica on the wiped device: {pushed}");
    // The container and account DBs come back whole where sdb1 is one of their primaries
    // (placement depends on the cluster's random hash-path secret).
    let (containers, accounts) = (t.cluster.container_ring(), t.cluster.account_ring());
    let (c_nodes, a_nodes) = (
        containers.get_nodes(&t.cluster.secret, ACCOUNT, Some("c"), None).1,
        accounts.get_nodes(&t.cluster.secret, ACCOUNT, None, None).1,
    );
    let expected_dbs = [c_nodes, a_nodes].iter().filter(|nodes| nodes.iter().any(|d| d.device == "sdb1")).count();
    let whole: usize = pass.containers.iter().chain(&pass.accounts).map(|r| r.whole_dbs_sent).sum();
    assert!(whole >= expected_dbs, "{whole} whole DBs sent, {expected_dbs} expected: {pass:?}");

    let expect: Vec<_> = all.iter().map(|n| (n.clone(), Some(body_of(n, 1024)))).collect();
    assert_replicas(&t, "c", &expect).await;
    let want: BTreeSet<String> = all.iter().cloned().collect();
    for listing in listings(&t, Some("c")).await {
        assert_eq!(listing, want, "every container replica lists every object");
    }
    for listing in listings(&t, None).await {
        assert_eq!(listing, BTreeSet::from(["c".to_string()]), "every account replica lists the container");
    }
    // The pass left a recon report per node.
    let recon = t.cluster.layout.data_dir.join("recon/node1/object-replicator.json");
    let recon: serde_json::Value = serde_json::from_slice(&std::fs::read(recon).unwrap()).unwrap();
    assert_eq!(recon["last_pass"]["failures"], 0);
}

#[tokio::test]
async fn a_restarted_node_gets_new_objects_and_deletes_without_resurrection() {
    let mut t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/c").send().await.unwrap();
    let old = names("old", 100);
    put_all(&t, &s, "c", &old, 700).await;

    t.cluster.stop_node(1).await;
    let new = names("new", 100);
    put_all(&t, &s, "c", &new, 700).await;
    for name in &old[..50] {
        let r = t.req(&s, Method::DELETE, &format!("/c/{name}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "DELETE {name}");
    }
    for name in &old[50..60] {
        let r = t.req(&s, Method::PUT, &format!("/c/{name}")).body(b"second version".to_vec()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // An ancient tombstone (older than reclaim_age) on node 3: the pass must reclaim it.
    let ring = t.cluster.object_ring();
    let (part, nodes) = ring.get_nodes(&t.cluster.secret, ACCOUNT, Some("c"), Some("ancient"));
    let d = nodes.iter().find(|d| d.device != "sdb2").unwrap();
    let url = format!("{}/{ACCOUNT}/c/ancient", replica_base(&d.ip, d.port, &d.device, part));
    let r = t.backend(Method::DELETE, &url, &[("x-timestamp", "1500000000.00000")]).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(!copies_on_disk(&t, "c", "ancient").is_empty(), "the tombstone is on disk");
    // Handoffs took node 2's share while it was down.
    assert!(new.iter().any(|n| !handoff_copies(&t, "c", n).is_empty()));

    t.cluster.start_node(1).await.unwrap();
    let pass = t.cluster.run_replicators_once().await.unwrap();
    assert_eq!(pass.failures(), 0, "{pass:?}");
    assert!(pass.objects.iter().map(|r| r.handoffs_removed).sum::<usize>() > 0, "{pass:?}");

    let mut expect: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    expect.extend(new.iter().map(|n| (n.clone(), Some(body_of(n, 700)))));
    expect.extend(old[..50].iter().map(|n| (n.clone(), None)));
    expect.extend(old[50..60].iter().map(|n| (n.clone(), Some(b"second version".to_vec()))));
    expect.extend(old[60..].iter().map(|n| (n.clone(), Some(body_of(n, 700)))));
    assert_replicas(&t, "c", &expect).await;
    // Only the primaries hold anything: the handoff copies were removed.
    for name in new.iter().chain(&old) {
        assert_eq!(handoff_copies(&t, "c", name), Vec::<String>::new(), "{name}: handoff copies are removed");
    }
    assert!(copies_on_disk(&t, "c", "ancient").is_empty(), "tombstones older than reclaim_age are reclaimed");
    // No deleted object came back, through the proxy or in any listing.
    for name in &old[..50] {
        assert_eq!(t.req(&s, Method::GET, &format!("/c/{name}")).send().await.unwrap().status(), 404);
    }
    let want: BTreeSet<String> = new.iter().chain(&old[50..]).cloned().collect();
    for listing in listings(&t, Some("c")).await {
        assert_eq!(listing, want);
    }
}

fn data_file(t: &TestCluster, device: &str, container: &str, name: &str) -> PathBuf {
    let ring = t.cluster.object_ring();
    let part = ring.get_part(&t.cluster.secret, ACCOUNT, Some(container), Some(name));
    let hash = t.cluster.secret.hash_hex(ACCOUNT, Some(container), Some(name));
    let dir = t.cluster.device_path(device).unwrap().join(format!("objects/{part}/{}/{hash}", &hash[29..]));
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "data"))
        .unwrap()
}

fn flip_byte(path: &Path, offset: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, offset).unwrap();
    b[0] ^= 0x5a;
    f.write_all_at(&b, offset).unwrap();
}

#[tokio::test]
async fn a_corrupt_replica_is_quarantined_restored_and_never_served() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/c").send().await.unwrap();
    let small = names("small", 20);
    put_all(&t, &s, "c", &small, 10_000).await;
    let large = body_of("large", 3 << 20);
    assert_eq!(t.req(&s, Method::PUT, "/c/large").body(large.clone()).send().await.unwrap().status(), 201);

    // Damage one replica of a small object and of the large one.
    let victims = [(small[3].clone(), body_of(&small[3], 10_000)), ("large".to_string(), large)];
    let mut damaged = Vec::new();
    for (name, _) in &victims {
        let (_, device) = object_primaries(&t, "c", name).remove(0);
        flip_byte(&data_file(&t, &device, "c", name), 1234);
        damaged.push(device);
    }
    let audits = t.cluster.run_auditors_once().await.unwrap();
    assert_eq!(audits.iter().map(|a| a.objects_quarantined).sum::<usize>(), 2, "{audits:?}");
    assert!(audits.iter().map(|a| a.objects_checked).sum::<usize>() >= 3 * 21);
    assert!(audits.iter().map(|a| a.dbs_checked).sum::<usize>() >= 6, "container and account DBs are checked too");
    for ((name, _), device) in victims.iter().zip(&damaged) {
        let hash = t.cluster.secret.hash_hex(ACCOUNT, Some("c"), Some(name));
        let q = t.cluster.device_path(device).unwrap().join("quarantined/objects").join(&hash);
        assert!(q.is_dir(), "{name} quarantined on {device}");
    }
    for (name, body) in &victims {
        for _ in 0..5 {
            let r = t.req(&s, Method::GET, &format!("/c/{name}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert!(r.bytes().await.unwrap() == body.as_slice(), "{name}: the good bytes");
        }
        assert_eq!(replicas_with(&t, "c", name, Some(body)).await, 2);
    }
    let pass = t.cluster.run_replicators_once().await.unwrap();
    assert_eq!(pass.failures(), 0, "{pass:?}");
    for (name, body) in &victims {
        assert_eq!(replicas_with(&t, "c", name, Some(body)).await, 3, "{name} restored");
    }
    let audits = t.cluster.run_auditors_once().await.unwrap();
    assert_eq!(audits.iter().map(|a| a.objects_quarantined).sum::<usize>(), 0);

    // The replica the proxy reads first, damaged and read before any auditor runs: its
    // server finds the damage while reading (and quarantines it), the proxy reads the next.
    let name = &small[7];
    let want = body_of(name, 10_000);
    let (_, first) = object_primaries(&t, "c", name).remove(0);
    flip_byte(&data_file(&t, &first, "c", name), 99);
    for _ in 0..5 {
        let r = t.req(&s, Method::GET, &format!("/c/{name}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap() == want.as_slice(), "never the corrupt bytes");
    }
    let hash = t.cluster.secret.hash_hex(ACCOUNT, Some("c"), Some(name));
    assert!(t.cluster.device_path(&first).unwrap().join("quarantined/objects").join(&hash).is_dir());
    t.cluster.run_replicators_once().await.unwrap();
    assert_eq!(replicas_with(&t, "c", name, Some(&want)).await, 3);
}

#[tokio::test]
async fn a_new_device_takes_its_partitions_and_handoffs_are_removed() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/c").send().await.unwrap();
    let all = names("obj", 300);
    put_all(&t, &s, "c", &all, 2000).await;
    // More containers, so some container DB surely moves with the rebalance.
    let extra = names("box", 8);
    for c in &extra {
        assert_eq!(t.req(&s, Method::PUT, &format!("/{c}")).send().await.unwrap().status(), 201);
    }

    // Read objects continuously while the ring changes and data moves.
    let t = Arc::new(tokio::sync::RwLock::new(t));
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, bad) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let reader = {
        let (t, s, stop, reads, bad, all) =
            (t.clone(), s.clone(), stop.clone(), reads.clone(), bad.clone(), all.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let name = &all[(i * 37) % all.len()];
                i += 1;
                let url = format!("{}/c/{name}", s.url);
                let http = t.read().await.http.clone();
                let r = http.get(url).header("X-Auth-Token", &s.token).send().await.unwrap();
                let ok = r.status() == 200 && r.bytes().await.unwrap() == body_of(name, 2000).as_slice();
                reads.fetch_add(1, Ordering::SeqCst);
                if !ok {
                    bad.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let new_node = t.write().await.cluster.add_node().await.unwrap();
    assert_eq!(new_node, 4);
    let tr = t.read().await;
    let moved: Vec<&String> =
        all.iter().filter(|n| object_primaries(&tr, "c", n).iter().any(|(_, d)| d == "sdb5")).collect();
    assert!(!moved.is_empty(), "the new device is primary for some objects");
    let pass = tr.cluster.run_replicators_once().await.unwrap();
    assert_eq!(pass.failures(), 0, "{pass:?}");
    assert!(pass.objects.iter().map(|r| r.handoffs_removed).sum::<usize>() > 0, "{pass:?}");
    assert!(pass.containers.iter().map(|r| r.handoffs_removed).sum::<usize>() > 0, "{pass:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::SeqCst);
    drop(tr);
    reader.await.unwrap();
    assert!(reads.load(Ordering::SeqCst) > 20);
    assert_eq!(bad.load(Ordering::SeqCst), 0, "every read during the move got the object");

    let t = t.read().await;
    let expect: Vec<_> = all.iter().map(|n| (n.clone(), Some(body_of(n, 2000)))).collect();
    assert_replicas(&t, "c", &expect).await;
    for name in &all {
        let primaries: BTreeSet<String> = object_primaries(&t, "c", name).into_iter().map(|(_, d)| d).collect();
        let copies: BTreeSet<String> =
            copies_on_disk(&t, "c", name).into_iter().map(|c| c.split(':').next().unwrap().to_string()).collect();
        assert_eq!(copies, primaries, "{name}: copies only on its primaries");
    }
    let want: BTreeSet<String> = all.iter().cloned().collect();
    for listing in listings(&t, Some("c")).await {
        assert_eq!(listing, want);
    }
    // The container and account DBs moved too: each is only on its primaries now.
    let dbs = std::iter::once("c").chain(extra.iter().map(String::as_str));
    let dbs = dbs.map(|c| (t.cluster.container_ring(), Some(c))).chain([(t.cluster.account_ring(), None)]);
    for (ring, container) in dbs {
        let (_, nodes) = ring.get_nodes(&t.cluster.secret, ACCOUNT, container, None);
        let primaries: BTreeSet<String> = nodes.iter().map(|d| d.device.clone()).collect();
        let hash = t.cluster.secret.hash_hex(ACCOUNT, container, None);
        let datadir = if container.is_some() { "containers" } else { "accounts" };
        let mut holders = BTreeSet::new();
        for d in ring.devices() {
            let root = t.cluster.device_path(&d.device).unwrap().join(datadir);
            let held = std::fs::read_dir(&root)
                .map(|parts| {
                    parts.flatten().any(|p| p.path().join(&hash[29..]).join(&hash).join(format!("{hash}.db")).is_file())
                })
                .unwrap_or(false);
            if held {
                holders.insert(d.device.clone());
            }
        }
        assert_eq!(holders, primaries, "{datadir} {container:?}: the DB is on its primaries only");
    }
}

#[tokio::test]
async fn listings_catch_up_after_the_updater_when_container_servers_were_down() {
    let mut t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/c").send().await.unwrap();
    // The first object makes the proxy cache the container's info (it cannot HEAD it later).
    put_all(&t, &s, "c", &["first".to_string()], 10).await;
    for i in 0..4 {
        t.cluster.stop_container_server(i).await;
    }
    let later = names("later", 100);
    put_all(&t, &s, "c", &later, 100).await;
    for i in 0..4 {
        t.cluster.start_container_server(i).await.unwrap();
    }
    for listing in listings(&t, Some("c")).await {
        assert_eq!(listing, BTreeSet::from(["first".to_string()]), "the updates are queued, not delivered");
    }
    let reports = t.cluster.run_updaters_once().await.unwrap();
    let delivered: usize = reports.iter().map(|r| r.succeeded).sum();
    assert_eq!(delivered, 300, "one queued update per object replica: {reports:?}");
    assert_eq!(reports.iter().map(|r| r.failed).sum::<usize>(), 0);
    let mut want: BTreeSet<String> = later.iter().cloned().collect();
    want.insert("first".into());
    for listing in listings(&t, Some("c")).await {
        assert_eq!(listing, want, "every container replica caught up");
    }
    let again = t.cluster.run_updaters_once().await.unwrap();
    assert_eq!(again.iter().map(|r| r.attempted).sum::<usize>(), 0, "the queues are empty");
    let r = t.req(&s, Method::GET, "/c").send().await.unwrap();
    assert_eq!(r.text().await.unwrap().lines().count(), 101);
}

#[tokio::test]
async fn expired_objects_404_at_once_and_the_expirer_deletes_them() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/c").send().await.unwrap();
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 2;
    let r = t
        .req(&s, Method::PUT, "/c/short-lived")
        .header("X-Delete-At", at.to_string())
        .body("bye")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(t.req(&s, Method::PUT, "/c/keeper").body("stay").send().await.unwrap().status(), 201);
    assert_eq!(t.req(&s, Method::GET, "/c/short-lived").send().await.unwrap().status(), 200);
    // Nothing expires early.
    let early = t.cluster.run_expirers_once().await.unwrap();
    assert_eq!(early.iter().map(|r| r.expired_found).sum::<usize>(), 0);
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() < at + 1 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Expired: 404 through the proxy before any expirer ran; still listed until it does.
    assert_eq!(t.req(&s, Method::GET, "/c/short-lived").send().await.unwrap().status(), 404);
    assert_eq!(t.req(&s, Method::HEAD, "/c/short-lived").send().await.unwrap().status(), 404);
    let listed = t.req(&s, Method::GET, "/c").send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("short-lived"));

    let reports = t.cluster.run_expirers_once().await.unwrap();
    assert!(reports.iter().map(|r| r.objects_deleted).sum::<usize>() >= 1, "{reports:?}");
    assert_eq!(reports.iter().map(|r| r.failed.failures).sum::<usize>(), 0, "{reports:?}");
    for listing in listings(&t, Some("c")).await {
        assert_eq!(listing, BTreeSet::from(["keeper".to_string()]));
    }
    // Every primary holds a tombstone at the expiry time.
    for (base, _) in object_primaries(&t, "c", "short-lived") {
        let r = t.backend(Method::HEAD, &format!("{base}/{ACCOUNT}/c/short-lived"), &[]).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-backend-timestamp"].to_str().unwrap(), format!("{at}.00000"));
    }
    assert_eq!(t.req(&s, Method::GET, "/c/keeper").send().await.unwrap().status(), 200);
}
