//! The S3 API with more real clients in their current releases, each over plain HTTP and
//! over TLS (the cluster's self-signed certificate trusted through the client's own option):
//! the AWS SDK for JavaScript v3 (`tests/js`, run by node), rclone, restic and the MinIO
//! Python client. Each uploads a small object and a multipart one, lists, downloads both
//! byte-exact, deletes and lists again empty. restic backs up a small and a 20 MiB file,
//! checks, restores them byte-exact and prunes; it sends every pack in one PUT (its part
//! size is larger than its largest pack), so it makes no multipart upload.
//! Retries are turned off where the client allows; where it does not (restic), a retry in
//! its output fails the test.

use md5::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;
use swiftlet_tests::TestCluster;

async fn cluster(tls: bool) -> TestCluster {
    let t = TestCluster::start_with(|o| {
        if tls {
            o.tls = true;
            o.cloud.enabled = false;
        }
    })
    .await;
    assert_eq!(t.cluster.proxy_url().starts_with("https://"), tls, "{}", t.cluster.proxy_url());
    t
}

/// `cmd`, told by `flag` to trust the cluster's certificate when it serves TLS.
fn trusting(mut cmd: Command, t: &TestCluster, flag: &str) -> Command {
    if let Some(cert) = ca(t) {
        cmd.arg(flag).arg(cert);
    }
    cmd
}

