//! Anonymous access to public buckets, bucket policies and browser uploads (POST Object)
//! against a whole cluster, driven by boto3 and plain HTTP (`s3_py/s3_post_policy.py`).

use swiftlet_tests::{venv_bin, TestCluster};

/// Runs sections of the python checks against a fresh cluster.
async fn run(sections: &[&str]) {
    let t = TestCluster::start().await;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/s3_py/s3_post_policy.py");
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new(venv_bin("python"))
            .arg(script)
            .arg(t.cluster.proxy_url())
            .args(sections)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("run python")
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "S3 checks {sections:?} failed:\n{text}");
    assert!(text.contains("all S3 POST and policy checks passed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_buckets_are_read_and_written_anonymously_and_private_ones_refused() {
    run(&["public"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_policies_allow_and_deny_with_deny_overriding() {
    run(&["policy"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_uploads_check_their_signed_policy_and_stream_the_file() {
    run(&["post"]).await;
}
