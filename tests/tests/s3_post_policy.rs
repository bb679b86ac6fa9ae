//! Anonymous access to public buckets, bucket policies and browser uploads (POST Object)
//! against a whole cluster, driven by boto3 and plain HTTP (`s3_py/s3_post_policy.py`).

use swiftlet_tests::TestCluster;

/// Runs sections of the python checks against a fresh cluster.
async fn run(sections: &[&str]) {
    let t = TestCluster::start().await;
    t.python_checks("s3_post_policy.py", sections, "all S3 POST and policy checks passed");
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
