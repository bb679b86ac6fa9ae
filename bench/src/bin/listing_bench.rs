//! Container listing benchmark: Swiftlet's container server against OpenStack Swift's, in
//! one run, through their HTTP APIs (the way object servers and proxies use them).
//!
//! For each server: start it on 127.0.0.1 over a temp devices dir, create one container,
//! insert N object rows with C concurrent clients (`PUT /<dev>/<part>/<a>/<c>/<o>` as an
//! object server sends them), then page through the whole listing (limit 10000, marker),
//! a prefix listing (1% of the rows), and a delimiter listing (100 subdirs). Prints rates,
//! latencies, server CPU and memory, and Swiftlet/Swift ratios.
//!
//!   bench/listing-compare.sh                       # builds, sets up Swift, runs this
//!   listing_bench --container-server target/release/container-server \
//!       --swift-server bench/.venv-swift/bin/swift-container-server --rows 1000000

use anyhow::{bail, Context};
use bench::latency::Latencies;
use bench::procfs;
use clap::Parser;
use common::http::{empty, HttpClient};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Swiftlet's container-server binary.
    #[arg(long)]
    container_server: PathBuf,
    /// Swift's swift-container-server script (omit to skip Swift).
    #[arg(long)]
    swift_server: Option<PathBuf>,
    /// Rows inserted into Swiftlet's container.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Rows inserted into Swift's container (Swift is slower; its rates are per row).
    #[arg(long, default_value_t = 200_000)]
    swift_rows: u64,
    /// Concurrent clients inserting rows.
    #[arg(long, default_value_t = 32)]
    concurrency: u64,
    /// Swift's worker processes (the machine's cores, like Swiftlet's runtime threads).
    #[arg(long, default_value_t = 2)]
    swift_workers: u32,
}

const ACCOUNT: &str = "AUTH_bench";
const CONTAINER: &str = "listing";
const DIRS: u64 = 100;

fn object_name(i: u64) -> String {
    format!("dir{:02}/object-{i:08}", i % DIRS)
}

struct Server {
    child: Child,
    port: u16,
    devices: PathBuf,
    /// Signs the requests of a server that takes only the cluster's (Swiftlet's).
    signer: Option<common::backend_auth::Signer>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM the whole group (Swift forks workers), then reap.
        // SAFETY: kill(2) on our own child's process group; no memory is touched.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(mut cmd: Command) -> anyhow::Result<Child> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0);
    Ok(cmd.spawn()?)
}

fn start_swiftlet(bin: &Path, dir: &Path) -> anyhow::Result<Server> {
    let devices = dir.join("srv");
    std::fs::create_dir_all(devices.join("sda"))?;
    let port = free_port()?;
    let conf = dir.join("container-server.toml");
    let key = common::backend_auth::BackendKey::generate();
    std::fs::write(
        &conf,
        format!(
            "bind_port = {port}\ndevices = {:?}\nmount_check = false\naccount_update_interval = 0.0\n\n\
             [hash_path]\nprefix = \"bench\"\nsuffix = \"bench\"\n\n[backend]\nkey = {:?}\n",
            devices.display().to_string(),
            key.to_hex()
        ),
    )?;
    let mut cmd = Command::new(bin);
    cmd.arg("--config").arg(&conf).env("RUST_LOG", "warn");
    let signer = Some(common::backend_auth::Signer::new(&key));
    Ok(Server { child: spawn(cmd)?, port, devices, signer })
}

fn start_swift(bin: &Path, dir: &Path, workers: u32) -> anyhow::Result<Server> {
    let devices = dir.join("srv");
    let etc = dir.join("etc");
    std::fs::create_dir_all(devices.join("sda"))?;
    std::fs::create_dir_all(&etc)?;
    let port = free_port()?;
    std::fs::write(
        etc.join("swift.conf"),
        "[swift-hash]\nswift_hash_path_suffix = bench\nswift_hash_path_prefix = bench\n\
         [storage-policy:0]\nname = Policy-0\ndefault = yes\n",
    )?;
    let user = std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into());
    let conf = etc.join("container-server.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {port}\ndevices = {}\nmount_check = false\n\
             swift_dir = {}\nworkers = {workers}\nuser = {user}\nlog_level = WARNING\n\
             [pipeline:main]\npipeline = container-server\n[app:container-server]\nuse = egg:swift#container\n",
            devices.display(),
            etc.display()
        ),
    )?;
    let mut cmd = Command::new(bin);
    cmd.arg(&conf);
    Ok(Server { child: spawn(cmd)?, port, devices, signer: None })
}

