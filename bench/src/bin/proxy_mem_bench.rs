//! Proxy memory benchmark: a 2 GiB object uploaded and downloaded through the proxy, both
//! bodies streamed (generated and checked on the fly, never held whole by the client), with
//! the proxy's resident memory sampled throughout. The storage nodes run in this process (the
//! `saio` library); the proxy runs as its own `proxy-server` process against the same rings
//! and cluster secret, so its RSS is the proxy's alone.
//!
//! `cargo build --release -p proxy-server --bin proxy-server && \
//!  cargo run --release -p bench --bin proxy_mem_bench -- [--dir .] [--size-mib 2048]`

use anyhow::{bail, ensure, Context, Result};
use bytes::Bytes;
use clap::Parser;
use common::http::{empty, stream_body, HttpClient};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use saio::{Cluster, ClusterOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// Directory on the disk to use (a temp dir is made inside it; needs 3x the size free).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Object size, MiB.
    #[arg(long, default_value_t = 2048)]
    size_mib: u64,
    /// Peak proxy RSS allowed, MiB.
    #[arg(long, default_value_t = 100)]
    limit_mib: u64,
    /// The `proxy-server` binary (default: beside this one).
    #[arg(long)]
    proxy_bin: Option<PathBuf>,
}

const CHUNK: usize = 1 << 20;
const MIB: f64 = 1024.0 * 1024.0;

