//! Hostile clients against the Swift API's authorization: anonymous callers and `*` ACLs,
//! the owner's headers, strangers on every verb and middleware path, Keystone readers,
//! reseller prefixes, tokens signed with what every storage node knows, and internal
//! headers a client sends to reach the storage servers.

mod cloud_support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cloud_support::{identity_url, login, Env};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use swiftlet_tests::{Session, TestCluster};

async fn status(t: &TestCluster, s: &Session, method: Method, path: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut req = t.req(s, method, path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request").status()
}

/// A request with no credentials at all.
async fn anonymous(t: &TestCluster, method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> StatusCode {
    let mut req = t.http.request(method, url).body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_clients_get_nothing_from_star_acls() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let acl = [("x-container-read", "*"), ("x-container-write", "*")];
    assert_eq!(status(&t, &s, Method::PUT, "/star", &acl).await, StatusCode::CREATED);
    let put = t.req(&s, Method::PUT, "/star/secret").body("private bytes").send().await.unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let base = s.url.clone();
    for (method, path, body) in [
        (Method::GET, "/star/secret", ""),
        (Method::HEAD, "/star/secret", ""),
        (Method::GET, "/star", ""),
        (Method::PUT, "/star/planted", "x"),
        (Method::POST, "/star/secret", ""),
        (Method::DELETE, "/star/secret", ""),
    ] {
        let got = anonymous(&t, method.clone(), &format!("{base}{path}"), &[], body).await;
        assert_eq!(got, StatusCode::UNAUTHORIZED, "anonymous {method} {path}");
    }
    // Any authenticated user does match `*` (S3's AuthenticatedUsers).
    let other = t.login("test2:tester2", "testing2").await;
    let read = t.http.get(format!("{base}/star/secret")).header("x-auth-token", &other.token).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.text().await.unwrap(), "private bytes");
    assert_eq!(status(&t, &s, Method::HEAD, "/star/planted", &[]).await, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_only_headers_are_stripped_for_everyone_else() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let owner_only = [
        ("x-container-meta-temp-url-key", "ckey1"),
        ("x-container-meta-temp-url-key-2", "ckey2"),
        ("x-container-read", ".r:*,.rlistings,test2:tester2"),
        ("x-container-write", "test:tester3"),
        ("x-container-sync-key", "synckey"),
        ("x-container-sync-to", "http://example.invalid/v1/AUTH_x/c"),
        ("x-container-meta-access-control-allow-origin", "*"),
        ("x-container-meta-color", "blue"),
    ];
    assert_eq!(status(&t, &s, Method::PUT, "/pub", &owner_only).await, StatusCode::CREATED);
    let account_keys = [("x-account-meta-temp-url-key", "akey1"), ("x-account-meta-temp-url-key-2", "akey2")];
    assert_eq!(status(&t, &s, Method::POST, "", &account_keys).await, StatusCode::NO_CONTENT);
    let secrets = ["ckey1", "ckey2", "akey1", "akey2", "synckey", "test:tester3", "temp-url-key", "sync"];

    let url = format!("{}/pub", s.url);
    let other = t.login("test2:tester2", "testing2").await;
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("anonymous HEAD", t.http.head(&url)),
        ("anonymous GET", t.http.get(&url)),
        ("anonymous CORS GET", t.http.get(&url).header("origin", "http://evil.example")),
        ("reader HEAD", t.http.head(&url).header("x-auth-token", &other.token)),
    ];
    for (who, req) in cases {
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{who}: {}", resp.status());
        for (name, value) in resp.headers() {
            let line = format!("{}: {}", name, value.to_str().unwrap_or("")).to_ascii_lowercase();
            for secret in secrets {
                assert!(!line.contains(secret), "{who} sees {line}");
            }
            assert!(!line.starts_with("x-container-read") && !line.starts_with("x-container-write"), "{who}: {line}");
        }
        assert_eq!(resp.headers().get("x-container-meta-color").map(|v| v.to_str().unwrap()), Some("blue"), "{who}");
    }
    // The owner still sees them all.
    let head = t.req(&s, Method::HEAD, "/pub").send().await.unwrap();
    assert_eq!(head.headers()["x-container-meta-temp-url-key"], "ckey1");
    assert_eq!(head.headers()["x-container-read"], ".r:*,.rlistings,test2:tester2");
    let account = t.http.head(&s.url).header("x-auth-token", &other.token).send().await.unwrap();
    assert!(account.headers().get("x-account-meta-temp-url-key").is_none());
}

/// One request a stranger tries: method, URL, headers, body.
type StrangerRequest<'a> = (Method, String, Vec<(&'a str, &'a str)>, &'a str);

