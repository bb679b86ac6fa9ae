//! Test harness: a real object server on 127.0.0.1:0 over a temp devices dir, a small
//! recording HTTP server standing in for container servers, and request helpers.
#![allow(dead_code)]

use bytes::Bytes;
use common::backend_auth::{BackendAuth, BackendKey, DEFAULT_WINDOW};
use common::http::{empty, full, text, Body, HttpClient, ServerOptions};
use common::secrets::Secrets;
use common::{HashPathSecret, Timestamp};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use object_server::{ObjectServer, ObjectServerConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swiftlet_object_store::Devices;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub fn secret() -> HashPathSecret {
    HashPathSecret::new("test-prefix", "test-suffix")
}

/// The test cluster's backend key: one for every server of this test process.
pub fn backend_key() -> &'static BackendKey {
    static KEY: std::sync::OnceLock<BackendKey> = std::sync::OnceLock::new();
    KEY.get_or_init(BackendKey::generate)
}

/// The test cluster's secrets.
pub fn secrets() -> Secrets {
    Secrets { hash_path: secret(), backend: BackendAuth::new(backend_key(), DEFAULT_WINDOW) }
}

/// A client that signs like the cluster's servers.
pub fn cluster_client() -> HttpClient {
    HttpClient::default().with_signer(secrets().backend.signer)
}

pub struct Server {
    pub addr: SocketAddr,
    pub dir: TempDir,
    pub devices: Arc<Devices>,
    pub client: HttpClient,
    /// Holds `container.ring` (outside the devices root, which must hold only devices).
    pub swift_dir: TempDir,
    /// The container servers (`host:port`, device) the server's container ring names.
    container_devices: Mutex<Vec<(String, String)>>,
    cancel: CancellationToken,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Server {
    /// Devices `sda` and `sdb` as plain directories, mount_check off.
    pub async fn start() -> Server {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut ObjectServerConfig)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        for d in ["sda", "sdb"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let mut config = ObjectServerConfig { devices: dir.path().into(), mount_check: false, ..Default::default() };
        tweak(&mut config);
        Self::start_in(dir, config).await
    }

    pub async fn start_in(dir: TempDir, mut config: ObjectServerConfig) -> Server {
        let swift_dir = tempfile::tempdir().unwrap();
        config.swift_dir = swift_dir.path().to_path_buf();
        // A container ring naming no test's container server (port 1) until one adds its own.
        let placeholder = vec![("127.0.0.1:1".to_string(), "none".to_string())];
        write_container_ring(&config.swift_dir, &placeholder);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ObjectServer::new(config, &secrets()).unwrap();
        let devices = server.devices();
        let cancel = CancellationToken::new();
        tokio::spawn(server.serve(listener, cancel.clone()));
        let container_devices = Mutex::new(placeholder);
        Server { addr, dir, devices, client: cluster_client(), swift_dir, container_devices, cancel }
    }

    /// Adds container server devices (`host:port`, device name) to the server's container
    /// ring, each a primary of every partition: updates may go to them from now on.
    pub fn add_container_devices(&self, devices: &[(&str, &str)]) {
        let mut all = self.container_devices.lock().unwrap();
        all.extend(devices.iter().map(|(h, d)| (h.to_string(), d.to_string())));
        write_container_ring(self.swift_dir.path(), &all);
    }

    pub fn device_path(&self, dev: &str) -> PathBuf {
        self.dir.path().join(dev)
    }

    pub async fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Resp {
        let body: Bytes = body.into();
        let body = if body.is_empty() && method != "PUT" { empty() } else { full(body) };
        self.send(method, path, headers, body).await
    }

    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Body) -> Resp {
        send(&self.client, self.addr, method, path, headers, body).await
    }
}

/// Partitions in the test container rings.
pub const CONTAINER_PART_POWER: u8 = 8;

/// A ring device at `host` (`ip:port`) named `device`.
pub fn ring_device(id: u32, host: &str, device: &str) -> swiftlet_ring::Device {
    let addr: SocketAddr = host.parse().unwrap();
    swiftlet_ring::Device {
        id,
        region: 1,
        zone: id + 1,
        ip: addr.ip().to_string(),
        port: addr.port(),
        replication_ip: addr.ip().to_string(),
        replication_port: addr.port(),
        device: device.to_string(),
        weight: 1.0,
        meta: String::new(),
    }
}

