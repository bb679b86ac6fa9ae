//! TempURL (signed with python-swiftclient's `swift tempurl`) and CORS through the proxy.

use reqwest::Method;
use std::process::Command;
use swiftlet_tests::{venv_bin, Session, TestCluster};

/// `swift tempurl <args>`: the signed path it prints.
fn tempurl(args: &[&str]) -> String {
    let out = Command::new(venv_bin("swift")).arg("tempurl").args(args).output().expect("run swift tempurl");
    assert!(out.status.success(), "swift tempurl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
}

/// `/v1/AUTH_test` from the session's storage URL.
fn account_path(s: &Session) -> String {
    let at = s.url.find("/v1/").expect("storage url has /v1/");
    s.url[at..].to_string()
}

async fn put(t: &TestCluster, s: &Session, path: &str, body: &'static str, headers: &[(&str, &str)]) {
    let mut req = t.req(s, Method::PUT, path).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let status = req.send().await.unwrap().status();
    assert!(status.is_success(), "PUT {path}: {status}");
}

async fn post(t: &TestCluster, s: &Session, path: &str, headers: &[(&str, &str)]) {
    let mut req = t.req(s, Method::POST, path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let status = req.send().await.unwrap().status();
    assert_eq!(status, 204, "POST {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tempurl_signed_by_swiftclient() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let acct = account_path(&s);
    put(&t, &s, "/c", "", &[]).await;
    put(&t, &s, "/c/o", "hello", &[("X-Object-Meta-Secret", "s"), ("X-Object-Meta-Public-Tag", "p")]).await;
    put(&t, &s, "/c/pre/a", "in prefix", &[]).await;
    post(&t, &s, "", &[("X-Account-Meta-Temp-URL-Key", "acctkey")]).await;
    let anon = &t.http;

    // A GET URL works without a token, names the download, and hides private metadata.
    let get_url = tempurl(&["GET", "600", &format!("{acct}/c/o"), "acctkey"]);
    let resp = anon.get(t.url(&get_url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"o\""));
    assert!(h.contains_key("expires"));
    assert!(!h.contains_key("x-object-meta-secret") && h["x-object-meta-public-tag"] == "p", "{h:?}");
    assert_eq!(resp.text().await.unwrap(), "hello");
    let head = anon.head(t.url(&get_url)).send().await.unwrap();
    assert_eq!(head.status(), 200, "a GET URL also allows HEAD");

    // Wrong method, tampered signature, past expiry, other object, wrong key: 401.
    let put_with_get_url = anon.put(t.url(&get_url)).body("x").send().await.unwrap();
    assert_eq!(put_with_get_url.status(), 401);
    let tampered = get_url.replace("temp_url_sig=", "temp_url_sig=0");
    assert_eq!(anon.get(t.url(&tampered)).send().await.unwrap().status(), 401);
    let expired = tempurl(&["--absolute", "GET", "1000000000", &format!("{acct}/c/o"), "acctkey"]);
    assert_eq!(anon.get(t.url(&expired)).send().await.unwrap().status(), 401);
    let other = get_url.replacen("/c/o?", "/c/pre/a?", 1);
    assert_eq!(anon.get(t.url(&other)).send().await.unwrap().status(), 401);
    let wrong_key = tempurl(&["GET", "600", &format!("{acct}/c/o"), "notthekey"]);
    assert_eq!(anon.get(t.url(&wrong_key)).send().await.unwrap().status(), 401);
    let resp = anon.get(t.url(&tampered)).send().await.unwrap();
    assert!(resp.text().await.unwrap().contains("Temp URL invalid"));

    // A PUT URL writes exactly its object; headers reaching other objects are refused.
    let put_url = tempurl(&["PUT", "600", &format!("{acct}/c/new"), "acctkey"]);
    assert_eq!(anon.put(t.url(&put_url)).body("uploaded").send().await.unwrap().status(), 201);
    let back = t.req(&s, Method::GET, "/c/new").send().await.unwrap();
    assert_eq!(back.text().await.unwrap(), "uploaded");
    let manifest = anon.put(t.url(&put_url)).header("X-Object-Manifest", "c/pre").body("").send().await.unwrap();
    assert_eq!(manifest.status(), 400);

    // Prefix URLs cover every object under the prefix, and nothing else.
    let prefix_url = tempurl(&["--prefix-based", "GET", "600", &format!("{acct}/c/pre"), "acctkey"]);
    let (_, query) = prefix_url.split_once('?').unwrap();
    let inside = anon.get(t.url(&format!("{acct}/c/pre/a?{query}"))).send().await.unwrap();
    assert_eq!(inside.status(), 200);
    assert_eq!(inside.text().await.unwrap(), "in prefix");
    let outside = anon.get(t.url(&format!("{acct}/c/o?{query}"))).send().await.unwrap();
    assert_eq!(outside.status(), 401);

    // A container key signs for its container only.
    put(&t, &s, "/c2", "", &[("X-Container-Meta-Temp-URL-Key", "ckey")]).await;
    put(&t, &s, "/c2/x", "two", &[]).await;
    let in_scope = tempurl(&["GET", "600", &format!("{acct}/c2/x"), "ckey"]);
    assert_eq!(anon.get(t.url(&in_scope)).send().await.unwrap().status(), 200);
    let out_of_scope = tempurl(&["GET", "600", &format!("{acct}/c/o"), "ckey"]);
    assert_eq!(anon.get(t.url(&out_of_scope)).send().await.unwrap().status(), 401);

    // Keys are the owner's: another account's user cannot read them.
    let other_user = t.login("test2:tester2", "testing2").await;
    let peek = t.http.head(&s.url).header("X-Auth-Token", &other_user.token).send().await.unwrap();
    assert_eq!(peek.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_and_actual_requests() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let acct = account_path(&s);
    let origin_ok = "http://good.example";
    let cors = [
        ("X-Container-Meta-Access-Control-Allow-Origin", "http://good.example http://also.example"),
        ("X-Container-Meta-Access-Control-Max-Age", "60"),
        ("X-Container-Meta-Access-Control-Expose-Headers", "X-Custom"),
    ];
    put(&t, &s, "/web", "", &cors).await;
    put(&t, &s, "/web/page", "<html/>", &[("X-Object-Meta-Color", "red")]).await;
    put(&t, &s, "/plain", "", &[]).await;

    let preflight = |path: String, origin: &'static str, method: &'static str| {
        t.http
            .request(Method::OPTIONS, t.url(&path))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", "x-auth-token, content-type")
            .send()
    };
    // An allowed origin gets its rule, without a token.
    let resp = preflight(format!("{acct}/web/page"), "http://good.example", "PUT").await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], origin_ok);
    assert_eq!(h["access-control-max-age"], "60");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("PUT"));
    assert_eq!(h["access-control-allow-headers"], "x-auth-token, content-type");
    // Other origins, unknown methods and containers without rules are refused.
    let bad_origin = preflight(format!("{acct}/web/page"), "http://evil.example", "GET").await.unwrap();
    assert_eq!(bad_origin.status(), 401);
    assert!(!bad_origin.headers().contains_key("access-control-allow-origin"));
    assert_eq!(preflight(format!("{acct}/web/page"), "http://good.example", "BREW").await.unwrap().status(), 401);
    assert_eq!(preflight(format!("{acct}/plain/x"), "http://good.example", "GET").await.unwrap().status(), 401);
    // Plain OPTIONS (no Origin) lists the allowed methods.
    let plain = t.http.request(Method::OPTIONS, t.url(&format!("{acct}/web/page"))).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(plain.headers()["allow"].to_str().unwrap().contains("COPY"));

    // Actual requests from an allowed origin expose the headers a browser script may read.
    let resp = t.req(&s, Method::GET, "/web/page").header("Origin", origin_ok).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], origin_ok);
    let expose = h["access-control-expose-headers"].to_str().unwrap();
    for name in ["etag", "x-object-meta-color", "x-custom"] {
        assert!(expose.contains(name), "{name} not in {expose}");
    }
    // Strict mode: a request from another origin gets no CORS headers (the browser blocks it).
    let resp = t.req(&s, Method::GET, "/web/page").header("Origin", "http://evil.example").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}