/// Every verb on every kind of path, and the middleware entry points, without credentials
/// or with forged ones: refused, and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_refused_on_every_verb_and_middleware_path() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(status(&t, &s, Method::PUT, "/c", &[]).await, StatusCode::CREATED);
    assert_eq!(t.req(&s, Method::PUT, "/c/o").body("data").send().await.unwrap().status(), StatusCode::CREATED);
    let base = s.url.clone();
    let forged = format!("AUTH_tk{}", "0".repeat(32));
    let slo = r#"[{"path": "/c/o"}]"#;
    let requests: Vec<StrangerRequest> = vec![
        (Method::GET, base.clone(), vec![], ""),
        (Method::POST, base.clone(), vec![("x-account-meta-x", "1")], ""),
        (Method::PUT, format!("{base}/new"), vec![], ""),
        (Method::DELETE, format!("{base}/c"), vec![], ""),
        (Method::POST, format!("{base}/c"), vec![("x-container-read", ".r:*")], ""),
        (Method::GET, format!("{base}/c/o"), vec![], ""),
        (Method::PUT, format!("{base}/c/o2"), vec![], "x"),
        (Method::DELETE, format!("{base}/c/o"), vec![], ""),
        (Method::from_bytes(b"COPY").unwrap(), format!("{base}/c/o"), vec![("destination", "c/o3")], ""),
        (Method::PUT, format!("{base}/c/o4"), vec![("x-copy-from", "c/o")], ""),
        (Method::PUT, format!("{base}/c/slo?multipart-manifest=put"), vec![], slo),
        (Method::PUT, format!("{base}/c/dlo"), vec![("x-object-manifest", "c/o")], ""),
        (Method::POST, format!("{base}?bulk-delete"), vec![("content-type", "text/plain")], "c/o\n"),
        (Method::GET, format!("{base}/c/o?temp_url_sig=00&temp_url_expires=9999999999"), vec![], ""),
        (Method::PUT, format!("{base}/c/o?temp_url_sig=00&temp_url_expires=9999999999"), vec![], "x"),
    ];
    for (method, url, headers, body) in &requests {
        let none = anonymous(&t, method.clone(), url, headers, body).await;
        assert!(matches!(none.as_u16(), 401 | 403), "anonymous {method} {url}: {none}");
        let mut with_forged: Vec<(&str, &str)> = headers.clone();
        with_forged.push(("x-auth-token", &forged));
        let bad = anonymous(&t, method.clone(), url, &with_forged, body).await;
        assert_eq!(bad, StatusCode::UNAUTHORIZED, "forged token {method} {url}");
    }
    let listing = t.req(&s, Method::GET, "/c").send().await.unwrap().text().await.unwrap();
    assert_eq!(listing.lines().collect::<Vec<_>>(), ["o"], "nothing was added or removed");
}

