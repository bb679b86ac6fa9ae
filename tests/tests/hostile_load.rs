//! Clients trying to take the proxy down: connection hogs, stalled and endless bodies,
//! manifests and bulk deletes built to cost memory, ranges that multiply segment fetches,
//! and a storage node that takes an upload and never answers. An honest client's requests
//! must keep succeeding; the numbers (latency, memory) are printed.
//!
//! Each test takes `HEAVY`, so one's load and memory are not in another's numbers.

use reqwest::{Method, StatusCode};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use swiftlet_tests::{Session, TestCluster};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn status(t: &TestCluster, s: &Session, method: Method, path: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut req = t.req(s, method, path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request").status()
}

fn proxy_addr(t: &TestCluster) -> SocketAddr {
    t.cluster.proxy_addr
}

/// A bare TCP connection from `from` (any 127.0.0.0/8 address) to the proxy.
async fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(format!("{from}:0").parse().expect("address"))?;
    sock.connect(to).await
}

/// Raises this process's open-file limit to its hard limit (the attack holds thousands of
/// sockets, and so does the proxy serving them in the same process).
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    lim.rlim_cur
}

/// Honest PUT+GET pairs: every one must succeed; returns each pair's latency.
async fn honest_round(t: &TestCluster, s: &Session, n: usize, tag: &str) -> Vec<Duration> {
    let mut took = Vec::new();
    for i in 0..n {
        let started = Instant::now();
        let path = format!("/honest/{tag}-{i}");
        let put = t.req(s, Method::PUT, &path).body(format!("body {i}")).send().await.expect("honest PUT");
        assert_eq!(put.status(), StatusCode::CREATED, "honest PUT {path}");
        let get = t.req(s, Method::GET, &path).send().await.expect("honest GET");
        assert_eq!(get.status(), StatusCode::OK, "honest GET {path}");
        assert_eq!(get.text().await.unwrap(), format!("body {i}"));
        took.push(started.elapsed());
    }
    took.sort();
    took
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_clients_keep_working_while_strangers_hog_and_stall_connections() {
    let _heavy = HEAVY.lock().await;
    let fds = raise_fd_limit();
    assert!(fds >= 8192, "the attack needs 8192 open files, the hard limit is {fds}");
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(status(&t, &s, Method::PUT, "/honest", &[]).await, StatusCode::CREATED);
    let quiet = honest_round(&t, &s, 40, "quiet").await;
    let addr = proxy_addr(&t);

    // 2,000 idle connections from one address, 300 slowloris senders from another (a header
    // byte every 500 ms), 100 endless chunked uploads, huge and many headers.
    let mut idle = Vec::new();
    for _ in 0..2000 {
        if let Ok(c) = connect_from("127.0.0.2", addr).await {
            idle.push(c);
        }
    }
    let stop = Flag::default();
    // The attackers run on a runtime of their own, as they would on their own machines: the
    // cluster's and the honest client's tasks never queue behind theirs.
    // Its thread is niced: on this one machine the attackers' own CPU would otherwise be
    // counted against the cluster, which on a real network they pay for themselves.
    let attack = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(|| {
            // SAFETY: setpriority on the calling thread (Linux nices threads one by one).
            unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19) };
        })
        .enable_all()
        .build()
        .unwrap();
    let mut attackers = Vec::new();
    for _ in 0..300 {
        let stop = stop.clone();
        attackers.push(attack.spawn(async move {
            let Ok(mut c) = connect_from("127.0.0.3", addr).await else { return };
            let _ = c.write_all(b"GET /v1/AUTH_test HTTP/1.1\r\nHost: x\r\nX-A: ").await;
            while !stop.is_set() {
                if c.write_all(b"a").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    for _ in 0..100 {
        let stop = stop.clone();
        attackers.push(attack.spawn(async move {
            let Ok(mut c) = connect_from("127.0.0.4", addr).await else { return };
            let head = "PUT /v1/AUTH_test/honest/endless HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
            let _ = c.write_all(head.as_bytes()).await;
            let chunk = format!("{:x}\r\n{}\r\n", 4096, "z".repeat(4096));
            while !stop.is_set() {
                if c.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
        }));
    }
    // Built once: the attacker's cost of making it is not the server's to carry.
    let mut flood = String::from("GET /info HTTP/1.1\r\nHost: x\r\n");
    for i in 0..500 {
        flood.push_str(&format!("X-Many-{i}: {}\r\n", "v".repeat(i % 64)));
    }
    flood.push_str(&format!("X-Huge: {}\r\n\r\n", "h".repeat(256 * 1024)));
    let flood = std::sync::Arc::new(flood);
    for _ in 0..50 {
        let (stop, flood) = (stop.clone(), flood.clone());
        attackers.push(attack.spawn(async move {
            while !stop.is_set() {
                let Ok(mut c) = connect_from("127.0.0.5", addr).await else { return };
                let _ = c.write_all(flood.as_bytes()).await;
                let mut buf = [0u8; 512];
                let _ = tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = honest_round(&t, &s, 40, "attacked").await;
    println!(
        "honest PUT+GET latency, quiet: p50 {:?} p99 {:?} max {:?}; under attack ({} idle sockets held, 300 slowloris, \
         100 endless uploads, 50 header floods): p50 {:?} p99 {:?} max {:?}",
        pct(&quiet, 0.5),
        pct(&quiet, 0.99),
        quiet.last().unwrap(),
        idle.len(),
        pct(&attacked, 0.5),
        pct(&attacked, 0.99),
        attacked.last().unwrap()
    );
    assert!(pct(&attacked, 0.5) < pct(&quiet, 0.5) * 5 + Duration::from_millis(50), "p50 within normal latency");
    assert!(*attacked.last().unwrap() < Duration::from_secs(2), "no honest request stalls");
    stop.set();
    for a in attackers {
        a.abort();
    }
    attack.shutdown_background();
    // The idle sockets were cut off by the idle timeout or refused at accept: none is still served.
    drop(idle);
    let health = t.http.get(t.url("/healthcheck")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// A flag the attack tasks poll.
#[derive(Clone, Default)]
struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Flag {
    fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// This process's peak resident memory since the last `reset_peak_rss` (the cluster runs
/// in it, so the proxy's allocations show here).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM");
    kib / 1024.0
}

fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
}

/// Sends `body` with `method` to `url` (no token unless `s`); status, response body
/// length, time taken and the growth of the peak RSS it caused.
async fn measure(
    t: &TestCluster,
    s: Option<&Session>,
    method: Method,
    url: &str,
    body: Vec<u8>,
) -> (StatusCode, usize, Duration, f64) {
    reset_peak_rss();
    let before = peak_rss_mib();
    let started = Instant::now();
    let mut req = t.http.request(method, url).header("Content-Type", "text/plain").body(body);
    if let Some(s) = s {
        req = req.header("X-Auth-Token", &s.token);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.bytes().await.expect("response body");
    let took = started.elapsed();
    let grew = (peak_rss_mib() - before).max(0.0);
    (status, text.len(), took, grew)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_and_bulk_deletes_built_to_cost_memory_cost_little() {
    let _heavy = HEAVY.lock().await;
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(status(&t, &s, Method::PUT, "/c", &[]).await, StatusCode::CREATED);
    let mut zeros = b"[0".to_vec();
    while zeros.len() < (8 << 20) - 3 {
        zeros.extend_from_slice(b",0");
    }
    zeros.push(b']');
    let manifest_url = format!("{}/c/m?multipart-manifest=put", s.url);
    let (anon, anon_len, anon_took, anon_mib) = measure(&t, None, Method::PUT, &manifest_url, zeros.clone()).await;
    let (owner, owner_len, owner_took, owner_mib) = measure(&t, Some(&s), Method::PUT, &manifest_url, zeros).await;
    let name = format!("/c/{}\n", "o".repeat(1000));
    let names = name.repeat(38_000_000 / name.len()).into_bytes();
    let bulk_path = format!("{}?bulk-delete", url_path(&s.url));
    let addr = proxy_addr(&t);
    // A client that waits for 100 Continue must get the refusal instead, and never send.
    let asking = format!(
        "POST {bulk_path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        names.len()
    );
    let asked = raw_exchange(addr, asking.as_bytes(), Duration::from_secs(5)).await;
    assert!(
        asked.starts_with("HTTP/1.1 401"),
        "a stranger asking to send is refused first: {:?}",
        asked.lines().next()
    );
    // A client that sends all 38 MB blindly: the proxy answers and stops reading; the
    // kernel may reset the connection under the unread bytes, so either ending is fine,
    // but it must come at once and cost no memory.
    let (bulk, bulk_took, bulk_mib) = blind_send(addr, &bulk_path, names).await;
    println!("38 MB anonymous bulk delete, blind sender: {bulk:?} in {bulk_took:?}, peak RSS +{bulk_mib:.1} MiB");
    assert!(bulk.as_deref().is_none_or(|l| l.starts_with("HTTP/1.1 401")), "no write ACL admits a stranger: {bulk:?}");
    println!(
        "8 MiB SLO manifest of zeros, anonymous: {anon} in {anon_took:?}, {anon_len} B answer, peak RSS +{anon_mib:.1} MiB; \
         as the owner: {owner} in {owner_took:?}, {owner_len} B answer, peak RSS +{owner_mib:.1} MiB"
    );
    assert_eq!(anon, StatusCode::UNAUTHORIZED, "a stranger's manifest is refused before it is read");
    assert_eq!(owner, StatusCode::PAYLOAD_TOO_LARGE, "more segments than max_manifest_segments");
    assert!(anon_len < 4096 && owner_len < 4096, "short answers: {anon_len} and {owner_len} bytes");
    assert!(anon_mib < 64.0 && owner_mib < 64.0, "bounded memory: +{anon_mib:.1} and +{owner_mib:.1} MiB");
    assert!(bulk_took < Duration::from_secs(5), "the stranger is stopped before the body is read: {bulk_took:?}");
    assert!(bulk_mib < 32.0, "bounded memory: +{bulk_mib:.1} MiB");
    let health = t.http.get(t.url("/healthcheck")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// The path part of an absolute URL.
fn url_path(url: &str) -> String {
    url.trim_start_matches("http://").split_once('/').map(|(_, p)| format!("/{p}")).expect("a URL with a path")
}

/// POSTs `body` to `path` without waiting for permission, reading the answer while it
/// writes: the status line read (None if the connection was reset first), how long until
/// the connection ended, and the peak RSS growth it caused.
async fn blind_send(addr: SocketAddr, path: &str, body: Vec<u8>) -> (Option<String>, Duration, f64) {
    reset_peak_rss();
    let before = peak_rss_mib();
    let started = Instant::now();
    let c = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = c.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let writer = tokio::spawn(async move {
        // Errors are the point: the proxy stops reading a refused body.
        if wr.write_all(head.as_bytes()).await.is_ok() {
            let _ = wr.write_all(&body).await;
        }
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, rd.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(2).any(|w| w == b"\r\n") {
            break;
        }
    }
    let took = started.elapsed();
    writer.abort();
    let grew = (peak_rss_mib() - before).max(0.0);
    let line = String::from_utf8_lossy(&out).lines().next().map(str::to_owned);
    (line, took, grew)
}

/// Writes a raw request, then reads what the proxy answers within `within` (empty if none).
async fn raw_exchange(addr: SocketAddr, request: &[u8], within: Duration) -> String {
    let mut c = TcpStream::connect(addr).await.expect("connect");
    c.write_all(request).await.expect("send");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, c.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") && String::from_utf8_lossy(&out).contains("Response Status") {
            break;
        }
        if out.starts_with(b"HTTP/1.1 4") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_oversized_bodies_are_answered_at_once_or_after_client_timeout() {
    let _heavy = HEAVY.lock().await;
    let t = TestCluster::start_with(|o| o.proxy.client_timeout = 1.0).await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(status(&t, &s, Method::PUT, "/c", &[]).await, StatusCode::CREATED);
    let path = url_path(&s.url);
    let addr = proxy_addr(&t);
    // A manifest that stops after 3 of its 100 bytes.
    let stalled = format!(
        "PUT {path}/c/m?multipart-manifest=put HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Length: 100\r\n\r\n[{{\"",
        s.token
    );
    let started = Instant::now();
    let answer = raw_exchange(addr, stalled.as_bytes(), Duration::from_secs(8)).await;
    println!("stalled SLO manifest body answered after {:?}: {:?}", started.elapsed(), answer.lines().next());
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // A bulk delete declaring more than its cap, and one that stalls.
    let huge = format!(
        "POST {path}?bulk-delete HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Type: text/plain\r\nContent-Length: 999999999\r\n\r\n",
        s.token
    );
    let started = Instant::now();
    let answer = raw_exchange(addr, huge.as_bytes(), Duration::from_secs(8)).await;
    println!("oversized bulk delete answered after {:?}", started.elapsed());
    assert!(answer.contains("413"), "{answer}");
    assert!(started.elapsed() < Duration::from_millis(900), "refused before any body byte");
    let stalled = format!(
        "POST {path}?bulk-delete HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n/c/a\n",
        s.token
    );
    let answer = raw_exchange(addr, stalled.as_bytes(), Duration::from_secs(8)).await;
    assert!(answer.contains("408"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slo_ranges_that_overlap_too_much_are_refused() {
    let _heavy = HEAVY.lock().await;
    let t = TestCluster::start().await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(status(&t, &s, Method::PUT, "/c", &[]).await, StatusCode::CREATED);
    for seg in ["s1", "s2"] {
        let put = t.req(&s, Method::PUT, &format!("/c/{seg}")).body("0123456789").send().await.unwrap();
        assert_eq!(put.status(), StatusCode::CREATED);
    }
    let manifest = r#"[{"path": "/c/s1"}, {"path": "/c/s2"}]"#;
    let put = t.req(&s, Method::PUT, "/c/big?multipart-manifest=put").body(manifest).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::CREATED, "{:?}", put.text().await);
    let range = |r: &str| t.req(&s, Method::GET, "/c/big").header("Range", r.to_string()).send();
    assert_eq!(range("bytes=0-4,3-12").await.unwrap().status(), StatusCode::PARTIAL_CONTENT, "one overlap is fine");
    let piled: Vec<&str> = vec!["0-19"; 20];
    let resp = range(&format!("bytes={}", piled.join(","))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE, "20 copies of the whole object");
    let backwards: Vec<String> = (0..10).rev().map(|i| format!("{}-{}", i * 2, i * 2)).collect();
    let resp = range(&format!("bytes={}", backwards.join(","))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE, "ranges going backwards");
}

/// A fake object server on `port`: takes every connection and request body, answers nothing.
async fn hung_object_server(port: u16) -> tokio::task::JoinHandle<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind the stopped node's object port");
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 << 10];
                while let Ok(n) = c.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                // Read to the end, then hold the connection, never answering.
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_put_is_answered_when_one_node_takes_the_body_and_never_replies() {
    let _heavy = HEAVY.lock().await;
    let mut t = TestCluster::start_with(|o| o.proxy.node_timeout = 3.0).await;
    let s = t.login("test:tester", "testing").await;
    assert_eq!(status(&t, &s, Method::PUT, "/c", &[]).await, StatusCode::CREATED);
    let port = t.cluster.node_ports(0).object;
    t.cluster.stop_node(0).await;
    let fake = hung_object_server(port).await;
    let mut took = Vec::new();
    for i in 0..6 {
        let body = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(format!("chunked {i}")))]);
        let started = Instant::now();
        let put = t.req(&s, Method::PUT, &format!("/c/o{i}")).body(reqwest::Body::wrap_stream(body)).send();
        let put = tokio::time::timeout(Duration::from_secs(10), put).await.expect("answered within 10 s").unwrap();
        assert_eq!(put.status(), StatusCode::CREATED, "o{i}");
        took.push(started.elapsed());
        let get = t.req(&s, Method::GET, &format!("/c/o{i}")).send().await.unwrap();
        assert_eq!(get.text().await.unwrap(), format!("chunked {i}"));
    }
    println!("streamed PUTs with one node hung answered after {took:?} (node_timeout 3 s, post_quorum_timeout 0.5 s)");
    assert!(took.iter().all(|d| *d < Duration::from_secs(2)), "answered once the quorum replied: {took:?}");
    fake.abort();
}
