//! The account server against real SQLite files: account lifecycle, container reports,
//! listings in every format, deletion marking, REPLICATE, and bad input.

use bytes::Bytes;
use common::http::{full, HttpClient};
use common::secrets::Secrets;
use common::HashPathSecret;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// method, path, headers, expected status
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, StatusCode);
const A: &str = "/sda/7/AUTH_test";

struct Server {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    cancel: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn secrets() -> &'static Secrets {
    static SECRETS: std::sync::OnceLock<Secrets> = std::sync::OnceLock::new();
    SECRETS.get_or_init(|| Secrets::with_new_backend_key(HashPathSecret::new("p", "s")))
}

fn cluster_client() -> HttpClient {
    HttpClient::default().with_signer(secrets().backend.signer.clone())
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sda")).unwrap();
    let cfg =
        account_server::AccountConfig { devices: dir.path().to_owned(), mount_check: false, ..Default::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move { account_server::serve(listener, cfg, secrets().clone(), c).await.unwrap() });
    Server { addr, _dir: dir, cancel }
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn header(&self, n: &str) -> Option<&str> {
        self.headers.get(n).and_then(|v| v.to_str().ok())
    }
}

async fn req(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut b = Request::builder().method(method).uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = cluster_client().send(b.body(full(Vec::new())).unwrap(), Duration::from_secs(10)).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    Resp { status, headers, body: resp.into_body().collect().await.unwrap().to_bytes() }
}

fn ts(t: u64) -> String {
    format!("{}.00000", 1_700_000_000 + t)
}

async fn report(addr: SocketAddr, name: &str, put: u64, delete: u64, objects: u64, bytes: u64) -> StatusCode {
    let (p, d, o, b) =
        (ts(put), if delete == 0 { "0".to_string() } else { ts(delete) }, objects.to_string(), bytes.to_string());
    let h = [("x-put-timestamp", p.as_str()), ("x-delete-timestamp", &d), ("x-object-count", &o), ("x-bytes-used", &b)];
    req(addr, "PUT", &format!("{A}/{name}"), &h).await.status
}

