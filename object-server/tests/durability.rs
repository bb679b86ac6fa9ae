//! Crashes, big bodies, full disks and unsuitable filesystems.
//!
//! The crash and memory tests run the real `object-server` binary as a child process. The
//! full-disk and no-xattr tests mount a tiny tmpfs / a ramfs (ramfs has no user xattrs); they
//! need root, and say so and return early without it.

mod support;

use bytes::{Bytes, BytesMut};
use common::http::{full, stream_body};
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{files_under, object_files, send, Clock, Server};

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(root: &Path) -> ServerProcess {
        let config = root.join("object-server.toml");
        let etc = root.join("etc");
        std::fs::create_dir_all(&etc).unwrap();
        support::write_container_ring(&etc, &[("127.0.0.1:1".into(), "none".into())]);
        std::fs::write(
            &config,
            format!(
                "mount_check = false\nswift_dir = {:?}\n\
                 [hash_path]\nprefix = \"test-prefix\"\nsuffix = \"test-suffix\"\n\
                 [backend]\nkey = \"{}\"\n",
                etc,
                support::backend_key().to_hex()
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_object-server"))
            .args(["--config", config.to_str().unwrap(), "--bind", "127.0.0.1:0"])
            .args(["--devices", root.join("devices").to_str().unwrap()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().rsplit(' ').next().unwrap().parse().unwrap();
        ServerProcess { child, addr }
    }

    fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn crash_between_write_and_rename_leaves_no_object() {
    let root = tempfile::tempdir().unwrap();
    let dev = root.path().join("devices/sda");
    std::fs::create_dir_all(&dev).unwrap();
    let mut server = ServerProcess::start(root.path());
    let ts = Clock::new().at(1);
    // Start a 10 MB upload and send 3 MB of it: the body is streaming into a temp file.
    let mut sock = std::net::TcpStream::connect(server.addr).unwrap();
    let head = format!(
        "PUT /sda/1/AUTH_t/c/crash HTTP/1.1\r\nHost: x\r\nX-Timestamp: {ts}\r\nContent-Type: a/b\r\nContent-Length: 10000000\r\n\r\n"
    );
    sock.write_all(&support::signed(head.as_bytes())).unwrap();
    sock.write_all(&vec![b'z'; 3_000_000]).unwrap();
    let tmp = dev.join("tmp");
    let partial = support::eventually(Duration::from_secs(10), || {
        files_under(&tmp).iter().any(|f| std::fs::metadata(f).map(|m| m.len() >= 1 << 20).unwrap_or(false))
    })
    .await;
    assert!(partial, "the upload should be in a temp file");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(sock);
    assert!(!files_under(&tmp).is_empty(), "the crash left a partial temp file");
    assert!(object_files(&dev).is_empty(), "nothing was renamed into place");

    let server = ServerProcess::start(root.path());
    let client = support::cluster_client();
    let get = send(&client, server.addr, "GET", "/sda/1/AUTH_t/c/crash", &[], common::http::empty()).await;
    assert_eq!(get.status, 404);
    assert!(files_under(&tmp).is_empty(), "startup removed the stale temp file");
    let put = send(
        &client,
        server.addr,
        "PUT",
        "/sda/1/AUTH_t/c/crash",
        &[("x-timestamp", &ts), ("content-type", "a/b")],
        full("ok"),
    )
    .await;
    assert_eq!(put.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_streams_in_constant_memory() {
    const SIZE: u64 = 1 << 30;
    const BLOCK: usize = 1 << 20;
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("devices/sda")).unwrap();
    let server = ServerProcess::start(root.path());
    let client = support::cluster_client();
    let ts = Clock::new().at(1);

    // The body is generated block by block while it is sent, and hashed on the way.
    let md5 = std::sync::Arc::new(std::sync::Mutex::new(Md5::new()));
    let hasher = md5.clone();
    let blocks = futures::stream::iter(0..(SIZE / BLOCK as u64)).map(move |i| {
        let mut b = BytesMut::zeroed(BLOCK);
        b[..8].copy_from_slice(&i.to_le_bytes());
        hasher.lock().unwrap().update(&b);
        Ok::<Bytes, std::io::Error>(b.freeze())
    });
    use futures::StreamExt;
    let len = SIZE.to_string();
    let headers = [("x-timestamp", ts.as_str()), ("content-type", "a/b"), ("content-length", len.as_str())];
    let put = send(&client, server.addr, "PUT", "/sda/1/AUTH_t/c/big", &headers, stream_body(blocks)).await;
    assert_eq!(put.status, 201);
    let expected = hex::encode(md5.lock().unwrap().clone().finalize());
    assert_eq!(put.header("etag"), Some(format!("\"{expected}\"").as_str()));

    let req =
        http::Request::get(format!("http://{}/sda/1/AUTH_t/c/big", server.addr)).body(common::http::empty()).unwrap();
    let resp = client.send(req, Duration::from_secs(30)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    let mut got = Md5::new();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            n += data.len() as u64;
            got.update(&data);
        }
    }
    assert_eq!(n, SIZE);
    assert_eq!(hex::encode(got.finalize()), expected);
    let peak = server.peak_rss_mib();
    eprintln!("object-server peak RSS after 1 GiB PUT + GET: {peak} MiB");
    assert!(peak < 128, "peak RSS {peak} MiB: bodies are not streaming");
}

/// A mount for the duration of a test (unmounted on drop); `None` without privileges.
struct Mount(PathBuf);

impl Mount {
    fn new(fstype: &str, options: &str, at: &Path) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", fstype, "-o", options, fstype, at.to_str().unwrap()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount {fstype} (needs root)");
        }
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn full_disk_answers_507_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("sdfull");
    let Some(_mount) = Mount::new("tmpfs", "size=16m", &dev) else { return };
    std::fs::create_dir_all(dir.path().join("sdplain")).unwrap();
    let config =
        object_server::ObjectServerConfig { devices: dir.path().into(), mount_check: true, ..Default::default() };
    let s = Server::start_in(dir, config).await;
    let c = Clock::new();
    let ct = ("content-type", "a/b");
    assert_eq!(s.req("PUT", "/sdfull/1/a/c/small", &[("x-timestamp", &c.at(1)), ct], "fits").await.status, 201);

    // Known length: refused before the body is read (space is reserved up front).
    let big = vec![1u8; 32 << 20];
    let r = s.req("PUT", "/sdfull/1/a/c/big", &[("x-timestamp", &c.at(2)), ct], big.clone()).await;
    assert_eq!(r.status, 507);
    // Chunked: the disk fills mid-stream.
    let chunks = futures::stream::iter(
        big.chunks(1 << 20).map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c))).collect::<Vec<_>>(),
    );
    let r = s.send("PUT", "/sdfull/1/a/c/big2", &[("x-timestamp", &c.at(3)), ct], stream_body(chunks)).await;
    assert_eq!(r.status, 507);
    assert!(files_under(&s.device_path("sdfull/tmp")).is_empty(), "partial temp file left");
    let objects = object_files(&s.device_path("sdfull"));
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(s.req("GET", "/sdfull/1/a/c/small", &[], "").await.body, "fits");
    assert_eq!(s.req("GET", "/sdfull/1/a/c/big", &[], "").await.status, 404);

    // mount_check: a plain directory is never written to.
    assert_eq!(s.req("PUT", "/sdplain/1/a/c/o", &[("x-timestamp", &c.at(4)), ct], "x").await.status, 507);
    assert!(std::fs::read_dir(s.device_path("sdplain")).unwrap().next().is_none());
}

