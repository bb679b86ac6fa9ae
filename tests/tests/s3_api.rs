//! The S3 API with the real boto3 (and raw signed requests for what the SDK will not
//! send) against a whole cluster: every operation, presigned URLs, SigV2, aws-chunked
//! uploads, bad input, and objects shared with python-swiftclient.

use std::path::PathBuf;
use std::process::Command;
use swiftlet_tests::{venv_bin, TestCluster};

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/s3_py").join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_every_operation_and_bad_input() {
    let t = TestCluster::start().await;
    let out = tokio::task::block_in_place(|| {
        Command::new(venv_bin("python"))
            .arg(script("boto3_ops.py"))
            .arg(t.cluster.proxy_url())
            .arg(t.auth_url())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("run python")
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "boto3 checks failed:\n{text}");
    assert!(text.contains("all S3 checks passed"), "{text}");
}
