//! The real python-swiftclient CLI against a cluster.

use std::process::Command;
use swiftlet_tests::{venv_bin, TestCluster};

fn swift(t: &TestCluster, args: &[&str], cwd: &std::path::Path) -> (bool, String) {
    let out = Command::new(venv_bin("swift"))
        .args(["-A", &t.auth_url(), "-U", "test:tester", "-K", "testing"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run swift");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
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
        let account = run(&["stat"]);
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