#[tokio::test]
async fn filesystem_without_user_xattrs_answers_507() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("sdnox");
    let Some(_mount) = Mount::new("ramfs", "size=1m", &dev) else { return };
    let config =
        object_server::ObjectServerConfig { devices: dir.path().into(), mount_check: true, ..Default::default() };
    let s = Server::start_in(dir, config).await;
    let ts = Clock::new().at(1);
    let r = s.req("PUT", "/sdnox/1/a/c/o", &[("x-timestamp", &ts), ("content-type", "a/b")], "x").await;
    assert_eq!(r.status, 507);
    assert_eq!(s.req("GET", "/sdnox/1/a/c/o", &[], "").await.status, 507);
    assert!(std::fs::read_dir(&dev).unwrap().next().is_none(), "nothing may be written to the device");
}

#[tokio::test]
async fn small_writes_are_acknowledged_after_a_group_sync() {
    let s = Server::start().await;
    let c = Clock::new();
    let sync = s.devices.get("sda").await.unwrap().sync.clone();
    let obj = "/sda/1/AUTH_t/c/small";
    // Each acknowledged write waited for a sync that began after it (the count is shared
    // with every test on this filesystem, so it can only be checked for growth).
    let before = sync.syncs();
    let put = s.req("PUT", obj, &[("x-timestamp", &c.at(1)), ("content-type", "a/b")], "small body").await;
    assert_eq!(put.status, 201);
    let after_put = sync.syncs();
    assert!(after_put > before, "the PUT was answered without a sync");
    let post = s.req("POST", obj, &[("x-timestamp", &c.at(2)), ("x-object-meta-k", "v")], "").await;
    assert_eq!(post.status, 202);
    let after_post = sync.syncs();
    assert!(after_post > after_put, "the POST was answered without a sync");
    let delete = s.req("DELETE", obj, &[("x-timestamp", &c.at(3))], "").await;
    assert_eq!(delete.status, 204);
    assert!(sync.syncs() > after_post, "the DELETE was answered without a sync");
    let get = s.req("GET", obj, &[], "").await;
    assert_eq!(get.status, 404);
}