/// One client's two tests: over plain HTTP and over TLS.
macro_rules! over_http_and_tls {
    ($client:ident, $http:ident, $tls:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $http() {
            $client(&cluster(false).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $tls() {
            $client(&cluster(true).await);
        }
    };
}

/// The certificate to trust over TLS, None over plain HTTP.
fn ca(t: &TestCluster) -> Option<PathBuf> {
    if t.cluster.proxy_url().starts_with("https://") {
        Some(t.cluster.tls_cert.clone().expect("saio made its certificate"))
    } else {
        None
    }
}

fn run(cmd: &mut Command) -> String {
    let out = clean_env(cmd).output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Keeps the machine's TLS and AWS settings (a CA bundle for the whole system, a profile)
/// from the clients: each is given just what it needs.
fn clean_env(cmd: &mut Command) -> &mut Command {
    for var in ["AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"] {
        cmd.env_remove(var);
    }
    cmd
}

fn run_bytes(cmd: &mut Command) -> Vec<u8> {
    let out = clean_env(cmd).output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A program from the machine's packages; fails naming what to install when it is missing.
fn system_bin(name: &str, package: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain(["/usr/bin", "/usr/local/bin"]) {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is missing: install the Debian package {package} (scripts/bootstrap.sh does)")
}

/// `n` bytes that no compression or deduplication shortens.
fn data(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 11) as u8
        })
        .collect()
}

const SMALL: usize = 100_000;
const BIG: usize = 14 << 20;

// ---- AWS SDK for JavaScript v3 ----

fn js_sdk(t: &TestCluster) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join("js/node_modules");
    for pkg in ["@aws-sdk/client-s3", "@aws-sdk/lib-storage"] {
        assert!(
            modules.join(pkg).join("package.json").exists(),
            "{pkg} is missing from {}: run scripts/bootstrap.sh --python (npm ci in tests/js)",
            modules.display()
        );
    }
    // The script lives beside the tests; node resolves its imports from tests/js.
    let script = root.join("js/sdk_v3.mjs");
    let mut cmd = Command::new(system_bin("node", "nodejs"));
    cmd.arg(&script)
        .arg(t.cluster.proxy_url())
        .current_dir(root.join("js"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE");
    match ca(t) {
        Some(cert) => cmd.env("NODE_EXTRA_CA_CERTS", cert),
        None => cmd.env_remove("NODE_EXTRA_CA_CERTS"),
    };
    let out = tokio::task::block_in_place(|| run(&mut cmd));
    assert!(out.contains("all JS SDK checks passed"), "{out}");
}

over_http_and_tls!(js_sdk, aws_sdk_js_v3_over_http, aws_sdk_js_v3_over_tls);

// ---- rclone ----

fn rclone_cmd(t: &TestCluster, work: &Path) -> Command {
    let mut cmd = Command::new(system_bin("rclone", "rclone"));
    let conf = work.join("rclone.conf");
    std::fs::write(&conf, "").unwrap();
    cmd.arg("--config")
        .arg(conf)
        .args(["--retries", "1", "--low-level-retries", "1"])
        .args(["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"])
        .env("RCLONE_CONFIG_S3_TYPE", "s3")
        .env("RCLONE_CONFIG_S3_PROVIDER", "Other")
        .env("RCLONE_CONFIG_S3_ENDPOINT", t.cluster.proxy_url())
        .env("RCLONE_CONFIG_S3_ACCESS_KEY_ID", "test:tester")
        .env("RCLONE_CONFIG_S3_SECRET_ACCESS_KEY", "testing")
        .env("RCLONE_CONFIG_S3_REGION", "us-east-1")
        .env("RCLONE_CONFIG_S3_FORCE_PATH_STYLE", "true");
    trusting(cmd, t, "--ca-cert")
}

fn rclone(t: &TestCluster) {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (small, big) = (data(SMALL, 1), data(BIG, 2));
    std::fs::write(w.join("small"), &small).unwrap();
    std::fs::write(w.join("big"), &big).unwrap();
    let rc = |args: &[&str]| run(rclone_cmd(t, w).args(args));
    tokio::task::block_in_place(|| {
        rc(&["mkdir", "s3:rclone"]);
        rc(&["copyto", w.join("small").to_str().unwrap(), "s3:rclone/small"]);
        rc(&["copyto", w.join("big").to_str().unwrap(), "s3:rclone/dir/big"]);
        let ls = rc(&["lsf", "-R", "--files-only", "s3:rclone"]);
        let mut names: Vec<&str> = ls.lines().collect();
        names.sort();
        assert_eq!(names, ["dir/big", "small"], "{ls}");
        // A multipart object's ETag is no MD5: rclone keeps the MD5 it computed in the
        // object's metadata and reads it back from there.
        let stat = rc(&["lsjson", "--hash", "--stat", "s3:rclone/dir/big"]);
        let stat: serde_json::Value = serde_json::from_str(&stat).unwrap_or_else(|e| panic!("{e}: {stat}"));
        assert_eq!(stat["Size"], BIG, "{stat}");
        assert_eq!(stat["Hashes"]["md5"], hex::encode(md5::Md5::digest(&big)), "{stat}");
        assert!(run_bytes(rclone_cmd(t, w).args(["cat", "s3:rclone/small"])) == small, "small reads back");
        rc(&["copyto", "s3:rclone/dir/big", w.join("big.back").to_str().unwrap()]);
        assert!(std::fs::read(w.join("big.back")).unwrap() == big, "big reads back byte-exact");
        rc(&["deletefile", "s3:rclone/small"]);
        rc(&["deletefile", "s3:rclone/dir/big"]);
        let ls = rc(&["lsf", "-R", "s3:rclone"]);
        assert_eq!(ls.trim(), "", "empty after delete");
    });
}

over_http_and_tls!(rclone, rclone_over_http, rclone_over_tls);

// ---- restic ----

fn restic_cmd(t: &TestCluster, work: &Path) -> Command {
    let mut cmd = Command::new(system_bin("restic", "restic"));
    cmd.arg("-r")
        .arg(format!("s3:{}/restic", t.cluster.proxy_url()))
        .args(["-o", "s3.region=us-east-1", "--no-cache"])
        .env("AWS_ACCESS_KEY_ID", "test:tester")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("RESTIC_PASSWORD", "swiftlet restic test")
        .env("HOME", work)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("RESTIC_REPOSITORY");
    trusting(cmd, t, "--cacert")
}

fn restic(t: &TestCluster) {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let src = w.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    let (small, big) = (data(SMALL, 3), data(BIG + (6 << 20), 4));
    std::fs::write(src.join("small"), &small).unwrap();
    std::fs::write(src.join("sub/big"), &big).unwrap();
    // restic cannot be told not to retry: a retry it reports hides a failure, so fails the test.
    let rs = |args: &[&str]| {
        let out = run(restic_cmd(t, w).args(args));
        assert!(!out.to_lowercase().contains("retrying"), "restic {args:?} had to retry:\n{out}");
        out
    };
    tokio::task::block_in_place(|| {
        rs(&["init"]);
        // restic sends each pack (here one of about 20 MiB) in one PUT: its S3 library goes
        // multipart only past a part size larger than the largest pack restic makes.
        rs(&["backup", src.to_str().unwrap()]);
        let snaps = rs(&["snapshots", "--json"]);
        let snaps: serde_json::Value = serde_json::from_str(&snaps).unwrap_or_else(|e| panic!("{e}: {snaps}"));
        let snaps = snaps.as_array().expect("a list of snapshots");
        assert_eq!(snaps.len(), 1, "{snaps:?}");
        let id = snaps[0]["short_id"].as_str().expect("a snapshot id").to_string();
        rs(&["check", "--read-data"]);
        let dst = w.join("restored");
        rs(&["restore", &id, "--target", dst.to_str().unwrap()]);
        // restic restores the absolute path beneath the target.
        let back = dst.join(src.strip_prefix("/").unwrap());
        assert!(std::fs::read(back.join("small")).unwrap() == small, "small restored byte-exact");
        assert!(std::fs::read(back.join("sub/big")).unwrap() == big, "big restored byte-exact");
        rs(&["forget", "--prune", &id]);
        let snaps = rs(&["snapshots", "--json"]);
        assert_eq!(snaps.trim(), "[]", "no snapshot left");
        rs(&["check"]);
    });
}

over_http_and_tls!(restic, restic_over_http, restic_over_tls);

// ---- the MinIO Python client ----

fn minio(t: &TestCluster) {
    let cert = ca(t).map(|c| c.display().to_string());
    let args: Vec<&str> = cert.iter().map(String::as_str).collect();
    t.python_checks("minio_client.py", &args, "all MinIO client checks passed");
}

over_http_and_tls!(minio, minio_py_over_http, minio_py_over_tls);
