//! The Swift API through the proxy, against a whole in-process cluster.

use md5::{Digest, Md5};
use reqwest::{Method, StatusCode};
use swiftlet_tests::TestCluster;

fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

#[tokio::test]
async fn healthcheck_info_and_auth() {
    let t = TestCluster::start().await;
    let r = t.http.get(t.url("/healthcheck")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-trans-id"));
    assert!(r.headers().contains_key("x-openstack-request-id"));
    let info: serde_json::Value = t.http.get(t.url("/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["swift"]["max_file_size"], 5 * 1024 * 1024 * 1024u64);
    let bad = t
        .http
        .get(t.auth_url())
        .header("X-Auth-User", "test:tester")
        .header("X-Auth-Key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(t.http.get(t.auth_url()).send().await.unwrap().status(), 401);
    let s = t.login("test:tester", "testing").await;
    assert!(s.url.ends_with("/v1/AUTH_test"), "{}", s.url);
    // A forged token is refused, not ignored.
    let r = t.http.get(&s.url).header("X-Auth-Token", "AUTH_tkforged.x").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn container_and_object_lifecycle() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    // A fresh account is empty, not missing.
    let r = t.req(&s, Method::GET, "?format=json").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "[]");

    assert_eq!(t.req(&s, Method::PUT, "/photos").send().await.unwrap().status(), 201);
    assert_eq!(t.req(&s, Method::PUT, "/photos").send().await.unwrap().status(), 202);

    let body = b"hello swiftlet".to_vec();
    let r = t
        .req(&s, Method::PUT, "/photos/a/b.txt")
        .header("X-Object-Meta-Color", "blue")
        .header("ETag", md5_hex(&body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["etag"].to_str().unwrap().trim_matches('"'), md5_hex(&body));

    let r = t
        .req(&s, Method::PUT, "/photos/bad")
        .header("ETag", md5_hex(b"other"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let r = t.req(&s, Method::GET, "/photos/a/b.txt").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-object-meta-color"], "blue");
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.bytes().await.unwrap(), body);

    let r = t.req(&s, Method::GET, "/photos/a/b.txt").header("Range", "bytes=6-").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), &body[6..]);

    let r = t.req(&s, Method::POST, "/photos/a/b.txt").header("X-Object-Meta-Color", "red").send().await.unwrap();
    assert_eq!(r.status(), 202);
    let r = t.req(&s, Method::HEAD, "/photos/a/b.txt").send().await.unwrap();
    assert_eq!(r.headers()["x-object-meta-color"], "red");
    assert_eq!(r.headers()["content-length"], body.len().to_string().as_str());

    // The listing shows the object (container updates arrive right after the PUT).
    let listing: serde_json::Value =
        t.req(&s, Method::GET, "/photos?format=json").send().await.unwrap().json().await.unwrap();
    assert_eq!(listing[0]["name"], "a/b.txt");
    assert_eq!(listing[0]["bytes"], body.len());
    let r = t.req(&s, Method::HEAD, "/photos").send().await.unwrap();
    assert_eq!(r.headers()["x-container-object-count"], "1");

    assert_eq!(t.req(&s, Method::DELETE, "/photos").send().await.unwrap().status(), 409);
    assert_eq!(t.req(&s, Method::DELETE, "/photos/a/b.txt").send().await.unwrap().status(), 204);
    assert_eq!(t.req(&s, Method::GET, "/photos/a/b.txt").send().await.unwrap().status(), 404);
    assert_eq!(t.req(&s, Method::DELETE, "/photos/a/b.txt").send().await.unwrap().status(), 404);
    assert_eq!(t.req(&s, Method::DELETE, "/photos").send().await.unwrap().status(), 204);
    assert_eq!(t.req(&s, Method::GET, "/photos").send().await.unwrap().status(), 404);
    assert_eq!(t.req(&s, Method::PUT, "/photos/o").body("x").send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn large_chunked_upload_streams_to_replicas() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/big").send().await.unwrap();
    // 6 MiB in 64 KiB chunks with no Content-Length: the streamed (chunked) path.
    let chunk: Vec<u8> = (0..65536u32).map(|i| (i * 7 % 251) as u8).collect();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..96).map(|_| Ok(chunk.clone())).collect();
    let whole: Vec<u8> = chunk.iter().copied().cycle().take(chunk.len() * 96).collect();
    let r = t
        .req(&s, Method::PUT, "/big/blob")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), md5_hex(&whole));
    let got = t.req(&s, Method::GET, "/big/blob").send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.len(), whole.len());
    assert_eq!(md5_hex(&got), md5_hex(&whole));
}