/// A Keystone reader reads its project's account, but writes nothing there: not through a
/// COPY from another account with `Destination-Account`, and it is never shown the
/// account's or a container's TempURL keys to sign its own writes with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystone_readers_write_nothing_by_copy_and_see_no_keys() {
    let t = Env::start().await;
    let base = identity_url(&t);
    let admin = login(&t, "admin", "admin", "admin").await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let api = |m: Method, path: &str| t.http.request(m, format!("{base}{path}")).header("x-auth-token", &admin.id);
    let user = json!({"user": {"name": "viewer", "password": "v1ewer", "default_project_id": demo.project_id()}});
    let r = api(Method::POST, "/users").json(&user).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let viewer_id = r.json::<Value>().await.unwrap()["user"]["id"].as_str().unwrap().to_string();
    let roles: Value = api(Method::GET, "/roles?name=reader").send().await.unwrap().json().await.unwrap();
    let reader_role = roles["roles"][0]["id"].as_str().unwrap().to_string();
    let grant = format!("/projects/{}/users/{viewer_id}/roles/{reader_role}", demo.project_id());
    assert_eq!(api(Method::PUT, &grant).send().await.unwrap().status(), 204);
    let viewer = login(&t, "viewer", "v1ewer", "demo").await;

    let proxy = t.cluster.proxy_url();
    let own = format!("{proxy}/v1/AUTH_{}", demo.project_id());
    let elsewhere = format!("{proxy}/v1/AUTH_{}", admin.project_id());
    let req = |m: Method, url: String, token: &str| t.http.request(m, url).header("x-auth-token", token);
    // The member sets keys on its account and its container; the admin project shares a
    // container everyone may read.
    let keys = req(Method::POST, own.clone(), &demo.id).header("x-account-meta-temp-url-key", "akey");
    assert_eq!(keys.send().await.unwrap().status(), 204);
    let put = req(Method::PUT, format!("{own}/box"), &demo.id).header("x-container-meta-temp-url-key", "ckey");
    assert_eq!(put.send().await.unwrap().status(), 201);
    let shared = req(Method::PUT, format!("{elsewhere}/shared"), &admin.id).header("x-container-read", ".r:*");
    assert_eq!(shared.send().await.unwrap().status(), 201);
    let src = req(Method::PUT, format!("{elsewhere}/shared/src"), &admin.id).body("copied bytes");
    assert_eq!(src.send().await.unwrap().status(), 201);

    // The reader reads, but sees no key.
    let head = req(Method::HEAD, own.clone(), &viewer.id).send().await.unwrap();
    assert!(head.status().is_success(), "{}", head.status());
    assert!(head.headers().get("x-account-meta-temp-url-key").is_none(), "the reader sees the account key");
    let head = req(Method::HEAD, format!("{own}/box"), &viewer.id).send().await.unwrap();
    assert!(head.status().is_success(), "{}", head.status());
    assert!(head.headers().get("x-container-meta-temp-url-key").is_none(), "the reader sees the container key");

    // COPY from the shared container into its own account: a write there, refused.
    let copy = req(Method::from_bytes(b"COPY").unwrap(), format!("{elsewhere}/shared/src"), &viewer.id)
        .header("destination", "box/planted")
        .header("destination-account", format!("AUTH_{}", demo.project_id()));
    assert_eq!(copy.send().await.unwrap().status(), 403);
    let put_copy = req(Method::PUT, format!("{own}/box/planted2"), &viewer.id)
        .header("x-copy-from", "shared/src")
        .header("x-copy-from-account", format!("AUTH_{}", admin.project_id()));
    assert_eq!(put_copy.send().await.unwrap().status(), 403);
    for name in ["planted", "planted2"] {
        let gone = req(Method::HEAD, format!("{own}/box/{name}"), &demo.id).send().await.unwrap();
        assert_eq!(gone.status(), 404, "{name} was written");
    }
    // The member still copies the same way.
    let copy = req(Method::from_bytes(b"COPY").unwrap(), format!("{elsewhere}/shared/src"), &demo.id)
        .header("destination", "box/copied")
        .header("destination-account", format!("AUTH_{}", demo.project_id()));
    assert_eq!(copy.send().await.unwrap().status(), 201);
}

/// Reseller admins own every account under their auth system's prefix, and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_one_owns_accounts_outside_its_reseller_prefix() {
    let t = TestCluster::start().await;
    let reseller = t.login("admin:admin", "admin").await;
    let tester = t.login("test:tester", "testing").await;
    for (who, s) in [("reseller admin", &reseller), ("account admin", &tester)] {
        for (method, path) in [(Method::GET, "/v1/OTHER_test"), (Method::PUT, "/v1/OTHER_test/c")] {
            let resp = t.http.request(method.clone(), t.url(path)).header("x-auth-token", &s.token).send().await;
            assert_eq!(resp.unwrap().status(), StatusCode::FORBIDDEN, "{who} {method} {path}");
        }
    }
    let own = t.http.get(t.url("/v1/AUTH_test")).header("x-auth-token", &reseller.token).send().await.unwrap();
    assert!(own.status().is_success(), "the reseller admin still owns AUTH_test: {}", own.status());
}

type HmacSha256 = Hmac<Sha256>;

