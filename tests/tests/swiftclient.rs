//! The real python-swiftclient CLI against a cluster.

use swiftlet_tests::TestCluster;

fn swift(t: &TestCluster, args: &[&str], cwd: &std::path::Path) -> (bool, String) {
    swift_as(t, "test:tester", "testing", args, cwd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_list_download_stat_delete() {
    let t = TestCluster::start().await;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), "alpha").unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(src.join("sub/big.bin"), &big).unwrap();
    let run = |args: &[&str]| {
        let (ok, text) = swift(&t, args, work.path());
        assert!(ok, "swift {args:?} failed:\n{text}");
        text
    };
    // Blocking CLI calls run on a worker thread while the cluster serves on the other.
    tokio::task::block_in_place(|| {
        run(&["upload", "docs", "src"]);
        let listing = run(&["list", "docs"]);
        assert_eq!(listing.lines().collect::<Vec<_>>(), ["src/a.txt", "src/sub/big.bin"]);
        assert!(run(&["list"]).lines().any(|l| l == "docs"));
        let stat = run(&["stat", "docs", "src/a.txt"]);
        assert!(stat.contains("Content Length: 5"), "{stat}");
        // Account stats follow the container's rows within the account-update interval
        // (1 s), as in Swift: poll until they do, with a deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        let account = loop {
            let account = run(&["stat"]);
            if account.contains("Objects: 2") || std::time::Instant::now() > deadline {
                break account;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        assert!(account.contains("Containers: 1") && account.contains("Objects: 2"), "{account}");
        run(&["post", "-m", "Color:blue", "docs", "src/a.txt"]);
        assert!(run(&["stat", "docs", "src/a.txt"]).contains("Meta Color: blue"));
        let out = work.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        run(&["download", "docs", "-D", out.to_str().unwrap()]);
        assert_eq!(std::fs::read(out.join("src/sub/big.bin")).unwrap(), big);
        assert_eq!(std::fs::read_to_string(out.join("src/a.txt")).unwrap(), "alpha");
        run(&["delete", "docs"]);
        assert!(!run(&["list"]).lines().any(|l| l == "docs"));
    });
}

/// `swift` as another user.
fn swift_as(t: &TestCluster, user: &str, key: &str, args: &[&str], cwd: &std::path::Path) -> (bool, String) {
    let out = t.swift_cli(user, key, args, cwd);
    (out.ok, out.all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_objects_copy_and_acls() {
    let t = TestCluster::start().await;
    let work = tempfile::tempdir().unwrap();
    let body: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(work.path().join("big.bin"), &body).unwrap();
    let run = |args: &[&str]| {
        let (ok, text) = swift(&t, args, work.path());
        assert!(ok, "swift {args:?} failed:\n{text}");
        text
    };
    let anon = t.http.clone();
    let url = t.login("test:tester", "testing").await.url;
    tokio::task::block_in_place(|| {
        // SLO and DLO uploads in 1 MB segments read back whole.
        run(&["upload", "--use-slo", "--segment-size", "1000000", "slo", "big.bin"]);
        run(&["upload", "--use-dlo", "--segment-size", "1000000", "dlo", "big.bin"]);
        assert_eq!(run(&["list", "slo_segments"]).lines().count(), 3);
        assert_eq!(run(&["list", "dlo_segments"]).lines().count(), 3);
        let slo_stat = run(&["stat", "slo", "big.bin"]);
        assert!(slo_stat.contains("Content Length: 2500000") && slo_stat.contains("Manifest"), "{slo_stat}");
        let dlo_stat = run(&["stat", "dlo", "big.bin"]);
        assert!(dlo_stat.contains("Manifest: dlo_segments/big.bin/"), "{dlo_stat}");
        for c in ["slo", "dlo"] {
            let out = work.path().join(format!("out-{c}"));
            run(&["download", c, "big.bin", "-o", out.to_str().unwrap()]);
            assert_eq!(std::fs::read(&out).unwrap(), body, "{c} download");
        }
        // Deleting a large object through the CLI removes its segments too.
        run(&["delete", "slo", "big.bin"]);
        assert_eq!(run(&["list", "slo_segments"]).lines().count(), 0);

        // Server-side copy keeps the content and adds metadata.
        run(&["copy", "--destination", "/copies/big-copy.bin", "--meta", "Color:red", "dlo", "big.bin"]);
        let out = work.path().join("out-copy");
        run(&["download", "copies", "big-copy.bin", "-o", out.to_str().unwrap()]);
        assert_eq!(std::fs::read(&out).unwrap(), body);
        assert!(run(&["stat", "copies", "big-copy.bin"]).contains("Meta Color: red"));

        // ACLs: tester3 (no admin) reads only after a read ACL names it; public read.
        let (ok, _) =
            swift_as(&t, "test:tester3", "testing3", &["download", "copies", "big-copy.bin", "-o", "-"], work.path());
        assert!(!ok, "tester3 has no rights yet");
        run(&["post", "-r", "test:tester3", "copies"]);
        let (ok, text) = swift_as(&t, "test:tester3", "testing3", &["list", "copies"], work.path());
        assert!(ok && text.trim() == "big-copy.bin", "a user named in the read ACL may list too: {text}");
        let (ok, text) = swift_as(&t, "test:tester3", "testing3", &["stat", "copies", "big-copy.bin"], work.path());
        assert!(ok && text.contains("Content Length: 2500000"), "{text}");
        let (ok, _) = swift_as(&t, "test:tester3", "testing3", &["upload", "copies", "big.bin"], work.path());
        assert!(!ok, "a read ACL does not allow writes");
        run(&["post", "-w", "test:tester3", "copies"]);
        let (ok, text) = swift_as(&t, "test:tester3", "testing3", &["upload", "copies", "big.bin"], work.path());
        assert!(ok, "the write ACL allows uploads: {text}");
        run(&["post", "-r", ".r:*,.rlistings", "copies"]);
    });
    let public = anon.get(format!("{url}/copies/big-copy.bin")).send().await.unwrap();
    assert_eq!(public.status(), 200);
    assert_eq!(public.bytes().await.unwrap().len(), body.len());
    let listing = anon.get(format!("{url}/copies")).send().await.unwrap().text().await.unwrap();
    assert_eq!(listing, "big-copy.bin\nbig.bin\n");
}
