//! Container quotas, account quotas and rate limiting through the proxy, against whole
//! in-process clusters (the last with rate limits set in the proxy's config).

use reqwest::{Client, Method, RequestBuilder, StatusCode};
use saio::{Cluster, ClusterOptions};
use std::time::{Duration, Instant};
use swiftlet_tests::{Session, TestCluster};

const OVER: &str = "Upload exceeds quota.";

async fn status_and_text(r: RequestBuilder) -> (StatusCode, String) {
    let resp = r.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

fn chunked(body: &'static [u8]) -> reqwest::Body {
    let chunks: Vec<Result<&'static [u8], std::io::Error>> = vec![Ok(body)];
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn container_quotas() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let put = |path: &str, body: &'static [u8]| t.req(&s, Method::PUT, path).body(body);

    // Quota values must be whole numbers.
    let r = t.req(&s, Method::PUT, "/bad").header("X-Container-Meta-Quota-Bytes", "ten");
    assert_eq!(status_and_text(r).await, (StatusCode::BAD_REQUEST, "Invalid bytes quota.".into()));
    assert_eq!(t.req(&s, Method::HEAD, "/bad").send().await.unwrap().status(), 404);

    let r = t.req(&s, Method::PUT, "/bytes").header("X-Container-Meta-Quota-Bytes", "10");
    assert_eq!(r.send().await.unwrap().status(), 201);
    let r = t.req(&s, Method::POST, "/bytes").header("X-Container-Meta-Quota-Count", "-1");
    assert_eq!(status_and_text(r).await, (StatusCode::BAD_REQUEST, "Invalid count quota.".into()));

    // Up to the byte quota, then 413 and nothing written.
    assert_eq!(put("/bytes/a", b"123456").send().await.unwrap().status(), 201);
    assert_eq!(status_and_text(put("/bytes/b", b"12345")).await, (StatusCode::PAYLOAD_TOO_LARGE, OVER.into()));
    assert_eq!(t.req(&s, Method::HEAD, "/bytes/b").send().await.unwrap().status(), 404);
    assert_eq!(put("/bytes/b", b"1234").send().await.unwrap().status(), 201);
    // A chunked upload is checked with the bytes used only: at the quota it still goes
    // in (as in Swift), past it it is refused.
    assert_eq!(t.req(&s, Method::PUT, "/bytes/c1").body(chunked(b"x")).send().await.unwrap().status(), 201);
    assert_eq!(
        status_and_text(t.req(&s, Method::PUT, "/bytes/c2").body(chunked(b"x"))).await,
        (StatusCode::PAYLOAD_TOO_LARGE, OVER.into())
    );
    // Someone who may not write there learns nothing about the quota.
    let other = t.login("test:tester3", "testing3").await;
    assert_eq!(t.req(&other, Method::PUT, "/bytes/d").body("x").send().await.unwrap().status(), 403);

    // Count quota.
    let r = t.req(&s, Method::PUT, "/count").header("X-Container-Meta-Quota-Count", "2");
    assert_eq!(r.send().await.unwrap().status(), 201);
    assert_eq!(put("/count/1", b"one").send().await.unwrap().status(), 201);
    assert_eq!(put("/count/2", b"two").send().await.unwrap().status(), 201);
    assert_eq!(status_and_text(put("/count/3", b"three")).await, (StatusCode::PAYLOAD_TOO_LARGE, OVER.into()));
    assert_eq!(t.req(&s, Method::HEAD, "/count/3").send().await.unwrap().status(), 404);

    // Copies into a full container are refused the same way, by COPY or X-Copy-From.
    let copy = t.req(&s, Method::from_bytes(b"COPY").unwrap(), "/bytes/a").header("Destination", "count/copy");
    assert_eq!(status_and_text(copy).await, (StatusCode::PAYLOAD_TOO_LARGE, OVER.into()));
    let copy = t.req(&s, Method::PUT, "/bytes/copy").header("X-Copy-From", "count/1");
    assert_eq!(status_and_text(copy).await, (StatusCode::PAYLOAD_TOO_LARGE, OVER.into()));
    for path in ["/count/copy", "/bytes/copy"] {
        assert_eq!(t.req(&s, Method::HEAD, path).send().await.unwrap().status(), 404, "{path}");
    }

    // Deleting frees room; raising the quota too.
    assert_eq!(t.req(&s, Method::DELETE, "/count/2").send().await.unwrap().status(), 204);
    let copy = t.req(&s, Method::from_bytes(b"COPY").unwrap(), "/count/1").header("Destination", "count/copy");
    assert_eq!(copy.send().await.unwrap().status(), 201);
    let r = t.req(&s, Method::POST, "/bytes").header("X-Container-Meta-Quota-Bytes", "100");
    assert_eq!(r.send().await.unwrap().status(), 204);
    assert_eq!(put("/bytes/c2", b"more").send().await.unwrap().status(), 201);
}

/// Waits for the account's stats (reported by the container servers within about a
/// second) to show `bytes` used.
async fn bytes_used_becomes(t: &TestCluster, s: &Session, bytes: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = t.req(s, Method::HEAD, "").send().await.unwrap();
        let used = r.headers().get("x-account-bytes-used").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if used == Some(bytes) {
            return;
        }
        assert!(Instant::now() < deadline, "account bytes used stayed {used:?}, want {bytes}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn account_quotas() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let reseller = t.login("admin:admin", "admin").await;
    // The reseller admin acts on test's account with its own token.
    let as_reseller = |method: Method| t.http.request(method, &s.url).header("X-Auth-Token", &reseller.token);
    assert_eq!(t.req(&s, Method::PUT, "/c").send().await.unwrap().status(), 201);

    // Only a reseller admin may set or remove a quota, in either spelling.
    for (name, value) in [
        ("X-Account-Meta-Quota-Bytes", "100"),
        ("X-Account-Quota-Bytes", "100"),
        ("X-Remove-Account-Meta-Quota-Bytes", "x"),
    ] {
        let r = t.req(&s, Method::POST, "").header(name, value).send().await.unwrap();
        assert_eq!(r.status(), 403, "{name}");
    }
    let r = as_reseller(Method::POST).header("X-Account-Meta-Quota-Bytes", "lots").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = as_reseller(Method::POST).header("X-Account-Meta-Quota-Bytes", "100").send().await.unwrap();
    assert_eq!(r.status(), 204);
    // The owner sees the quota in both spellings.
    let r = t.req(&s, Method::HEAD, "").send().await.unwrap();
    assert_eq!(r.headers()["x-account-quota-bytes"], "100");
    assert_eq!(r.headers()["x-account-meta-quota-bytes"], "100");

    let sixty: &'static [u8] = &[b'x'; 60];
    assert_eq!(t.req(&s, Method::PUT, "/c/sixty").body(sixty).send().await.unwrap().status(), 201);
    bytes_used_becomes(&t, &s, 60).await;
    let fifty: &'static [u8] = &[b'y'; 50];
    let over = t.req(&s, Method::PUT, "/c/fifty").body(fifty);
    assert_eq!(status_and_text(over).await, (StatusCode::PAYLOAD_TOO_LARGE, OVER.into()));
    assert_eq!(t.req(&s, Method::HEAD, "/c/fifty").send().await.unwrap().status(), 404);
    // Exactly at the quota is allowed.
    assert_eq!(t.req(&s, Method::PUT, "/c/forty").body(vec![b'z'; 40]).send().await.unwrap().status(), 201);
    bytes_used_becomes(&t, &s, 100).await;
    // A copy counts as an upload.
    let copy = t.req(&s, Method::PUT, "/c/copy").header("X-Copy-From", "c/forty");
    assert_eq!(status_and_text(copy).await, (StatusCode::PAYLOAD_TOO_LARGE, OVER.into()));

    // Deleting frees quota.
    assert_eq!(t.req(&s, Method::DELETE, "/c/sixty").send().await.unwrap().status(), 204);
    bytes_used_becomes(&t, &s, 40).await;
    assert_eq!(t.req(&s, Method::PUT, "/c/fifty").body(fifty).send().await.unwrap().status(), 201);
    bytes_used_becomes(&t, &s, 90).await;

    // The reseller's own uploads are not limited; once it removes the quota nobody's are.
    let url = format!("{}/c/reseller", s.url);
    let r = t.http.put(url).header("X-Auth-Token", &reseller.token).body(sixty).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let r = as_reseller(Method::POST).header("X-Remove-Account-Quota-Bytes", "x").send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = t.req(&s, Method::HEAD, "").send().await.unwrap();
    assert!(!r.headers().contains_key("x-account-quota-bytes"));
    assert_eq!(t.req(&s, Method::PUT, "/c/free").body(sixty).send().await.unwrap().status(), 201);
}

/// A cluster whose proxy limits rates: 5 container writes a second per account, object
/// writes and listings 5 a second in containers holding an object, waits of at most a
/// second.
struct Limited {
    cluster: Cluster,
    http: Client,
    _dir: tempfile::TempDir,
}

impl Limited {
    async fn start() -> Limited {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = ClusterOptions::ephemeral(dir.path());
        let rl = &mut opts.proxy.features.ratelimit;
        rl.account_ratelimit = 5.0;
        rl.max_sleep_time_seconds = 1.0;
        rl.container_ratelimits = vec![(1, 5.0)];
        rl.container_listing_ratelimits = vec![(1, 5.0)];
        rl.account_whitelist = vec!["AUTH_test2".into()];
        rl.account_blacklist = vec!["AUTH_test5".into()];
        // Object rates follow the container's object count: read it fresh every time.
        opts.proxy.container_info_ttl = 0.0;
        let cluster = Cluster::start(opts).await.unwrap();
        Limited { cluster, http: Client::builder().pool_max_idle_per_host(0).build().unwrap(), _dir: dir }
    }

    async fn login(&self, user: &str, key: &str) -> Session {
        let url = format!("{}/auth/v1.0", self.cluster.proxy_url());
        let r = self.http.get(url).header("X-Auth-User", user).header("X-Auth-Key", key).send().await.unwrap();
        assert_eq!(r.status(), 200, "login {user}");
        let h = r.headers();
        Session { token: h["x-auth-token"].to_str().unwrap().into(), url: h["x-storage-url"].to_str().unwrap().into() }
    }

    fn req(&self, s: &Session, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", s.url)).header("X-Auth-Token", &s.token)
    }

    /// PUTs `/<prefix>0..n` all at once; the statuses and bodies.
    async fn burst(&self, s: &Session, prefix: &str, n: usize) -> Vec<(StatusCode, String)> {
        let all = (0..n).map(|i| status_and_text(self.req(s, Method::PUT, &format!("/{prefix}{i}"))));
        futures::future::join_all(all).await
    }
}

async fn spaced_container_puts(t: &Limited) {
    let s = t.login("test:tester", "testing").await;
    let start = Instant::now();
    for i in 0..6 {
        assert_eq!(t.req(&s, Method::PUT, &format!("/c{i}")).send().await.unwrap().status(), 201);
    }
    // 5 a second: the 5 PUTs after the first each wait ~200 ms.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900), "6 container PUTs at 5/s took {took:?}");
    // Object writes have their own schedule per container (limited once it holds an object).
    assert_eq!(t.req(&s, Method::PUT, "/c0/first").body("x").send().await.unwrap().status(), 201);
    let start = Instant::now();
    for i in 0..6 {
        let r = t.req(&s, Method::PUT, &format!("/c0/o{i}")).body("x").send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900), "6 object PUTs at 5/s took {took:?}");
    // Listings of a container holding objects too.
    let start = Instant::now();
    for _ in 0..6 {
        assert_eq!(t.req(&s, Method::GET, "/c0").send().await.unwrap().status(), 200);
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900), "6 listings at 5/s took {took:?}");
}

