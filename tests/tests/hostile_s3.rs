//! Hostile S3 clients against a whole cluster: unsigned headers smuggled into signed and
//! presigned requests, anonymous probes, odd multipart listings and oversized bodies, run
//! by real boto3/requests clients (`s3_py/hostile_s3.py`).

use swiftlet_tests::TestCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_strangers_and_unsigned_headers_are_refused() {
    let t = TestCluster::start().await;
    t.python_checks("hostile_s3.py", &[], "all hostile S3 checks passed");
}

/// The `<Code>` and `<Message>` of an S3 error document.
fn code_and_message(body: &str) -> (String, String) {
    let elem = |tag: &str| {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let start = body.find(&open).map(|i| i + open.len()).unwrap_or(0);
        body[start..].split(&close).next().unwrap_or("").to_string()
    };
    (elem("Code"), elem("Message"))
}

/// An anonymous preflight must not tell a bucket that exists (in any account) from one
/// that does not: both are refused with the same code and message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_answers_alike_for_missing_and_existing_buckets() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let made = t.http.put(format!("{}/exists", s.url)).header("x-auth-token", &s.token).send().await.unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    let preflight = |bucket: &str| {
        t.http
            .request(reqwest::Method::OPTIONS, t.url(&format!("/{bucket}/key")))
            .header("origin", "http://evil.example")
            .header("access-control-request-method", "GET")
            .send()
    };
    let exists = preflight("exists").await.unwrap();
    let missing = preflight("no-such-bucket-anywhere").await.unwrap();
    assert_eq!((exists.status().as_u16(), missing.status().as_u16()), (403, 403));
    let (exists, missing) = (exists.text().await.unwrap(), missing.text().await.unwrap());
    assert_eq!(code_and_message(&exists), code_and_message(&missing), "{exists}\n{missing}");
    assert_eq!(code_and_message(&exists).0, "AccessForbidden");
}
