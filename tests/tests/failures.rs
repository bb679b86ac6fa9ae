//! Failure paths: stopped nodes, quorum loss, clients that vanish mid-upload.

use reqwest::Method;
use saio::{Cluster, ClusterOptions};
use swiftlet_tests::TestCluster;

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8).collect()
}

#[tokio::test]
async fn one_node_down_writes_and_reads_still_work() {
    let mut t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(t.req(&s, Method::PUT, "/c").send().await.unwrap().status(), 201);
    t.cluster.stop_node(0).await;
    // Small (buffered, retried on handoffs) and large (streamed) bodies.
    for (name, len) in [("small", 1000), ("large", 3 << 20)] {
        for i in 0..8 {
            let path = format!("/c/{name}-{i}");
            let r = t.req(&s, Method::PUT, &path).body(body(len)).send().await.unwrap();
            assert_eq!(r.status(), 201, "PUT {path}");
            let got = t.req(&s, Method::GET, &path).send().await.unwrap();
            assert_eq!(got.status(), 200, "GET {path}");
            assert_eq!(got.bytes().await.unwrap().len(), len);
        }
    }
    t.cluster.start_node(0).await.unwrap();
    for i in 0..8 {
        assert_eq!(t.req(&s, Method::GET, &format!("/c/small-{i}")).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn no_quorum_means_no_2xx() {
    let dir = tempfile::tempdir().unwrap();
    // Three nodes for three replicas: no handoffs exist, so two down loses the quorum.
    let opts = ClusterOptions { nodes: 3, ..ClusterOptions::ephemeral(dir.path()) };
    let mut cluster = Cluster::start(opts).await.unwrap();
    let http = reqwest::Client::new();
    let auth = http
        .get(format!("{}/auth/v1.0", cluster.proxy_url()))
        .header("X-Auth-User", "test:tester")
        .header("X-Auth-Key", "testing")
        .send()
        .await
        .unwrap();
    let token = auth.headers()["x-auth-token"].to_str().unwrap().to_string();
    let url = auth.headers()["x-storage-url"].to_str().unwrap().to_string();
    let put =
        |path: &str, len: usize| http.put(format!("{url}{path}")).header("X-Auth-Token", &token).body(body(len)).send();
    assert_eq!(put("/c", 0).await.unwrap().status(), 201);
    assert_eq!(put("/c/before", 10).await.unwrap().status(), 201);
    cluster.stop_node(1).await;
    cluster.stop_node(2).await;
    for (name, len) in [("small", 100), ("large", 2 << 20)] {
        let r = put(&format!("/c/{name}"), len).await.unwrap();
        assert_eq!(r.status(), 503, "PUT {name} without quorum");
    }
    let r = http.delete(format!("{url}/c/before")).header("X-Auth-Token", &token).send().await.unwrap();
    assert_eq!(r.status(), 503, "DELETE without quorum");
    cluster.start_node(1).await.unwrap();
    cluster.start_node(2).await.unwrap();
    let r = http.get(format!("{url}/c/before")).header("X-Auth-Token", &token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    cluster.shutdown().await;
}

#[tokio::test]
async fn client_disconnect_mid_upload_leaves_no_object() {
    use tokio::io::AsyncWriteExt;
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    t.req(&s, Method::PUT, "/c").send().await.unwrap();
    for len in [10_000usize, 8 << 20] {
        let mut conn = tokio::net::TcpStream::connect(t.cluster.proxy_addr).await.unwrap();
        let head = format!(
            "PUT /v1/AUTH_test/c/partial-{len} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Length: {len}\r\n\r\n",
            s.token
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(&body(len / 2)).await.unwrap();
        conn.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        drop(conn);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for len in [10_000usize, 8 << 20] {
        let r = t.req(&s, Method::GET, &format!("/c/partial-{len}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "partial upload of {len} must not exist");
    }
    assert_eq!(t.req(&s, Method::GET, "/c").send().await.unwrap().text().await.unwrap(), "");
}
