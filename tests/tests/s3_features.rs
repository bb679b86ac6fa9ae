//! S3 features clients and the conformance suites rely on: conditional writes
//! (If-None-Match: *, If-Match, racing writers), reads by partNumber and additional
//! checksums (headers and aws-chunked trailers) with the real boto3, and `/info`
//! advertising the S3 API as Swift's does.

use std::path::PathBuf;
use std::process::Command;
use swiftlet_tests::{venv_bin, TestCluster};

/// Runs `tests/s3_py/<script>` against `t` (endpoint, then the Swift auth URL) and
/// checks it ended with `done`.
fn run_script(t: &TestCluster, script: &str, done: &str) {
    run_script_with(t, script, &t.auth_url(), done)
}

/// Runs `tests/s3_py/<script> <endpoint> <second>` and checks it ended with `done`.
fn run_script_with(t: &TestCluster, script: &str, second: &str, done: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/s3_py").join(script);
    let out = tokio::task::block_in_place(|| {
        Command::new(venv_bin("python"))
            .arg(path)
            .arg(t.cluster.proxy_url())
            .arg(second)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("run python")
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script} failed:\n{text}");
    assert!(text.contains(done), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_writes_and_part_numbers() {
    let t = TestCluster::start().await;
    run_script(&t, "conditional_parts.py", "all conditional and part checks passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksums_in_headers_and_trailers() {
    let t = TestCluster::start().await;
    run_script(&t, "checksums.py", "all checksum checks passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_over_tls_with_its_default_trailing_checksums() {
    let t = TestCluster::start_with(|o| {
        o.tls = true;
        o.cloud.enabled = false;
    })
    .await;
    let cert = t.cluster.tls_cert.clone().expect("saio made its certificate");
    assert!(t.cluster.proxy_url().starts_with("https://"));
    run_script_with(&t, "over_tls.py", &cert.display().to_string(), "all TLS checks passed");
}

#[tokio::test]
async fn info_advertises_s3api() {
    let t = TestCluster::start().await;
    let info: serde_json::Value = t.http.get(t.url("/info")).send().await.unwrap().json().await.unwrap();
    let s3 = &info["s3api"];
    // The keys Swift's functional tests read.
    assert_eq!(s3["max_upload_part_num"], 10_000, "{info}");
    assert_eq!(s3["max_multi_delete_objects"], 1000, "{info}");
    assert_eq!(s3["max_bucket_listing"], 1000, "{info}");
    assert_eq!(s3["max_parts_listing"], 1000, "{info}");
    assert_eq!(s3["min_segment_size"], 5 << 20, "{info}");
    assert_eq!(s3["allow_multipart_uploads"], true, "{info}");
    assert_eq!(s3["s3_acl"], false, "{info}");
}