#[tokio::test]
async fn copy_and_copy_from() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/src").send().await.unwrap();
    t.req(&s, Method::PUT, "/dst").send().await.unwrap();
    t.req(&s, Method::PUT, "/src/o")
        .header("X-Object-Meta-A", "1")
        .header("Content-Type", "image/png")
        .body("data")
        .send()
        .await
        .unwrap();
    let r = t
        .req(&s, Method::from_bytes(b"COPY").unwrap(), "/src/o")
        .header("Destination", "/dst/o2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-copied-from"], "src/o");
    let r = t.req(&s, Method::GET, "/dst/o2").send().await.unwrap();
    assert_eq!(r.headers()["x-object-meta-a"], "1");
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.text().await.unwrap(), "data");
    let r = t
        .req(&s, Method::PUT, "/dst/o3")
        .header("X-Copy-From", "/src/o")
        .header("X-Object-Meta-B", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = t.req(&s, Method::HEAD, "/dst/o3").send().await.unwrap();
    assert_eq!(
        (r.headers()["x-object-meta-a"].to_str().unwrap(), r.headers()["x-object-meta-b"].to_str().unwrap()),
        ("1", "2")
    );
    let r = t.req(&s, Method::PUT, "/dst/o4").header("X-Copy-From", "/src/missing").send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = t.req(&s, Method::PUT, "/dst/o4").header("X-Copy-From", "nocontainer").send().await.unwrap();
    assert_eq!(r.status(), 412);
    // An empty object reads and copies like any other.
    let r = t.req(&s, Method::PUT, "/src/empty").header("Content-Length", "0").send().await.unwrap();
    assert_eq!(r.status(), 201);
    let r = t.req(&s, Method::GET, "/src/empty").send().await.unwrap();
    assert_eq!((r.status(), r.text().await.unwrap()), (StatusCode::OK, String::new()));
    let r = t.req(&s, Method::PUT, "/dst/empty").header("X-Copy-From", "/src/empty").send().await.unwrap();
    assert_eq!(r.status(), 201);
    let r = t.req(&s, Method::HEAD, "/dst/empty").send().await.unwrap();
    assert_eq!(r.headers()["content-length"], "0");
}