#[tokio::test]
async fn account_lifecycle_and_container_reports() {
    let s = start().await;
    let a = s.addr;
    assert_eq!(report(a, "c", 1, 0, 1, 1).await, StatusCode::NOT_FOUND, "no account yet");
    assert_eq!(
        req(a, "PUT", A, &[("x-timestamp", &ts(1)), ("x-account-meta-temp-url-key", "k")]).await.status,
        StatusCode::CREATED
    );
    assert_eq!(req(a, "PUT", A, &[("x-timestamp", &ts(2))]).await.status, StatusCode::ACCEPTED);
    assert_eq!(report(a, "c1", 3, 0, 2, 20).await, StatusCode::CREATED);
    assert_eq!(report(a, "c2", 3, 0, 5, 50).await, StatusCode::CREATED);
    assert_eq!(report(a, "c1", 4, 0, 3, 30).await, StatusCode::CREATED, "newer stats replace");
    assert_eq!(report(a, "c3", 3, 0, 0, 0).await, StatusCode::CREATED);
    assert_eq!(report(a, "c3", 3, 4, 0, 0).await, StatusCode::NO_CONTENT, "deleted container report");
    let head = req(a, "HEAD", A, &[]).await;
    assert_eq!(head.status, StatusCode::NO_CONTENT);
    assert_eq!(head.header("x-account-container-count"), Some("2"));
    assert_eq!(head.header("x-account-object-count"), Some("8"));
    assert_eq!(head.header("x-account-bytes-used"), Some("80"));
    assert_eq!(head.header("x-put-timestamp"), Some(ts(2).as_str()));
    assert_eq!(head.header("x-account-meta-temp-url-key"), Some("k"));
    assert_eq!(
        req(a, "POST", A, &[("x-timestamp", &ts(5)), ("x-account-meta-quota-bytes", "1000")]).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(req(a, "HEAD", A, &[]).await.header("x-account-meta-quota-bytes"), Some("1000"));

    // Listings, every format.
    let json: serde_json::Value =
        serde_json::from_slice(&req(a, "GET", &format!("{A}?format=json"), &[]).await.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"name": "c1", "count": 3, "bytes": 30, "last_modified": "2023-11-14T22:13:24.000000"},
            {"name": "c2", "count": 5, "bytes": 50, "last_modified": "2023-11-14T22:13:23.000000"}
        ])
    );
    let plain = req(a, "GET", A, &[]).await;
    assert_eq!((plain.status, plain.header("content-type")), (StatusCode::OK, Some("text/plain; charset=utf-8")));
    assert_eq!(plain.body, "c1\nc2\n");
    let xml = req(a, "GET", A, &[("accept", "application/xml")]).await;
    let text = String::from_utf8(xml.body.to_vec()).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"AUTH_test\">"), "{text}");
    assert!(text.contains("<container><name>c1</name><count>3</count><bytes>30</bytes>"));
    assert_eq!(req(a, "GET", &format!("{A}?reverse=true&limit=1"), &[]).await.body, "c2\n");
    assert_eq!(req(a, "GET", &format!("{A}?marker=c1"), &[]).await.body, "c2\n");
    assert_eq!(req(a, "GET", &format!("{A}?prefix=x"), &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(report(a, "d-1", 6, 0, 1, 1).await, StatusCode::CREATED);
    assert_eq!(report(a, "d-2", 6, 0, 1, 1).await, StatusCode::CREATED);
    assert_eq!(report(a, "d/2", 6, 0, 1, 1).await, StatusCode::BAD_REQUEST, "no '/' in container names");
    assert_eq!(req(a, "GET", &format!("{A}?delimiter=-"), &[]).await.body, "c1\nc2\nd-\n");
    let xml = req(a, "GET", &format!("{A}?delimiter=-&format=xml"), &[]).await;
    assert!(String::from_utf8_lossy(&xml.body).contains("<subdir name=\"d-\" />"));

    // Delete marks the account deleted; it cannot be re-created by PUT.
    let del = req(a, "DELETE", A, &[("x-timestamp", &ts(7))]).await;
    assert_eq!((del.status, del.header("x-account-status")), (StatusCode::NO_CONTENT, Some("Deleted")));
    let head = req(a, "HEAD", A, &[]).await;
    assert_eq!((head.status, head.header("x-account-status")), (StatusCode::NOT_FOUND, Some("Deleted")));
    assert_eq!(req(a, "GET", A, &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(req(a, "POST", A, &[("x-timestamp", &ts(8))]).await.status, StatusCode::NOT_FOUND);
    let put = req(a, "PUT", A, &[("x-timestamp", &ts(9))]).await;
    assert_eq!((put.status, put.header("x-account-status")), (StatusCode::FORBIDDEN, Some("Deleted")));
    assert_eq!(report(a, "c9", 9, 0, 1, 1).await, StatusCode::NOT_FOUND);
    let h = [
        ("x-put-timestamp", ts(9)),
        ("x-delete-timestamp", "0".into()),
        ("x-object-count", "1".into()),
        ("x-bytes-used", "1".into()),
        ("x-account-override-deleted", "yes".into()),
    ];
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(req(a, "PUT", &format!("{A}/c9"), &h).await.status, StatusCode::CREATED, "the reaper's override");
    let never = req(a, "HEAD", "/sda/7/AUTH_never", &[]).await;
    assert_eq!((never.status, never.header("x-account-status")), (StatusCode::NOT_FOUND, None));
}

#[tokio::test]
async fn bad_input_and_replicate() {
    let s = start().await;
    let a = s.addr;
    req(a, "PUT", A, &[("x-timestamp", &ts(1))]).await;
    let big = "v".repeat(257);
    let cases: Vec<Case> = vec![
        ("PUT", A.into(), vec![], StatusCode::BAD_REQUEST),
        (
            "PUT",
            format!("{A}/c"),
            vec![("x-put-timestamp", "1"), ("x-object-count", "1"), ("x-bytes-used", "1")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PUT",
            format!("{A}/c"),
            vec![("x-put-timestamp", "1"), ("x-delete-timestamp", "0"), ("x-object-count", "x"), ("x-bytes-used", "1")],
            StatusCode::BAD_REQUEST,
        ),
        ("POST", A.into(), vec![("x-timestamp", "1"), ("x-account-meta-big", &big)], StatusCode::BAD_REQUEST),
        ("GET", format!("{A}?limit=10001"), vec![], StatusCode::PRECONDITION_FAILED),
        ("GET", format!("{A}?prefix=%FF"), vec![], StatusCode::BAD_REQUEST),
        ("GET", format!("{A}?format=csv"), vec![], StatusCode::BAD_REQUEST),
        ("GET", format!("{A}/c"), vec![], StatusCode::BAD_REQUEST),
        ("GET", "/sda/7/AUTH_%FF".into(), vec![], StatusCode::PRECONDITION_FAILED),
        ("GET", format!("/sda/7/{}", "a".repeat(257)), vec![], StatusCode::BAD_REQUEST),
        ("COPY", A.into(), vec![], StatusCode::METHOD_NOT_ALLOWED),
        ("HEAD", "/nodev/7/AUTH_test".into(), vec![], StatusCode::INSUFFICIENT_STORAGE),
    ];
    for (m, p, h, want) in &cases {
        assert_eq!(req(a, m, p, h).await.status, *want, "{m} {p} {h:?}");
    }
    let head = req(a, "HEAD", A, &[]).await;
    assert_eq!(head.header("x-account-container-count"), Some("0"));
    assert_eq!(head.header("x-account-meta-big"), None);

    // REPLICATE sync on the account DB: the reply carries its info and our point.
    let hash = HashPathSecret::new("p", "s").hash_hex("AUTH_test", None, None);
    report(a, "c", 2, 0, 1, 1).await;
    let client = cluster_client();
    let sync = serde_json::json!(["sync", {
        "max_row": 9, "hash": "00000000000000000000000000000000", "id": "peer-1",
        "created_at": ts(0), "put_timestamp": ts(1), "delete_timestamp": "0", "metadata": {}
    }]);
    let r = client
        .send(
            Request::builder()
                .method("REPLICATE")
                .uri(format!("http://{a}/sda/7/{hash}"))
                .body(full(serde_json::to_vec(&sync).unwrap()))
                .unwrap(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        (v["point"].as_i64(), v["container_count"].as_i64(), v["max_row"].as_i64()),
        (Some(-1), Some(1), Some(1))
    );
}

#[tokio::test]
async fn only_the_cluster_may_call_an_account_server() {
    let s = start().await;
    let a = s.addr;
    assert_eq!(req(a, "PUT", A, &[("x-timestamp", &ts(1))]).await.status, StatusCode::CREATED);
    // A stranger on the storage network: no signature, or one made with another key.
    let stranger = HttpClient::default()
        .with_signer(common::backend_auth::Signer::new(&common::backend_auth::BackendKey::generate()));
    for client in [HttpClient::default(), stranger] {
        for (method, path) in [("DELETE", A), ("PUT", "/sda/0/AUTH_test/evil"), ("GET", A), ("REPLICATE", "/sda/0/x")] {
            let b = Request::builder().method(method).uri(format!("http://{a}{path}")).header("x-timestamp", ts(9));
            let resp = client.send(b.body(full(Vec::new())).unwrap(), Duration::from_secs(10)).await.unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        }
    }
    let head = req(a, "HEAD", A, &[]).await;
    assert_eq!((head.status, head.header("x-account-container-count")), (StatusCode::NO_CONTENT, Some("0")));
}