async fn too_long_a_wait_is_498(t: &Limited) {
    let s = t.login("admin:admin", "admin").await;
    let results = t.burst(&s, "b", 12).await;
    let ok = results.iter().filter(|(st, _)| st.is_success()).count();
    let slow: Vec<_> = results.iter().filter(|(st, _)| st.as_u16() == 498).collect();
    // Waits of 0, 200, ..., 800 ms fit in the 1 s limit; the rest would not (a few more
    // fit if the requests arrive spread out).
    assert!(ok >= 4 && !slow.is_empty(), "{results:?}");
    assert_eq!(ok + slow.len(), 12, "{results:?}");
    assert!(slow.iter().all(|(_, body)| body == "Slow down"), "{results:?}");
}

async fn whitelisted_accounts_are_not_limited(t: &Limited) {
    let s = t.login("test2:tester2", "testing2").await;
    let results = t.burst(&s, "w", 8).await;
    assert!(results.iter().all(|(st, _)| st.is_success()), "{results:?}");
}

async fn blacklisted_accounts_are_refused(t: &Limited) {
    let s = t.login("test5:tester5", "testing5").await;
    let start = Instant::now();
    let r = t.req(&s, Method::GET, "").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 497);
    assert_eq!(r.text().await.unwrap(), "Your account has been blacklisted");
    assert!(start.elapsed() >= Duration::from_millis(900));
    // Swift's reason phrase is on the wire too.
    let line = status_line(t, &s, "").await;
    assert_eq!(line, "HTTP/1.1 497 Blacklisted");
}