/// Writes `<swift_dir>/container.ring` where every device is a primary of every partition.
pub fn write_container_ring(swift_dir: &Path, devices: &[(String, String)]) {
    let devs = devices.iter().enumerate().map(|(i, (h, d))| Some(ring_device(i as u32, h, d))).collect();
    let rows = (0..devices.len()).map(|r| vec![r as u16; 1 << CONTAINER_PART_POWER]).collect();
    let ring = swiftlet_ring::Ring::new(CONTAINER_PART_POWER, 1, devs, rows).unwrap();
    ring.save(&swift_dir.join("container.ring")).unwrap();
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

pub async fn send(
    client: &HttpClient,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Resp {
    let mut b = Request::builder().method(method).uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = client.send(b.body(body).unwrap(), Duration::from_secs(30)).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    Resp { status, headers, body }
}

/// Timestamps that increase in the order they are asked for, starting at about now.
pub struct Clock(u64);

impl Clock {
    pub fn new() -> Clock {
        Clock(Timestamp::now().ticks())
    }
    /// `n` hundredths of a second after the clock's start, as X-Timestamp text.
    pub fn at(&self, n: u64) -> String {
        Timestamp::from_ticks(self.0 + n * 1000).internal()
    }
}

/// A raw HTTP/1.1 request (head and whatever follows) with the cluster's backend signature
/// added after its request line, as a signing client would send it.
pub fn signed(request: &[u8]) -> Vec<u8> {
    let head_len = request.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole request head");
    let head = std::str::from_utf8(&request[..head_len]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap();
    let mut parts = request_line.split(' ');
    let method = http::Method::from_bytes(parts.next().unwrap().as_bytes()).unwrap();
    let target = parts.next().unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        let name = http::HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes()).unwrap();
        headers.append(name, http::HeaderValue::from_str(value.trim()).unwrap());
    }
    secrets().backend.signer.sign(&method, target, &mut headers);
    let signature = headers[common::backend_auth::SIGNATURE_HEADER].to_str().unwrap();
    let mut out = format!("{request_line}\r\n{}: {signature}", common::backend_auth::SIGNATURE_HEADER).into_bytes();
    out.extend_from_slice(&request[request_line.len()..]);
    out
}

/// Sends raw bytes (signed, see [`signed`]) and returns the raw response head (for requests
/// a client would refuse to build).
pub async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&signed(request)).await.unwrap();
    let mut buf = vec![0u8; 65536];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// The status code of a raw response.
pub fn raw_status(resp: &str) -> u16 {
    resp.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Every regular file under `dir` (recursively).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Object files (`.data`, `.meta`, `.ts`) of a device.
pub fn object_files(dev: &Path) -> Vec<PathBuf> {
    files_under(&dev.join("objects"))
}

/// A request the recorder saw.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
}

impl Recorded {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A stand-in container server: records every request, answers `status` after `delay`.
pub struct Recorder {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Recorded>>>,
    cancel: CancellationToken,
}

impl Recorder {
    pub async fn start(status: u16, delay: Duration) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let cancel = CancellationToken::new();
        let log = seen.clone();
        let handler = move |req: Request<Incoming>| {
            let log = log.clone();
            async move {
                let rec = Recorded {
                    method: req.method().to_string(),
                    path: req.uri().path().to_string(),
                    headers: req.headers().clone(),
                };
                log.lock().unwrap().push(rec);
                tokio::time::sleep(delay).await;
                text(StatusCode::from_u16(status).unwrap(), "")
            }
        };
        tokio::spawn(common::http::serve(listener, handler, ServerOptions::default(), cancel.clone()));
        Recorder { addr, seen, cancel }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Polls `f` until it is true or `timeout` passes.
pub async fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A port nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// True if `path` is on ext4 (whose xattrs share one 4 KiB block).
pub fn is_ext4(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: c is NUL-terminated; st is a plain out-parameter.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    rc == 0 && st.f_type as i64 == 0xEF53
}

/// A PUT's headers naming `host`/`device`/`part` as the container server to update.
pub fn update_headers<'a>(host: &'a str, device: &'a str, part: &'a str, ts: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("x-container-host", host),
        ("x-container-device", device),
        ("x-container-partition", part),
        ("x-timestamp", ts),
        ("content-type", "a/b"),
    ]
}

/// A PUT's headers expiring the object at `at`, queued with the expirer's container server
/// `host`/`device` (partition 3, container 0001700000).
pub fn delete_at_headers<'a>(ts: &'a str, at: &'a str, host: &'a str, device: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("x-timestamp", ts),
        ("content-type", "a/b"),
        ("x-delete-at", at),
        ("x-delete-at-host", host),
        ("x-delete-at-device", device),
        ("x-delete-at-partition", "3"),
        ("x-delete-at-container", "0001700000"),
    ]
}
