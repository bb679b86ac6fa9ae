//! Test harness: real servers on 127.0.0.1:0 over temp device dirs, and a small client.
#![allow(dead_code)]

use bytes::Bytes;
use common::http::{full, HttpClient};
use common::secrets::Secrets;
use common::HashPathSecret;
use container_server::{App, ContainerConfig};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub fn secret() -> HashPathSecret {
    HashPathSecret::new("pre", "suf")
}

/// The test cluster's secrets: one backend key for every server of this test process.
pub fn secrets() -> &'static Secrets {
    static SECRETS: std::sync::OnceLock<Secrets> = std::sync::OnceLock::new();
    SECRETS.get_or_init(|| Secrets::with_new_backend_key(secret()))
}

/// A client that signs like the cluster's servers.
pub fn cluster_client() -> HttpClient {
    HttpClient::default().with_signer(secrets().backend.signer.clone())
}

/// A running server; dropping it stops the server.
pub struct Node {
    pub addr: SocketAddr,
    pub devices: PathBuf,
    pub app: Option<Arc<App>>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Node {
    /// Stops the server and waits until its port is closed.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

pub fn devices_dir(root: &Path) -> PathBuf {
    let d = root.join("srv");
    std::fs::create_dir_all(d.join("sda")).unwrap();
    d
}

pub async fn bind(port: u16) -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap()
}

/// A container server over `devices` (mount_check off), with `tune` applied to its config.
pub async fn container_server(devices: &Path, port: u16, tune: impl FnOnce(&mut ContainerConfig)) -> Node {
    let mut cfg = ContainerConfig {
        devices: devices.to_owned(),
        mount_check: false,
        account_update_interval: 0.0,
        storage_policies: vec![0, 1],
        ..ContainerConfig::default()
    };
    tune(&mut cfg);
    let listener = bind(port).await;
    let addr = listener.local_addr().unwrap();
    let app = App::new(cfg, secrets());
    let cancel = CancellationToken::new();
    let (a, c) = (app.clone(), cancel.clone());
    let task = tokio::spawn(async move {
        container_server::serve_app(listener, a, c).await.unwrap();
    });
    Node { addr, devices: devices.to_owned(), app: Some(app), cancel, task: Some(task) }
}

pub async fn account_server(devices: &Path, port: u16) -> Node {
    let cfg = account_server::AccountConfig { devices: devices.to_owned(), mount_check: false, ..Default::default() };
    let listener = bind(port).await;
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let task = tokio::spawn(async move {
        account_server::serve(listener, cfg, secrets().clone(), c).await.unwrap();
    });
    Node { addr, devices: devices.to_owned(), app: None, cancel, task: Some(task) }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// Sends one request; `path` is used as given (already percent-encoded).
pub async fn req(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Resp {
    let client = cluster_client();
    let mut b = Request::builder().method(method).uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = client.send(b.body(full(body)).unwrap(), Duration::from_secs(30)).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp { status, headers, body }
}

/// `t` seconds after a fixed base, in X-Timestamp form.
pub fn ts(t: u64) -> String {
    format!("{}.00000", 1_700_000_000 + t)
}

pub async fn put_container(addr: SocketAddr, path: &str, t: u64) -> Resp {
    req(addr, "PUT", path, &[("x-timestamp", &ts(t))], vec![]).await
}

pub async fn put_row(addr: SocketAddr, path: &str, t: u64, size: u64) -> Resp {
    let size = size.to_string();
    let headers = [
        ("x-timestamp", ts(t)),
        ("x-size", size),
        ("x-content-type", "text/plain".to_string()),
        ("x-etag", "d41d8cd98f00b204e9800998ecf8427e".to_string()),
    ];
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    req(addr, "PUT", path, &h, vec![]).await
}

pub async fn delete_row(addr: SocketAddr, path: &str, t: u64) -> Resp {
    req(addr, "DELETE", path, &[("x-timestamp", &ts(t))], vec![]).await
}

/// The names in a JSON listing (objects and subdirs).
pub fn names(listing: &serde_json::Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.get("name").or_else(|| e.get("subdir")).and_then(|v| v.as_str()).unwrap().to_string())
        .collect()
}

/// Polls `check` until it is true or `secs` pass.
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
