//! `swiftlet-bench`: a load generator for any Swift API endpoint (Swiftlet or OpenStack Swift).
//!
//! Fixed concurrency, a duration or an operation count, object sizes; workloads put, get,
//! head, delete, mixed, list (paged full listing) and large-put/large-get (streamed bodies,
//! never held in memory). Reports ops/s, MB/s, latency percentiles, errors and the server
//! processes' CPU seconds and peak RSS (`--server-pid`), as a table and one JSON line.
//! `--self-test` measures the generator's own ceiling against a trivial in-process server.

use anyhow::{bail, Context, Result};
use bench::latency::Latencies;
use bench::procfs;
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use common::http::{empty, full, Body, HttpClient};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    Put,
    Get,
    Head,
    Delete,
    Mixed,
    List,
    LargePut,
    LargeGet,
}

/// Drive a Swift API endpoint and report throughput and latency.
#[derive(Parser, Debug, Clone)]
#[command(version, about)]
struct Args {
    /// tempauth URL, e.g. http://127.0.0.1:8080/auth/v1.0
    #[arg(long, default_value = "http://127.0.0.1:8080/auth/v1.0")]
    auth: String,
    #[arg(long, default_value = "test:tester")]
    user: String,
    #[arg(long, default_value = "testing")]
    key: String,
    #[arg(long, value_enum, default_value = "put")]
    workload: Workload,
    /// Concurrent workers.
    #[arg(long, short = 'c', default_value_t = 16)]
    concurrency: usize,
    /// Seconds to run (ignored when --count is given).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Stop after this many operations instead of after --duration.
    #[arg(long)]
    count: Option<u64>,
    /// Object size in bytes (large-* default to 256 MiB when not given).
    #[arg(long)]
    size: Option<u64>,
    /// Objects written before a get/head/mixed/delete/list run (not measured).
    #[arg(long, default_value_t = 1000)]
    objects: u64,
    /// Percentage of GETs in the mixed workload (the rest are PUTs).
    #[arg(long, default_value_t = 80)]
    read_pct: u64,
    /// Page size for the list workload.
    #[arg(long, default_value_t = 1000)]
    page: u64,
    /// Container to use (created if missing).
    #[arg(long, default_value = "bench")]
    container: String,
    /// Server process ids whose CPU seconds and peak RSS to report (repeatable).
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
    /// Label for the report.
    #[arg(long, default_value = "swiftlet")]
    label: String,
    /// Measure the generator itself against a trivial in-process HTTP server.
    #[arg(long)]
    self_test: bool,
    /// Print only the JSON line.
    #[arg(long)]
    json_only: bool,
}

/// Where requests go and how they authenticate.
#[derive(Clone)]
struct Endpoint {
    client: HttpClient,
    storage_url: String,
    token: String,
}

impl Endpoint {
    async fn login(args: &Args) -> Result<Endpoint> {
        let client = HttpClient::new(Duration::from_secs(2));
        let req =
            Request::get(&args.auth).header("x-auth-user", &args.user).header("x-auth-key", &args.key).body(empty())?;
        let resp = client.send(req, Duration::from_secs(10)).await.context("auth request")?;
        if !resp.status().is_success() {
            bail!("auth failed: {}", resp.status());
        }
        let h = resp.headers();
        let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned).context(format!("no {n} header"));
        Ok(Endpoint { storage_url: get("x-storage-url")?, token: get("x-auth-token")?, client })
    }

    /// Sends one request and reads the whole response body; returns (status, body bytes).
    async fn call(&self, method: Method, path: &str, body: Body, len: Option<u64>) -> Result<(StatusCode, u64)> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.storage_url, path))
            .header("x-auth-token", &self.token);
        if let Some(l) = len {
            req = req.header("content-length", l);
        }
        let resp = self.client.send(req.body(body)?, Duration::from_secs(120)).await?;
        let status = resp.status();
        let mut body = resp.into_body();
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(d) = frame?.into_data() {
                n += d.len() as u64;
            }
        }
        Ok((status, n))
    }
}

/// A body of `len` bytes produced in 1 MiB chunks of one shared buffer: no per-object allocation.
fn streamed_body(len: u64, chunk: Bytes) -> Body {
    let stream = futures::stream::unfold(len, move |left| {
        let chunk = chunk.clone();
        async move {
            if left == 0 {
                return None;
            }
            let n = left.min(chunk.len() as u64);
            Some((Ok::<_, std::io::Error>(chunk.slice(..n as usize)), left - n))
        }
    });
    common::http::stream_body(stream)
}

#[derive(Default)]
struct Counters {
    ops: AtomicU64,
    errors: AtomicU64,
    bytes: AtomicU64,
}

struct Report {
    label: String,
    workload: Workload,
    concurrency: usize,
    size: u64,
    ops: u64,
    errors: u64,
    bytes: u64,
    secs: f64,
    lat: Latencies,
    cpu_secs: Option<f64>,
    peak_rss: Option<u64>,
}