#[tokio::test]
async fn acls_across_users() {
    let t = TestCluster::start().await;
    let owner = t.login("test:tester", "testing").await;
    let tester3 = t.login("test:tester3", "testing3").await;
    let other = t.login("test2:tester2", "testing2").await;
    t.req(&owner, Method::PUT, "/shared").send().await.unwrap();
    t.req(&owner, Method::PUT, "/shared/o").body("x").send().await.unwrap();

    // Non-admin users and other accounts get nothing without an ACL.
    assert_eq!(t.req(&tester3, Method::GET, "/shared/o").send().await.unwrap().status(), 403);
    assert_eq!(t.req(&tester3, Method::GET, "").send().await.unwrap().status(), 403);
    let foreign =
        t.http.get(format!("{}/shared/o", owner.url)).header("X-Auth-Token", &other.token).send().await.unwrap();
    assert_eq!(foreign.status(), 403);
    let anon = t.http.get(format!("{}/shared/o", owner.url)).send().await.unwrap();
    assert_eq!(anon.status(), 401);

    // Read ACL for tester3; write ACL for the test2 account.
    let r = t
        .req(&owner, Method::POST, "/shared")
        .header("X-Container-Read", "test:tester3")
        .header("X-Container-Write", "test2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(t.req(&tester3, Method::GET, "/shared/o").send().await.unwrap().status(), 200);
    assert_eq!(t.req(&tester3, Method::GET, "/shared").send().await.unwrap().status(), 200);
    assert_eq!(t.req(&tester3, Method::PUT, "/shared/w").body("y").send().await.unwrap().status(), 403);
    let put = t
        .http
        .put(format!("{}/shared/w", owner.url))
        .header("X-Auth-Token", &other.token)
        .body("y")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    // Non-owners can never change the container itself.
    assert_eq!(t.req(&tester3, Method::DELETE, "/shared").send().await.unwrap().status(), 403);

    // Public read, then public listing.
    t.req(&owner, Method::POST, "/shared").header("X-Container-Read", ".r:*").send().await.unwrap();
    assert_eq!(t.http.get(format!("{}/shared/o", owner.url)).send().await.unwrap().status(), 200);
    assert_eq!(t.http.get(format!("{}/shared", owner.url)).send().await.unwrap().status(), 401);
    t.req(&owner, Method::POST, "/shared").header("X-Container-Read", ".r:*,.rlistings").send().await.unwrap();
    let r = t.http.get(format!("{}/shared", owner.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "o\nw\n");
    assert_eq!(
        t.req(&owner, Method::POST, "/shared").header("X-Container-Read", ".bogus:x").send().await.unwrap().status(),
        400
    );
}

#[tokio::test]
async fn bad_input_is_refused_cleanly() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/c").send().await.unwrap();
    let long_name = "o".repeat(1025);
    assert_eq!(t.req(&s, Method::PUT, &format!("/c/{long_name}")).body("x").send().await.unwrap().status(), 400);
    assert_eq!(t.req(&s, Method::PUT, &format!("/{}", "c".repeat(257))).send().await.unwrap().status(), 400);
    let mut r = t.req(&s, Method::PUT, "/c/meta");
    for i in 0..91 {
        r = r.header(format!("X-Object-Meta-K{i}"), "v");
    }
    assert_eq!(r.body("x").send().await.unwrap().status(), 400);
    let r =
        t.req(&s, Method::PUT, "/c/big").header("X-Object-Meta-Big", "v".repeat(257)).body("x").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = t.req(&s, Method::PUT, "/c/past").header("X-Delete-At", "1").body("x").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = t.req(&s, Method::PUT, "/c/huge").header("Content-Length", (6u64 << 30).to_string()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(t.req(&s, Method::GET, "/c/o%00x").send().await.unwrap().status(), 412);
    let r = t.req(&s, Method::POST, "").header("X-Account-Meta-Long", "v".repeat(8200)).send().await.unwrap();
    assert_eq!(r.status(), 400, "a header line over max_header_size");
    // NUL is fine inside a listing marker (clients page with `<last name>\0`).
    assert_eq!(t.req(&s, Method::GET, "/c?marker=a%00").send().await.unwrap().status(), 204);
    // Not a Swift path: on the shared port it is S3 (bucket "v2"), which refuses anonymous access.
    let r = t.http.get(t.url("/v2/AUTH_test")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("<Code>AccessDenied</Code>"));
    // With a Swift token it is a Swift request, and not a valid path.
    let r =
        t.http.get(t.url(&format!("//v1/{}", s.url.split_once("/v1/").unwrap().1))).header("X-Auth-Token", &s.token);
    assert_eq!(r.send().await.unwrap().status(), 404);
    // Nothing above was stored.
    let listing = t.req(&s, Method::GET, "/c").send().await.unwrap().text().await.unwrap();
    assert_eq!(listing, "");
    // No Content-Length and not chunked: 411 (a raw request, since HTTP clients add one).
    let status =
        raw_status(&t, &s, "PUT /v1/AUTH_test/c/nolen HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n\r\n").await;
    assert_eq!(status, 411);
}

/// Sends a raw HTTP request (`{token}` is replaced) and returns the status code.
async fn raw_status(t: &TestCluster, s: &swiftlet_tests::Session, text: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(t.cluster.proxy_addr).await.unwrap();
    conn.write_all(text.replace("{token}", &s.token).as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = conn.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}