/// The raw status line of a GET of `<storage url><path>`.
async fn status_line(t: &Limited, s: &Session, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(t.cluster.proxy_addr).await.unwrap();
    let target = format!("{}{path}", s.url.trim_start_matches(&t.cluster.proxy_url()));
    let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nConnection: close\r\n\r\n", s.token);
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    conn.read_to_end(&mut reply).await.unwrap();
    String::from_utf8_lossy(&reply).lines().next().unwrap_or("").to_string()
}

#[tokio::test]
async fn rate_limits() {
    let t = Limited::start().await;
    let info: serde_json::Value =
        t.http.get(format!("{}/info", t.cluster.proxy_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["ratelimit"]["account_ratelimit"], 5.0);
    assert_eq!(info["ratelimit"]["max_sleep_time_seconds"], 1.0);
    assert_eq!(info["ratelimit"]["container_ratelimits"], serde_json::json!([[1, 5.0]]));
    assert!(info["container_quotas"].is_object() && info["account_quotas"].is_object(), "{info}");
    // Each account has its own schedule, so these run side by side.
    tokio::join!(
        spaced_container_puts(&t),
        too_long_a_wait_is_498(&t),
        whitelisted_accounts_are_not_limited(&t),
        blacklisted_accounts_are_refused(&t),
    );
}