impl Report {
    fn json(&mut self) -> serde_json::Value {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        serde_json::json!({
            "label": self.label,
            "workload": format!("{:?}", self.workload).to_lowercase(),
            "concurrency": self.concurrency,
            "size": self.size,
            "ops": self.ops,
            "errors": self.errors,
            "secs": self.secs,
            "ops_per_s": self.ops as f64 / self.secs,
            "mb_per_s": self.bytes as f64 / self.secs / 1e6,
            "p50_ms": ms(self.lat.percentile(50.0)),
            "p90_ms": ms(self.lat.percentile(90.0)),
            "p99_ms": ms(self.lat.percentile(99.0)),
            "max_ms": ms(self.lat.percentile(100.0)),
            "server_cpu_s": self.cpu_secs,
            "server_cpu_s_per_1000": self.cpu_secs.map(|c| c * 1000.0 / self.ops.max(1) as f64),
            "server_peak_rss_mib": self.peak_rss.map(|b| b as f64 / 1048576.0),
        })
    }
}

fn print_table(j: &serde_json::Value) {
    println!(
        "{:<12} {:>10} {:>6} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>12}",
        "workload", "size", "conc", "ops/s", "MB/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "cpu s/1000"
    );
    let f = |k: &str| j[k].as_f64().unwrap_or(0.0);
    let cpu = j["server_cpu_s_per_1000"].as_f64().map(|c| format!("{c:.3}")).unwrap_or_else(|| "-".into());
    println!(
        "{:<12} {:>10} {:>6} {:>10.1} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>12}",
        j["workload"].as_str().unwrap_or(""),
        j["size"],
        j["concurrency"],
        f("ops_per_s"),
        f("mb_per_s"),
        f("p50_ms"),
        f("p90_ms"),
        f("p99_ms"),
        f("max_ms"),
        j["errors"],
        cpu
    );
}

fn object_name(i: u64) -> String {
    format!("obj-{i:010}")
}

