//! `swiftlet-bench`: a load generator for any Swift API endpoint (Swiftlet or OpenStack
//! Swift; tempauth URL, user, key) or S3 endpoint (access key, secret key; SigV4).
//!
//! Fixed concurrency, a duration or an operation count, object sizes; workloads put, get,
//! head, delete, mixed, list (paged full listing) and large-put/large-get (streamed bodies,
//! never held in memory). Reports ops/s, MB/s, latency percentiles, errors and the server
//! processes' CPU seconds and peak RSS (`--server-pid`), as a table and one JSON line.
//! `--self-test` measures the generator's own ceiling against a trivial in-process server.

use anyhow::{bail, Result};
use bench::body::ObjectBody;
use bench::endpoint::Endpoint;
use bench::latency::Latencies;
use bench::listing::list_all;
use bench::procfs;
use bench::report::{print_table, Report};
use bench::s3sign::Credentials;
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use common::http::{empty, full};
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

/// What S3 requests put in `x-amz-content-sha256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum S3Payload {
    /// `UNSIGNED-PAYLOAD`: the headers are signed, the body is not (SDKs over TLS).
    Unsigned,
    /// The body's SHA-256, which the server checks (SDKs over plain HTTP).
    Sha256,
}

/// Drive a Swift API or S3 API endpoint and report throughput and latency.
#[derive(Parser, Debug, Clone)]
#[command(version, about)]
struct Args {
    /// tempauth URL (Swift API), e.g. http://127.0.0.1:8080/auth/v1.0
    #[arg(long, default_value = "http://127.0.0.1:8080/auth/v1.0")]
    auth: String,
    /// tempauth user (Swift API).
    #[arg(long, default_value = "test:tester")]
    user: String,
    /// tempauth key (Swift API).
    #[arg(long, default_value = "testing")]
    key: String,
    /// Drive the S3 API at this URL (path-style buckets, SigV4) instead of the Swift API,
    /// e.g. http://127.0.0.1:8080.
    #[arg(long, conflicts_with_all = ["auth", "user", "key"])]
    s3_endpoint: Option<String>,
    /// S3 access key (on Swiftlet: the tempauth user account:user).
    #[arg(long, default_value = "test:tester", requires = "s3_endpoint")]
    access_key: String,
    /// S3 secret key (on Swiftlet: that user's tempauth key).
    #[arg(long, default_value = "testing", requires = "s3_endpoint")]
    secret_key: String,
    /// S3 region named in the signature's scope.
    #[arg(long, default_value = "us-east-1", requires = "s3_endpoint")]
    region: String,
    #[arg(long, value_enum, default_value = "unsigned", requires = "s3_endpoint")]
    s3_payload: S3Payload,
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
    /// Seconds of the same workload run first and not measured, so the measurement sees a
    /// steady state (directories, DB pages and connections already made). Not for delete.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Object size in bytes (large-* default to 256 MiB when not given).
    #[arg(long)]
    size: Option<u64>,
    /// Objects written before a get/head/mixed/delete/list run (not measured).
    #[arg(long, default_value_t = 1000)]
    objects: u64,
    /// Percentage of GETs in the mixed workload (the rest are PUTs).
    #[arg(long, default_value_t = 80)]
    read_pct: u64,
    /// Page size for the list workload (Swift limit, S3 max-keys).
    #[arg(long, default_value_t = 1000)]
    page: u64,
    /// Container (S3: bucket) to use, created if missing.
    #[arg(long, default_value = "bench")]
    container: String,
    /// Server process ids whose CPU seconds and peak RSS to report (repeatable).
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
    /// Label for the report.
    #[arg(long, default_value = "swiftlet")]
    label: String,
    /// Measure the generator itself against a trivial in-process HTTP server (through the
    /// S3 signing path when --s3-endpoint is given).
    #[arg(long)]
    self_test: bool,
    /// Print only the JSON line.
    #[arg(long)]
    json_only: bool,
}

impl Args {
    async fn endpoint(&self) -> Result<Endpoint> {
        match &self.s3_endpoint {
            Some(url) => {
                let creds = Credentials {
                    access_key: self.access_key.clone(),
                    secret_key: self.secret_key.clone(),
                    region: self.region.clone(),
                };
                Endpoint::s3(url, creds, self.s3_payload == S3Payload::Sha256)
            }
            None => Endpoint::swift(&self.auth, &self.user, &self.key).await,
        }
    }
}

#[derive(Default)]
struct Counters {
    ops: AtomicU64,
    errors: AtomicU64,
    bytes: AtomicU64,
}

fn object_name(i: u64) -> String {
    format!("obj-{i:010}")
}