fn sign(key: &[u8], payload: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(payload);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Tokens signed with keys derived from the hash-path secret alone (which every storage node
/// holds), the way tempauth and Keystone keys once were, are forgeries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_signed_from_the_hash_path_secret_are_refused() {
    let t = TestCluster::start().await;
    let secret = &t.cluster.secret;
    let expires = 9_999_999_999u64;

    let mut tempauth_key = b"swiftlet-tempauth-v1\0".to_vec();
    tempauth_key.extend_from_slice(format!("{}\0{}", secret.prefix, secret.suffix).as_bytes());
    tempauth_key.push(0);
    let payload = format!("{expires}\nadmin\nadmin\nar");
    let tempauth = format!("AUTH_tk{}.{}", URL_SAFE_NO_PAD.encode(&payload), sign(&tempauth_key, payload.as_bytes()));

    let mut mac = HmacSha256::new_from_slice(b"swiftlet-keystone-tokens-v1").unwrap();
    mac.update(secret.prefix.as_bytes());
    mac.update(b"\0");
    mac.update(secret.suffix.as_bytes());
    let keystone_key = mac.finalize().into_bytes();
    let claims = json!({"id": "forged", "iat": 1, "exp": expires, "uid": "u", "uname": "mallory", "pid": "test",
        "pname": "test", "roles": ["admin", "ResellerAdmin"], "methods": ["password"]})
    .to_string();
    let keystone = format!("KS1{}.{}", URL_SAFE_NO_PAD.encode(&claims), sign(&keystone_key, claims.as_bytes()));

    for (kind, token) in [("tempauth", &tempauth), ("keystone", &keystone)] {
        for (method, path) in [(Method::GET, "/v1/AUTH_test"), (Method::PUT, "/v1/AUTH_test/forged")] {
            let resp = t.http.request(method.clone(), t.url(path)).header("x-auth-token", token).send().await;
            assert_eq!(resp.unwrap().status(), StatusCode::UNAUTHORIZED, "{kind} {method} {path}");
        }
    }
    // Genuine tokens still work.
    let s = t.login("test:tester", "testing").await;
    assert!(t.req(&s, Method::GET, "").send().await.unwrap().status().is_success());
}

/// Headers only the cluster's own servers may send (backend directives, system metadata,
/// timestamps, update targets) are dropped from client requests on every verb, so none
/// changes what is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_headers_from_clients_never_reach_storage() {
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    let internal: &[(&str, &str)] = &[
        ("x-timestamp", "9999999999.00000"),
        ("x-backend-container-update-override-etag", "forged"),
        ("x-backend-container-path", "AUTH_test/decoy"),
        ("x-backend-replication", "true"),
        ("x-object-sysmeta-planted", "1"),
        ("x-container-sysmeta-planted", "1"),
        ("x-account-sysmeta-planted", "1"),
        ("x-container-host", "127.0.0.1:1"),
        ("x-container-device", "sdx"),
        ("x-delete-at-host", "127.0.0.1:1"),
        ("x-delete-at-container", "0000000000"),
    ];
    assert_eq!(status(&t, &s, Method::PUT, "/c", internal).await, StatusCode::CREATED);
    assert_eq!(status(&t, &s, Method::POST, "", internal).await, StatusCode::NO_CONTENT);
    let put = t.req(&s, Method::PUT, "/c/o").headers(headers(internal)).body("first").send().await.unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(status(&t, &s, Method::POST, "/c/o", internal).await, StatusCode::ACCEPTED);
    let copy = [internal, &[("destination", "c/o2")]].concat();
    assert_eq!(status(&t, &s, Method::from_bytes(b"COPY").unwrap(), "/c/o", &copy).await, StatusCode::CREATED);
    assert_eq!(status(&t, &s, Method::GET, "/c/o", internal).await, StatusCode::OK);
    // Had the far-future X-Timestamp been stored, this later write would be older than it.
    let put = t.req(&s, Method::PUT, "/c/o").body("second").send().await.unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(t.req(&s, Method::GET, "/c/o").send().await.unwrap().text().await.unwrap(), "second");
    let listing: Value = t.req(&s, Method::GET, "/c?format=json").send().await.unwrap().json().await.unwrap();
    let etags: Vec<&str> = listing.as_array().unwrap().iter().map(|r| r["hash"].as_str().unwrap()).collect();
    assert!(!etags.contains(&"forged"), "{listing}");
    // A DELETE's container update is not sent elsewhere, nor its timestamp set by the client.
    let mut deleted = internal[1..].to_vec();
    deleted.push(("x-timestamp", "0000000001.00000"));
    assert_eq!(status(&t, &s, Method::DELETE, "/c/o", &deleted).await, StatusCode::NO_CONTENT);
    assert_eq!(status(&t, &s, Method::GET, "/c/o", &[]).await, StatusCode::NOT_FOUND);
    let listing = t.req(&s, Method::GET, "/c").send().await.unwrap().text().await.unwrap();
    assert_eq!(listing.lines().collect::<Vec<_>>(), ["o2"]);
    assert_eq!(status(&t, &s, Method::HEAD, "/decoy", &[]).await, StatusCode::NOT_FOUND);
    for verb in ["OPTIONS", "HEAD"] {
        let got = status(&t, &s, Method::from_bytes(verb.as_bytes()).unwrap(), "/c/o2", internal).await;
        assert!(got.is_success(), "{verb}: {got}");
    }
}

fn headers(list: &[(&str, &str)]) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in list {
        map.insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    map
}