/// CPU seconds and peak RSS of a process and its children (Swift forks its workers).
fn tree_usage(root: u32) -> (f64, u64) {
    let mut pids = vec![root];
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let ppid = stat.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(1)?.parse::<u32>().ok());
            if ppid == Some(root) {
                pids.push(pid);
            }
        }
    }
    let cpu = pids.iter().filter_map(|&p| procfs::cpu_seconds(p)).sum();
    let rss = pids.iter().filter_map(|&p| procfs::peak_rss_bytes(p)).sum();
    (cpu, rss)
}

async fn send(client: &HttpClient, req: Request<common::http::Body>) -> anyhow::Result<(StatusCode, bytes::Bytes)> {
    let resp = client.send(req, Duration::from_secs(120)).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

async fn wait_ready(client: &HttpClient, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let req = Request::head(format!("http://127.0.0.1:{port}/sda/0/{ACCOUNT}/probe")).body(empty())?;
        if send(client, req).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("server on port {port} did not start")
}

#[derive(Default, Clone)]
struct Results {
    rows: u64,
    insert_secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    full_secs: f64,
    full_rows: u64,
    prefix_secs: f64,
    prefix_rows: u64,
    delimiter_ms: f64,
    cpu_secs: f64,
    peak_rss: u64,
    db_bytes: u64,
}

async fn insert(client: &HttpClient, base: &str, rows: u64, concurrency: u64) -> anyhow::Result<(f64, Latencies)> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, base) = (client.clone(), next.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Latencies::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= rows {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let req = Request::put(format!("{base}/{}", object_name(i)))
                    .header("x-timestamp", common::Timestamp::now().internal())
                    .header("x-size", (i % 65_536).to_string())
                    .header("x-content-type", "application/octet-stream")
                    .header("x-etag", "d41d8cd98f00b204e9800998ecf8427e")
                    .header("x-backend-storage-policy-index", "0")
                    .body(empty())?;
                let t = Instant::now();
                let (status, _) = send(&client, req).await?;
                lat.record(t.elapsed());
                if status != StatusCode::CREATED {
                    bail!("row PUT answered {status}");
                }
            }
        }));
    }
    let mut all = Latencies::default();
    for t in tasks {
        all.merge(t.await??);
    }
    Ok((started.elapsed().as_secs_f64(), all))
}

/// Pages through a listing with `limit=10000` and markers; returns (seconds, entries).
async fn page_through(client: &HttpClient, base: &str, query: &str) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    let (mut marker, mut total) = (String::new(), 0u64);
    loop {
        let url = format!("{base}?format=json&limit=10000&{query}&marker={marker}");
        let (status, body) = send(client, Request::get(url).body(empty())?).await?;
        if status == StatusCode::NO_CONTENT {
            break;
        }
        let page: Vec<serde_json::Value> = serde_json::from_slice(&body).context("listing page")?;
        let Some(last) = page.last() else { break };
        let name = last.get("name").or_else(|| last.get("subdir")).and_then(|v| v.as_str()).unwrap_or_default();
        marker = percent_encoding_lite(name);
        total += page.len() as u64;
        if page.len() < 10_000 {
            break;
        }
    }
    Ok((started.elapsed().as_secs_f64(), total))
}

/// Enough percent-encoding for the benchmark's ASCII names.
fn percent_encoding_lite(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Bytes of the files under `p` whose names end with `suffix`.
fn files_size(p: &Path, suffix: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => files_size(&e.path(), suffix),
            Ok(m) if e.file_name().to_string_lossy().ends_with(suffix) => m.len(),
            _ => 0,
        })
        .sum()
}

async fn run(label: &str, server: &Server, rows: u64, concurrency: u64) -> anyhow::Result<Results> {
    let mut client = HttpClient::new(Duration::from_secs(5));
    if let Some(signer) = &server.signer {
        client = client.with_signer(signer.clone());
    }
    wait_ready(&client, server.port).await?;
    let base = format!("http://127.0.0.1:{}/sda/0/{ACCOUNT}/{CONTAINER}", server.port);
    let req = Request::put(&base)
        .header("x-timestamp", common::Timestamp::now().internal())
        .header("x-backend-storage-policy-index", "0")
        .body(empty())?;
    let (status, _) = send(&client, req).await?;
    if !status.is_success() {
        bail!("{label}: container PUT answered {status}");
    }
    let pid = server.child.id();
    let cpu0 = tree_usage(pid).0;
    eprintln!("{label}: inserting {rows} rows with {concurrency} clients ...");
    let (insert_secs, mut lat) = insert(&client, &base, rows, concurrency).await?;
    eprintln!("{label}: {:.0} rows/s; listing ...", rows as f64 / insert_secs);
    let (full_secs, full_rows) = page_through(&client, &base, "").await?;
    let (prefix_secs, prefix_rows) = page_through(&client, &base, "prefix=dir42/").await?;
    let t = Instant::now();
    let (_, subdirs) = page_through(&client, &base, "delimiter=/").await?;
    let delimiter_ms = t.elapsed().as_secs_f64() * 1000.0;
    if full_rows != rows || subdirs != DIRS.min(rows) {
        bail!("{label}: listed {full_rows} rows and {subdirs} subdirs, expected {rows} and {DIRS}");
    }
    let (cpu1, peak_rss) = tree_usage(pid);
    Ok(Results {
        rows,
        insert_secs,
        p50_ms: lat.percentile(50.0).as_secs_f64() * 1000.0,
        p99_ms: lat.percentile(99.0).as_secs_f64() * 1000.0,
        full_secs,
        full_rows,
        prefix_secs,
        prefix_rows,
        delimiter_ms,
        cpu_secs: cpu1 - cpu0,
        peak_rss,
        db_bytes: files_size(&server.devices.join("sda/containers"), ".db"),
    })
}