/// Writes `n` objects with the given concurrency (setup, not measured).
async fn prepare(ep: &Endpoint, container: &str, n: u64, body: &Arc<ObjectBody>, concurrency: usize) -> Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (ep, next, body, container) = (ep.clone(), next.clone(), body.clone(), container.to_string());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                let (s, _) = ep.call(Method::PUT, &container, Some(&object_name(i)), Some(&body)).await?;
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
    let body = Arc::new(ObjectBody::new(size));
    ep.create_container(&args.container).await?;
    let prepared = match args.workload {
        Workload::Get | Workload::Head | Workload::Mixed | Workload::Delete | Workload::List => args.objects,
        Workload::LargeGet => args.objects.min(args.concurrency as u64),
        _ => 0,
    };
    if prepared > 0 {
        eprintln!("preparing {prepared} objects of {size} bytes...");
        prepare(&ep, &args.container, prepared, &body, args.concurrency.min(32)).await?;
    }
    if args.s3_payload == S3Payload::Sha256 {
        body.sha256(); // hashed once before the clock starts, as a client hashes a file first
    }
    if args.warmup > 0.0 && args.workload != Workload::Delete {
        eprintln!("warming up for {} s...", args.warmup);
        let warm = Phase::new("warm", End::At(Instant::now() + Duration::from_secs_f64(args.warmup)));
        drive(&ep, &args, &body, size, prepared, warm).await?;
    }
    let cpu_before: Option<f64> = sum_cpu(&args.server_pids);
    let end = match args.count {
        Some(count) => End::After(count),
        None => End::At(Instant::now() + Duration::from_secs_f64(args.duration)),
    };
    let phase = Phase::new("w", end);
    let counters = phase.counters.clone();
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
    let lat = drive(&ep, &args, &body, size, prepared, phase).await?;
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
        api: if ep.is_s3() { "s3" } else { "swift" },
        workload: format!("{:?}", args.workload).to_lowercase(),
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

/// When a phase of the workers ends.
#[derive(Clone, Copy)]
enum End {
    At(Instant),
    After(u64),
}

/// One timed run of the workers: when it ends, what it counts, and the prefix of the names
/// its PUTs write (so a warm-up never overwrites the measured run's objects).
struct Phase {
    prefix: &'static str,
    end: End,
    counters: Arc<Counters>,
    seq: AtomicU64,
}

impl Phase {
    fn new(prefix: &'static str, end: End) -> Arc<Self> {
        Arc::new(Phase { prefix, end, counters: Arc::default(), seq: AtomicU64::new(0) })
    }
}

/// Runs `args.concurrency` workers until the phase ends; their merged latencies.
async fn drive(
    ep: &Endpoint,
    args: &Args,
    body: &Arc<ObjectBody>,
    size: u64,
    prepared: u64,
    phase: Arc<Phase>,
) -> Result<Latencies> {
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let (ep, args, body, phase) = (ep.clone(), args.clone(), body.clone(), phase.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Latencies::default();
            let mut rng_state = (w as u64 + 1).wrapping_mul(0x9E3779B97F4A7C15);
            loop {
                let i = phase.seq.fetch_add(1, Ordering::Relaxed);
                let done = match phase.end {
                    End::After(count) => i >= count,
                    End::At(deadline) => Instant::now() >= deadline,
                };
                if done {
                    return lat;
                }
                rng_state ^= rng_state << 13;
                rng_state ^= rng_state >> 7;
                rng_state ^= rng_state << 17;
                let picked = object_name(if prepared > 0 { rng_state % prepared } else { 0 });
                let c = &args.container;
                let put = |name: String| {
                    let (ep, body) = (&ep, &body);
                    async move { ep.call(Method::PUT, c, Some(&name), Some(body)).await.map(|(s, _)| (s, size)) }
                };
                let t0 = Instant::now();
                let result = match args.workload {
                    Workload::Put | Workload::LargePut => put(format!("{}{w}-{i}", phase.prefix)).await,
                    Workload::Get | Workload::LargeGet => ep.call(Method::GET, c, Some(&picked), None).await,
                    Workload::Head => ep.call(Method::HEAD, c, Some(&picked), None).await.map(|(s, _)| (s, 0)),
                    Workload::Delete => {
                        // Each prepared object is deleted once; then the run ends.
                        if i >= prepared {
                            return lat;
                        }
                        ep.call(Method::DELETE, c, Some(&object_name(i)), None).await
                    }
                    Workload::Mixed if rng_state % 100 < args.read_pct => {
                        ep.call(Method::GET, c, Some(&picked), None).await
                    }
                    Workload::Mixed => put(picked).await,
                    Workload::List => list_all(&ep, c, args.page).await,
                };
                lat.record(t0.elapsed());
                match result {
                    Ok((s, n)) if s.is_success() => {
                        phase.counters.ops.fetch_add(1, Ordering::Relaxed);
                        phase.counters.bytes.fetch_add(n, Ordering::Relaxed);
                    }
                    _ => {
                        phase.counters.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    let mut lat = Latencies::default();
    for t in tasks {
        lat.merge(t.await?);
    }
    Ok(lat)
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
    let args = Args {
        auth: format!("http://{addr}/auth/v1.0"),
        s3_endpoint: args.s3_endpoint.as_ref().map(|_| format!("http://{addr}")),
        objects: 0,
        label: "self-test".into(),
        workload: Workload::Get,
        ..args
    };
    let ep = args.endpoint().await?;
    let report = run(args, ep).await;
    cancel.cancel();
    report
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut report = if args.self_test {
        self_test(args.clone()).await?
    } else {
        let ep = args.endpoint().await?;
        run(args.clone(), ep).await?
    };
    let j = report.json();
    if !args.json_only {
        println!("{} ({}): {} ops in {:.2} s", report.label, report.api, report.ops, report.secs);
        print_table(&j);
    }
    println!("{j}");
    if report.ops == 0 {
        bail!("no operation succeeded ({} errors)", report.errors);
    }
    Ok(())
}
