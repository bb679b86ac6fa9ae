//! S3 features clients and the conformance suites rely on: `/info` advertising the S3 API
//! as Swift's does.

use swiftlet_tests::TestCluster;

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
