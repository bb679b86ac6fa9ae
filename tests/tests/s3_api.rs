//! The S3 API with the real boto3 (and raw signed requests for what the SDK will not
//! send) against a whole cluster: every operation, presigned URLs, SigV2, aws-chunked
//! uploads, bad input, and objects shared with python-swiftclient.

use swiftlet_tests::TestCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_every_operation_and_bad_input() {
    let t = TestCluster::start().await;
    t.python_checks("boto3_ops.py", &[&t.auth_url()], "all S3 checks passed");
}
