//! Hostile S3 clients against a whole cluster: unsigned headers smuggled into signed and
//! presigned requests, anonymous probes, odd multipart listings and oversized bodies, run
//! by real boto3/requests clients (`s3_py/hostile_s3.py`).

use swiftlet_tests::{venv_bin, TestCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_strangers_and_unsigned_headers_are_refused() {
    let t = TestCluster::start().await;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/s3_py/hostile_s3.py");
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new(venv_bin("python"))
            .arg(script)
            .arg(t.cluster.proxy_url())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("run python")
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "hostile S3 checks failed:\n{text}");
    assert!(text.contains("all hostile S3 checks passed"), "{text}");
}