/// Samples a process's VmRSS every few milliseconds and keeps the largest value seen.
struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (peak, stop) = (peak.clone(), stop.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(rss) = bench::procfs::rss_bytes(pid) {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
        RssSampler { peak, stop, task }
    }

    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

/// The proxy as a child process, killed when dropped.
struct ProxyProcess {
    child: tokio::process::Child,
    pid: u32,
    url: String,
}

/// The bench user's key on the proxy it starts (not one of the SAIO's known keys).
const BENCH_KEY: &str = "proxy-mem-bench-7f3c9e21";

impl ProxyProcess {
    async fn start(bin: &Path, cluster: &Cluster, work: &Path) -> Result<Self> {
        // A free port: bind 0, note it, release it for the child.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let config = work.join("proxy.toml");
        // The proxy signs its backend requests with the cluster's key, which saio keeps in etc/secret.toml.
        let secret_file: toml::Table =
            toml::from_str(&std::fs::read_to_string(cluster.layout.etc().join("secret.toml"))?)?;
        let backend_key =
            secret_file.get("backend_key").and_then(|k| k.as_str()).context("no backend_key in secret.toml")?;
        // Its own token key and user: proxy-server refuses the SAIO's published test keys.
        let token_key = secret_file.get("token_key").and_then(|k| k.as_str()).context("no token_key in secret.toml")?;
        let text = format!(
            "bind = \"127.0.0.1:{port}\"\nswift_dir = {:?}\n\n[hash_path]\nprefix = {:?}\nsuffix = {:?}\n\n[backend]\nkey = {backend_key:?}\n\n[token]\nkey = {token_key:?}\n\n[[tempauth.users]]\naccount = \"test\"\nuser = \"tester\"\nkey = {BENCH_KEY:?}\ngroups = [\".admin\"]\n",
            cluster.layout.etc(),
            cluster.secret.prefix,
            cluster.secret.suffix
        );
        std::fs::write(&config, text)?;
        let log = std::fs::File::create(work.join("proxy.log"))?;
        let child = tokio::process::Command::new(bin)
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the proxy exited at once")?;
        let url = format!("http://127.0.0.1:{port}");
        let client = HttpClient::default();
        for _ in 0..200 {
            let req = Request::get(format!("{url}/healthcheck")).body(empty())?;
            if let Ok(resp) = client.send(req, Duration::from_secs(1)).await {
                if resp.status() == StatusCode::OK {
                    return Ok(ProxyProcess { child, pid, url });
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the proxy did not answer /healthcheck; see {}", work.join("proxy.log").display())
    }
}

/// Chunk `i` of the object: a fixed pseudo-random MiB with its index stamped in front, so a
/// misplaced or repeated chunk changes the MD5.
fn chunk(base: &Bytes, i: u64, len: usize) -> Bytes {
    let mut v = base[..len].to_vec();
    let stamp = i.to_le_bytes();
    let n = stamp.len().min(len);
    v[..n].copy_from_slice(&stamp[..n]);
    Bytes::from(v)
}

fn random_mib() -> Bytes {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut v = Vec::with_capacity(CHUNK);
    while v.len() < CHUNK {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    Bytes::from(v)
}

/// PUTs `size` generated bytes; returns (seconds, the MD5 of what was sent, the ETag).
/// One line per transfer: rate, time, the proxy's peak RSS meanwhile, and whether the
/// bytes' checksum matched.
fn print_transfer(verb: &str, bytes: u64, secs: f64, peak_rss: u64, checksum: &str, ok: bool) {
    let verdict = if ok { "matches" } else { "MISMATCH" };
    println!(
        "{verb:<4} {:>8.1} MB/s  {secs:>6.1} s  peak proxy RSS {:>6.1} MiB  {checksum} {verdict}",
        bytes as f64 / 1e6 / secs,
        peak_rss as f64 / MIB
    );
}

async fn upload(client: &HttpClient, url: &str, token: &str, size: u64) -> Result<(f64, String, String)> {
    let base = random_mib();
    let hasher = Arc::new(Mutex::new(Md5::new()));
    let stream = futures::stream::unfold((0u64, size), {
        let hasher = hasher.clone();
        move |(i, left)| {
            let (base, hasher) = (base.clone(), hasher.clone());
            async move {
                if left == 0 {
                    return None;
                }
                let c = chunk(&base, i, left.min(CHUNK as u64) as usize);
                // The hasher is only touched here, one chunk at a time.
                if let Ok(mut h) = hasher.lock() {
                    h.update(&c);
                }
                let n = c.len() as u64;
                Some((Ok::<_, std::io::Error>(c), (i + 1, left - n)))
            }
        }
    });
    let req = Request::builder()
        .method(Method::PUT)
        .uri(url)
        .header("x-auth-token", token)
        .header("content-length", size)
        .body(stream_body(stream))?;
    let start = Instant::now();
    let resp = client.send(req, Duration::from_secs(3600)).await.context("PUT")?;
    let secs = start.elapsed().as_secs_f64();
    ensure!(resp.status() == StatusCode::CREATED, "PUT answered {}", resp.status());
    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or("").trim_matches('"').to_owned();
    let sent = match hasher.lock() {
        Ok(mut h) => hex::encode(h.finalize_reset()),
        Err(_) => bail!("the upload hasher was poisoned"),
    };
    Ok((secs, sent, etag))
}

/// GETs the object, hashing it as it arrives; returns (seconds, bytes, MD5).
async fn download(client: &HttpClient, url: &str, token: &str) -> Result<(f64, u64, String)> {
    let req = Request::get(url).header("x-auth-token", token).body(empty())?;
    let start = Instant::now();
    let resp = client.send(req, Duration::from_secs(60)).await.context("GET")?;
    ensure!(resp.status() == StatusCode::OK, "GET answered {}", resp.status());
    let mut body = resp.into_body();
    let mut md5 = Md5::new();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(d) = frame.context("GET body")?.into_data() {
            md5.update(&d);
            n += d.len() as u64;
        }
    }
    Ok((start.elapsed().as_secs_f64(), n, hex::encode(md5.finalize())))
}

async fn simple(client: &HttpClient, method: Method, url: &str, token: &str) -> Result<StatusCode> {
    let req = Request::builder().method(method).uri(url).header("x-auth-token", token).body(empty())?;
    let resp = client.send(req, Duration::from_secs(30)).await?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    Ok(status)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let bin = match args.proxy_bin {
        Some(b) => b,
        None => std::env::current_exe()?.with_file_name("proxy-server"),
    };
    ensure!(bin.exists(), "{} not found: build it (cargo build --release -p proxy-server)", bin.display());
    let size = args.size_mib << 20;
    let work = tempfile::tempdir_in(&args.dir)?;
    let mut opts = ClusterOptions::ephemeral(work.path().join("data"));
    opts.cloud.enabled = false;
    let cluster = Cluster::start(opts).await?;
    let mut proxy = ProxyProcess::start(&bin, &cluster, work.path()).await?;
    let client = HttpClient::new(Duration::from_secs(2));
    let session =
        bench::tempauth::login(&client, &format!("{}/auth/v1.0", proxy.url), "test:tester", BENCH_KEY).await?;
    let (storage, token) = (session.storage_url, session.token);
    let status = simple(&client, Method::PUT, &format!("{storage}/mem"), &token).await?;
    ensure!(status.is_success(), "container PUT answered {status}");
    let idle = bench::procfs::rss_bytes(proxy.pid).unwrap_or(0);
    println!("proxy pid {} idle RSS {:.1} MiB; object {} MiB", proxy.pid, idle as f64 / MIB, args.size_mib);

    let object = format!("{storage}/mem/big");
    let sampler = RssSampler::start(proxy.pid);
    let (put_s, sent_md5, etag) = upload(&client, &object, &token, size).await?;
    let put_peak = sampler.finish().await;
    let put_ok = etag == sent_md5;
    print_transfer("PUT", size, put_s, put_peak, "etag", put_ok);

    let sampler = RssSampler::start(proxy.pid);
    let (get_s, got, got_md5) = download(&client, &object, &token).await?;
    let get_peak = sampler.finish().await;
    let get_ok = got == size && got_md5 == sent_md5;
    print_transfer("GET", got, get_s, get_peak, "md5", get_ok);
    let hwm = bench::procfs::peak_rss_bytes(proxy.pid).unwrap_or(0);
    let peak = hwm.max(put_peak).max(get_peak);
    let _ = simple(&client, Method::DELETE, &object, &token).await;
    let _ = proxy.child.kill().await;
    cluster.shutdown().await;

    let pass = put_ok && get_ok && peak <= args.limit_mib << 20;
    println!(
        "peak proxy RSS {:.1} MiB (VmHWM) vs limit {} MiB: {}",
        peak as f64 / MIB,
        args.limit_mib,
        if pass { "PASS" } else { "FAIL" }
    );
    println!(
        "{{\"size_mib\":{},\"put_mb_s\":{:.1},\"get_mb_s\":{:.1},\"put_peak_rss_mib\":{:.1},\"get_peak_rss_mib\":{:.1},\"peak_rss_mib\":{:.1},\"pass\":{pass}}}",
        args.size_mib,
        size as f64 / 1e6 / put_s,
        got as f64 / 1e6 / get_s,
        put_peak as f64 / MIB,
        get_peak as f64 / MIB,
        peak as f64 / MIB
    );
    if !pass {
        std::process::exit(1);
    }
    Ok(())
}