/// Writes `n` objects of `size` bytes with the given concurrency (setup, not measured).
async fn prepare(ep: &Endpoint, container: &str, n: u64, size: u64, concurrency: usize, data: &Bytes) -> Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (ep, next, data, container) = (ep.clone(), next.clone(), data.clone(), container.to_string());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                let (s, _) = ep
                    .call(
                        Method::PUT,
                        &format!("/{container}/{}", object_name(i)),
                        streamed_body(size, data.clone()),
                        Some(size),
                    )
                    .await?;
                if !s.is_success() {
                    bail!("prepare PUT answered {s}");
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

async fn run(args: Args, ep: Endpoint) -> Result<Report> {
    let large = matches!(args.workload, Workload::LargePut | Workload::LargeGet);
    let size = args.size.unwrap_or(if large { 256 << 20 } else { 4096 });
    let data = Bytes::from((0..(1u64 << 20).min(size.max(1))).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let (s, _) = ep.call(Method::PUT, &format!("/{}", args.container), empty(), Some(0)).await?;
    if !s.is_success() {
        bail!("container PUT answered {s}");
    }
    let prepared = match args.workload {
        Workload::Get | Workload::Head | Workload::Mixed | Workload::Delete | Workload::List => args.objects,
        Workload::LargeGet => args.objects.min(args.concurrency as u64),
        _ => 0,
    };
    if prepared > 0 {
        eprintln!("preparing {prepared} objects of {size} bytes...");
        prepare(&ep, &args.container, prepared, size, args.concurrency.min(32), &data).await?;
    }
    let cpu_before: Option<f64> = sum_cpu(&args.server_pids);
    let counters = Arc::new(Counters::default());
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let start = Instant::now();
    let progress = tokio::spawn({
        let counters = counters.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let el = start.elapsed().as_secs_f64();
                let ops = counters.ops.load(Ordering::Relaxed);
                eprint!(
                    "\r{:6.1}s {:>9} ops {:>10.1} ops/s {:>9.1} MB/s errors {}   ",
                    el,
                    ops,
                    ops as f64 / el,
                    counters.bytes.load(Ordering::Relaxed) as f64 / el / 1e6,
                    counters.errors.load(Ordering::Relaxed)
                );
            }
        }
    });
    let seq = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let (ep, args, counters, seq, data) = (ep.clone(), args.clone(), counters.clone(), seq.clone(), data.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Latencies::default();
            let mut rng_state = (w as u64 + 1).wrapping_mul(0x9E3779B97F4A7C15);
            loop {
                let i = seq.fetch_add(1, Ordering::Relaxed);
                let done = match args.count {
                    Some(c) => i >= c,
                    None => Instant::now() >= deadline,
                };
                if done {
                    return lat;
                }
                rng_state ^= rng_state << 13;
                rng_state ^= rng_state >> 7;
                rng_state ^= rng_state << 17;
                let pick = if prepared > 0 { rng_state % prepared } else { 0 };
                let c = &args.container;
                let t0 = Instant::now();
                let result = match args.workload {
                    Workload::Put | Workload::LargePut => {
                        let name = format!("w{w}-{i}");
                        ep.call(Method::PUT, &format!("/{c}/{name}"), streamed_body(size, data.clone()), Some(size))
                            .await
                            .map(|(s, _)| (s, size))
                    }
                    Workload::Get | Workload::LargeGet => {
                        ep.call(Method::GET, &format!("/{c}/{}", object_name(pick)), empty(), None).await
                    }
                    Workload::Head => ep
                        .call(Method::HEAD, &format!("/{c}/{}", object_name(pick)), empty(), None)
                        .await
                        .map(|(s, _)| (s, 0)),
                    Workload::Delete => {
                        // Each prepared object is deleted once; then the run ends.
                        if i >= prepared {
                            return lat;
                        }
                        ep.call(Method::DELETE, &format!("/{c}/{}", object_name(i)), empty(), None).await
                    }
                    Workload::Mixed => {
                        if rng_state % 100 < args.read_pct {
                            ep.call(Method::GET, &format!("/{c}/{}", object_name(pick)), empty(), None).await
                        } else {
                            ep.call(
                                Method::PUT,
                                &format!("/{c}/{}", object_name(pick)),
                                full(data.slice(..size.min(data.len() as u64) as usize)),
                                Some(size.min(data.len() as u64)),
                            )
                            .await
                            .map(|(s, _)| (s, size))
                        }
                    }
                    Workload::List => list_all(&ep, c, args.page).await,
                };
                lat.record(t0.elapsed());
                match result {
                    Ok((s, n)) if s.is_success() => {
                        counters.ops.fetch_add(1, Ordering::Relaxed);
                        counters.bytes.fetch_add(n, Ordering::Relaxed);
                    }
                    _ => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    let mut lat = Latencies::default();
    for t in tasks {
        lat.merge(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    progress.abort();
    eprintln!();
    let cpu_secs = match (cpu_before, sum_cpu(&args.server_pids)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let peak_rss = args.server_pids.iter().filter_map(|p| procfs::peak_rss_bytes(*p)).max();
    Ok(Report {
        label: args.label.clone(),
        workload: args.workload,
        concurrency: args.concurrency,
        size,
        ops: counters.ops.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        bytes: counters.bytes.load(Ordering::Relaxed),
        secs,
        lat,
        cpu_secs,
        peak_rss,
    })
}

/// Pages through a whole container listing; one "operation" is the full listing.
async fn list_all(ep: &Endpoint, container: &str, page: u64) -> Result<(StatusCode, u64)> {
    let mut marker = String::new();
    let mut total = 0u64;
    loop {
        let path = format!("/{container}?limit={page}&marker={}", percent_encode(&marker));
        let mut req =
            Request::get(format!("{}{}", ep.storage_url, path)).header("x-auth-token", &ep.token).body(empty())?;
        req.headers_mut().insert("accept", http::HeaderValue::from_static("text/plain"));
        let resp = ep.client.send(req, Duration::from_secs(120)).await?;
        let status = resp.status();
        let text = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Ok((status, total));
        }
        let names: Vec<&str> = std::str::from_utf8(&text)?.lines().collect();
        total += text.len() as u64;
        match names.last() {
            Some(last) if names.len() as u64 == page => marker = last.to_string(),
            _ => return Ok((StatusCode::OK, total)),
        }
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn sum_cpu(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|p| procfs::cpu_seconds(*p)).sum()
}

/// A trivial server answering every request at once: the generator's own ceiling.
async fn self_test(args: Args) -> Result<Report> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let handler = move |req: Request<hyper::body::Incoming>| async move {
        let path = req.uri().path().to_string();
        let _ = req.into_body().collect().await;
        if path.starts_with("/auth") {
            let mut r = http::Response::new(empty());
            r.headers_mut().insert(
                "x-storage-url",
                http::HeaderValue::from_str(&format!("http://{addr}/v1/AUTH_test")).expect("ascii url"),
            );
            r.headers_mut().insert("x-auth-token", http::HeaderValue::from_static("t"));
            r
        } else {
            let mut r = http::Response::new(full(Bytes::from_static(&[0u8; 4096])));
            *r.status_mut() = StatusCode::OK;
            r
        }
    };
    tokio::spawn(common::http::serve(listener, handler, common::http::ServerOptions::default(), cancel.clone()));
    let args = Args { auth: format!("http://{addr}/auth/v1.0"), objects: 0, label: "self-test".into(), ..args };
    let ep = Endpoint::login(&args).await?;
    let report = run(Args { workload: Workload::Get, ..args }, ep).await;
    cancel.cancel();
    report
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut report = if args.self_test {
        self_test(args.clone()).await?
    } else {
        let ep = Endpoint::login(&args).await?;
        run(args.clone(), ep).await?
    };
    let j = report.json();
    if !args.json_only {
        println!("{}: {} ops in {:.2} s", report.label, report.ops, report.secs);
        print_table(&j);
    }
    println!("{j}");
    if report.ops == 0 {
        bail!("no operation succeeded ({} errors)", report.errors);
    }
    Ok(())
}
