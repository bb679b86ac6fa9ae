//! Object versioning (`X-Versions-Location` stack mode, `X-History-Location` history
//! mode) through the proxy, against a whole in-process cluster, plus the real
//! python-swiftclient CLI.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use swiftlet_tests::{Session, TestCluster};

const MARKER: &str = "application/x-deleted;swift_versions_deleted=1";

async fn status(t: &TestCluster, s: &Session, method: Method, path: &str) -> StatusCode {
    t.req(s, method, path).send().await.unwrap().status()
}

async fn put(t: &TestCluster, s: &Session, path: &str, body: &str) -> StatusCode {
    t.req(s, Method::PUT, path).body(body.to_string()).send().await.unwrap().status()
}

async fn get(t: &TestCluster, s: &Session, path: &str) -> (StatusCode, String) {
    let r = t.req(s, Method::GET, path).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The versions container's rows for one object (names and content types), oldest first.
async fn archived(t: &TestCluster, s: &Session, versions: &str, prefix: &str) -> Vec<(String, String)> {
    let r = t.req(s, Method::GET, &format!("/{versions}?format=json&prefix={prefix}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let rows: Vec<Value> = r.json().await.unwrap();
    rows.iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["content_type"].as_str().unwrap().to_string()))
        .collect()
}

/// The object's current `X-Timestamp`, which names its archived copy.
async fn timestamp(t: &TestCluster, s: &Session, path: &str) -> String {
    let r = t.req(s, Method::HEAD, path).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["x-timestamp"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn stack_mode_archives_and_pops() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let info: Value = t.http.get(t.url("/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        info["versioned_writes"]["allowed_flags"],
        serde_json::json!(["x-versions-location", "x-history-location"])
    );

    assert_eq!(status(&t, &s, Method::PUT, "/v").await, StatusCode::CREATED);
    let r = t.req(&s, Method::PUT, "/c").header("X-Versions-Location", "v").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = t.req(&s, Method::HEAD, "/c").send().await.unwrap();
    assert_eq!(r.headers()["x-versions-location"], "v");
    assert!(!r.headers().contains_key("x-history-location"));
    assert!(!r.headers().keys().any(|k| k.as_str().starts_with("x-container-sysmeta")));

    // Three writes: the two older versions are archived under `001o/<their timestamp>`.
    let mut stamps = Vec::new();
    for body in ["v1", "v2", "v3"] {
        assert_eq!(put(&t, &s, "/c/o", body).await, StatusCode::CREATED);
        stamps.push(timestamp(&t, &s, "/c/o").await);
    }
    let rows = archived(&t, &s, "v", "001o/").await;
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [format!("001o/{}", stamps[0]), format!("001o/{}", stamps[1])]);
    assert_eq!(get(&t, &s, &format!("/v/{}", names[0])).await.1, "v1");
    assert_eq!(get(&t, &s, &format!("/v/{}", names[1])).await.1, "v2");
    assert_eq!(get(&t, &s, "/c/o").await.1, "v3");
    // A POST changes metadata only: no new version.
    let r = t.req(&s, Method::POST, "/c/o").header("X-Object-Meta-A", "b").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(archived(&t, &s, "v", "001o/").await.len(), 2);

    // Each DELETE brings the previous version back and takes it out of the archive.
    assert_eq!(status(&t, &s, Method::DELETE, "/c/o").await, StatusCode::NO_CONTENT);
    assert_eq!(get(&t, &s, "/c/o").await, (StatusCode::OK, "v2".to_string()));
    assert_eq!(archived(&t, &s, "v", "001o/").await.len(), 1);
    assert_eq!(status(&t, &s, Method::DELETE, "/c/o").await, StatusCode::NO_CONTENT);
    assert_eq!(get(&t, &s, "/c/o").await, (StatusCode::OK, "v1".to_string()));
    assert!(archived(&t, &s, "v", "001o/").await.is_empty());
    assert_eq!(status(&t, &s, Method::DELETE, "/c/o").await, StatusCode::NO_CONTENT);
    assert_eq!(get(&t, &s, "/c/o").await.0, StatusCode::NOT_FOUND);
    assert_eq!(status(&t, &s, Method::DELETE, "/c/o").await, StatusCode::NOT_FOUND);

    // A server-side copy onto a versioned object archives it too.
    assert_eq!(put(&t, &s, "/c/o", "first").await, StatusCode::CREATED);
    assert_eq!(status(&t, &s, Method::PUT, "/src").await, StatusCode::CREATED);
    assert_eq!(put(&t, &s, "/src/x", "copied").await, StatusCode::CREATED);
    let r = t.req(&s, Method::PUT, "/c/o").header("X-Copy-From", "/src/x").header("Content-Length", "0");
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    let r = t.req(&s, Method::from_bytes(b"COPY").unwrap(), "/src/x").header("Destination", "c/o");
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    let rows = archived(&t, &s, "v", "001o/").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(get(&t, &s, &format!("/v/{}", rows[0].0)).await.1, "first");
    assert_eq!(get(&t, &s, &format!("/v/{}", rows[1].0)).await.1, "copied");

    // An SLO manifest is archived as a manifest: the archive lists its full size and
    // reads as the assembled object; a DELETE brings the older manifest back.
    assert_eq!(status(&t, &s, Method::PUT, "/segs").await, StatusCode::CREATED);
    assert_eq!(put(&t, &s, "/segs/s1", "aaa").await, StatusCode::CREATED);
    assert_eq!(put(&t, &s, "/segs/s2", "bbbb").await, StatusCode::CREATED);
    for segs in [&["s1"][..], &["s1", "s2"][..]] {
        let manifest: Vec<Value> = segs.iter().map(|n| serde_json::json!({"path": format!("/segs/{n}")})).collect();
        let r = t.req(&s, Method::PUT, "/c/m?multipart-manifest=put").body(Value::from(manifest).to_string());
        assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    }
    assert_eq!(get(&t, &s, "/c/m").await.1, "aaabbbb");
    let r = t.req(&s, Method::GET, "/v?format=json&prefix=001m/").send().await.unwrap();
    let rows: Vec<Value> = r.json().await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["bytes"], 3, "{rows:?}");
    let archived_manifest = format!("/v/{}", rows[0]["name"].as_str().unwrap());
    assert_eq!(get(&t, &s, &archived_manifest).await.1, "aaa");
    assert_eq!(status(&t, &s, Method::DELETE, "/c/m").await, StatusCode::NO_CONTENT);
    assert_eq!(get(&t, &s, "/c/m").await.1, "aaa");
    let r = t.req(&s, Method::HEAD, "/c/m").send().await.unwrap();
    assert_eq!(r.headers()["x-static-large-object"], "True");

    // A DLO manifest (zero bytes of its own) is archived as a manifest too.
    assert_eq!(put(&t, &s, "/c/d", "plain").await, StatusCode::CREATED);
    let r = t.req(&s, Method::PUT, "/c/d").header("X-Object-Manifest", "segs/s").header("Content-Length", "0");
    assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(get(&t, &s, "/c/d").await.1, "aaabbbb");
    assert_eq!(put(&t, &s, "/c/d", "after").await, StatusCode::CREATED);
    let rows = archived(&t, &s, "v", "001d/").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(get(&t, &s, &format!("/v/{}", rows[1].0)).await.1, "aaabbbb");

    // Versions larger than the proxy buffers stream from the GET into the PUT.
    let big = |seed: u32| -> Vec<u8> { (0..3_000_000u32).map(|i| (i.wrapping_mul(seed) % 251) as u8).collect() };
    for seed in [7, 13] {
        let r = t.req(&s, Method::PUT, "/c/big").body(big(seed)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let rows = archived(&t, &s, "v", "003big/").await;
    assert_eq!(rows.len(), 1);
    let r = t.req(&s, Method::GET, &format!("/v/{}", rows[0].0)).send().await.unwrap();
    assert!(r.bytes().await.unwrap() == big(7));
    assert_eq!(status(&t, &s, Method::DELETE, "/c/big").await, StatusCode::NO_CONTENT);
    let r = t.req(&s, Method::GET, "/c/big").send().await.unwrap();
    assert!(r.bytes().await.unwrap() == big(7));

    // Both flags at once: 400. An unusable location: 412.
    let r = t.req(&s, Method::POST, "/c").header("X-Versions-Location", "v").header("X-History-Location", "h");
    assert_eq!(r.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    let r = t.req(&s, Method::POST, "/c").header("X-Versions-Location", "a/b");
    assert_eq!(r.send().await.unwrap().status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(t.req(&s, Method::HEAD, "/c").send().await.unwrap().headers()["x-versions-location"], "v");

    // Removing the flag stops versioning.
    let r = t.req(&s, Method::POST, "/c").header("X-Remove-Versions-Location", "x").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t.req(&s, Method::HEAD, "/c").send().await.unwrap();
    assert!(!r.headers().contains_key("x-versions-location"));
    assert_eq!(put(&t, &s, "/c/o", "unversioned").await, StatusCode::CREATED);
    assert_eq!(archived(&t, &s, "v", "001o/").await.len(), 2);
    assert_eq!(status(&t, &s, Method::DELETE, "/c/o").await, StatusCode::NO_CONTENT);
    assert_eq!(get(&t, &s, "/c/o").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn history_mode_and_permissions() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(status(&t, &s, Method::PUT, "/hist").await, StatusCode::CREATED);
    let r = t.req(&s, Method::PUT, "/h").header("X-History-Location", "hist").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = t.req(&s, Method::GET, "/h").send().await.unwrap();
    assert_eq!(r.headers()["x-history-location"], "hist");
    assert!(!r.headers().contains_key("x-versions-location"));

    // PUT, PUT, DELETE: both versions archived, then a delete marker; the object is gone.
    assert_eq!(put(&t, &s, "/h/doc", "one").await, StatusCode::CREATED);
    let first = timestamp(&t, &s, "/h/doc").await;
    assert_eq!(put(&t, &s, "/h/doc", "two").await, StatusCode::CREATED);
    let second = timestamp(&t, &s, "/h/doc").await;
    assert_eq!(status(&t, &s, Method::DELETE, "/h/doc").await, StatusCode::NO_CONTENT);
    assert_eq!(get(&t, &s, "/h/doc").await.0, StatusCode::NOT_FOUND);
    let rows = archived(&t, &s, "hist", "003doc/").await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0].0, format!("003doc/{first}"));
    assert_eq!(rows[1].0, format!("003doc/{second}"));
    assert_eq!(rows[2].1, MARKER);
    assert!(rows[2].0.as_str() > rows[1].0.as_str());
    assert_eq!(get(&t, &s, &format!("/hist/{}", rows[0].0)).await.1, "one");
    assert_eq!(get(&t, &s, &format!("/hist/{}", rows[1].0)).await.1, "two");

    // Switching the container to stack mode: a DELETE now finds the marker on top, the
    // object absent, so it restores the version before the marker and drops the marker.
    let r = t.req(&s, Method::POST, "/h").header("X-Versions-Location", "hist").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(status(&t, &s, Method::DELETE, "/h/doc").await, StatusCode::NO_CONTENT);
    assert_eq!(get(&t, &s, "/h/doc").await, (StatusCode::OK, "two".to_string()));
    let rows = archived(&t, &s, "hist", "003doc/").await;
    assert_eq!(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), [format!("003doc/{first}")]);

    // A user without write access to the versioned container: 403, nothing changes.
    let tester3 = t.login("test:tester3", "testing3").await;
    assert_eq!(put(&t, &tester3, "/h/doc", "intruder").await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, &tester3, Method::DELETE, "/h/doc").await, StatusCode::FORBIDDEN);
    assert_eq!(get(&t, &s, "/h/doc").await.1, "two");
    assert_eq!(archived(&t, &s, "hist", "003doc/").await.len(), 1);

    // Write access to the versioned container is what counts (Swift's sub-requests are
    // pre-authorized): tester3 may version the object without any right on `hist`.
    let r = t.req(&s, Method::POST, "/h").header("X-Container-Write", "test:tester3").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(put(&t, &tester3, "/h/doc", "three").await, StatusCode::CREATED);
    assert_eq!(get(&t, &s, "/h/doc").await.1, "three");
    assert_eq!(archived(&t, &s, "hist", "003doc/").await.len(), 2);
    assert_eq!(get(&t, &tester3, "/hist?format=json").await.0, StatusCode::FORBIDDEN);

    // The versions container is missing: the write fails (412) and the old version stays.
    let r = t.req(&s, Method::PUT, "/lost").header("X-Versions-Location", "nowhere").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(put(&t, &s, "/lost/o", "keep me").await, StatusCode::CREATED);
    assert_eq!(put(&t, &s, "/lost/o", "new").await, StatusCode::PRECONDITION_FAILED);
    assert_eq!(get(&t, &s, "/lost/o").await.1, "keep me");
}

fn swift(t: &TestCluster, args: &[&str], cwd: &std::path::Path) -> String {
    let out = t.swift_cli("test:tester", "testing", args, cwd);
    assert!(out.ok, "swift {args:?} failed:\n{}", out.all);
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_swiftclient_versions() {
    let t = TestCluster::start().await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("notes.txt");
    // Blocking CLI calls run on a worker thread while the cluster serves on the other.
    tokio::task::block_in_place(|| {
        swift(&t, &["post", "v"], work.path());
        swift(&t, &["post", "-H", "X-Versions-Location: v", "c"], work.path());
        let stat = swift(&t, &["stat", "c"], work.path());
        assert!(stat.contains("X-Versions-Location: v"), "{stat}");
        std::fs::write(&file, "old content").unwrap();
        swift(&t, &["upload", "c", "notes.txt"], work.path());
        std::fs::write(&file, "new content").unwrap();
        swift(&t, &["upload", "c", "notes.txt"], work.path());
        let listing = swift(&t, &["list", "v"], work.path());
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 1, "{listing}");
        assert!(lines[0].starts_with("009notes.txt/"), "{listing}");
        let out = work.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        swift(&t, &["download", "c", "notes.txt", "-o", out.join("now.txt").to_str().unwrap()], work.path());
        assert_eq!(std::fs::read_to_string(out.join("now.txt")).unwrap(), "new content");
        let archived = lines[0].to_string();
        swift(&t, &["download", "v", &archived, "-o", out.join("then.txt").to_str().unwrap()], work.path());
        assert_eq!(std::fs::read_to_string(out.join("then.txt")).unwrap(), "old content");
    });
}