fn print(a: &Results, b: Option<&Results>) {
    let row = |name: &str, x: f64, y: Option<f64>, higher_better: bool| {
        let ratio = match y {
            Some(y) if y > 0.0 && x > 0.0 => format!("{:.2}x", if higher_better { x / y } else { y / x }),
            _ => "-".into(),
        };
        let y = y.map(|y| format!("{y:.2}")).unwrap_or_else(|| "-".into());
        println!("{name:<44} {x:>14.2} {y:>14} {ratio:>10}");
    };
    println!("{:<44} {:>14} {:>14} {:>10}", "metric", "swiftlet", "swift", "advantage");
    println!("{:<44} {:>14} {:>14}", "rows inserted", a.rows, b.map(|b| b.rows.to_string()).unwrap_or("-".into()));
    row("insert rate (rows/s)", a.rows as f64 / a.insert_secs, b.map(|b| b.rows as f64 / b.insert_secs), true);
    row("insert latency p50 (ms)", a.p50_ms, b.map(|b| b.p50_ms), false);
    row("insert latency p99 (ms)", a.p99_ms, b.map(|b| b.p99_ms), false);
    row("insert time (s)", a.insert_secs, b.map(|b| b.insert_secs), false);
    if let Some(b) = b {
        if b.rows != a.rows {
            let projected = a.rows as f64 / (b.rows as f64 / b.insert_secs);
            row(
                &format!("insert time for {} rows, Swift projected (s)", a.rows),
                a.insert_secs,
                Some(projected),
                false,
            );
        }
    }
    row("full listing: time (s)", a.full_secs, b.map(|b| b.full_secs), false);
    row("full listing: rows/s", a.full_rows as f64 / a.full_secs, b.map(|b| b.full_rows as f64 / b.full_secs), true);
    row(
        "full listing: ms per 10000-row page",
        page_ms(a.full_secs, a.full_rows),
        b.map(|b| page_ms(b.full_secs, b.full_rows)),
        false,
    );
    row("prefix listing (1% of rows): time (s)", a.prefix_secs, b.map(|b| b.prefix_secs), false);
    row(
        "prefix listing: rows/s",
        a.prefix_rows as f64 / a.prefix_secs,
        b.map(|b| b.prefix_rows as f64 / b.prefix_secs),
        true,
    );
    row("delimiter listing, 100 subdirs (ms)", a.delimiter_ms, b.map(|b| b.delimiter_ms), false);
    row(
        "server CPU s per 1000 rows (insert+list)",
        a.cpu_secs * 1000.0 / a.rows as f64,
        b.map(|b| b.cpu_secs * 1000.0 / b.rows as f64),
        false,
    );
    row("server peak RSS (MiB)", a.peak_rss as f64 / 1048576.0, b.map(|b| b.peak_rss as f64 / 1048576.0), false);
    row(
        "DB file bytes per row (.db, no WAL/pending)",
        a.db_bytes as f64 / a.rows as f64,
        b.map(|b| b.db_bytes as f64 / b.rows as f64),
        false,
    );
}

fn page_ms(secs: f64, rows: u64) -> f64 {
    secs * 1000.0 / (rows as f64 / 10_000.0).ceil().max(1.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let work = tempfile::tempdir()?;
    let swiftlet = {
        let server = start_swiftlet(&args.container_server, &work.path().join("swiftlet"))?;
        run("swiftlet", &server, args.rows, args.concurrency).await?
    };
    let swift = match &args.swift_server {
        Some(bin) => {
            let server = start_swift(bin, &work.path().join("swift"), args.swift_workers)?;
            Some(run("swift", &server, args.swift_rows, args.concurrency).await?)
        }
        None => None,
    };
    println!();
    println!(
        "container listing benchmark: one container, {} concurrent clients, pages of 10000, machine: {} cores",
        args.concurrency,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    print(&swiftlet, swift.as_ref());
    Ok(())
}
