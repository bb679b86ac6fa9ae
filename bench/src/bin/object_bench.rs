//! Object server benchmark: 4 KiB PUT/GET ops/s at concurrency 32 and 1 GiB PUT/GET MB/s
//! against one in-process object server on a temp dir on the real disk, printed beside the
//! same disk's physical limits measured in the same run.
//!
//! `cargo run --release -p bench --bin object_bench -- [--dir .] [--ops 20000] [--big-mib 1024]`

use anyhow::{ensure, Context, Result};
use bench::latency::Latencies;
use bytes::{Bytes, BytesMut};
use clap::Parser;
use common::http::{empty, full, stream_body, HttpClient};
use common::secrets::Secrets;
use common::{HashPathSecret, Timestamp};
use futures::StreamExt;
use http_body_util::BodyExt;
use object_server::{ObjectServer, ObjectServerConfig};
use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
struct Args {
    /// Directory on the disk to measure (a temp dir is made inside it).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Number of 4 KiB objects to PUT (and then GET).
    #[arg(long, default_value_t = 20_000)]
    ops: u64,
    /// Concurrent clients for the 4 KiB phases.
    #[arg(long, default_value_t = 32)]
    concurrency: u64,
    /// Size of the large object, MiB.
    #[arg(long, default_value_t = 1024)]
    big_mib: u64,
}

const SMALL: usize = 4096;

/// A one-device container ring (the bench's PUTs name no container server).
fn placeholder_container_ring(path: &Path) -> Result<()> {
    let dev = swiftlet_ring::Device::new(0, (1, 1), ("127.0.0.1", 1), "none", 1.0);
    swiftlet_ring::Ring::new(0, 1, vec![Some(dev)], vec![vec![0]])?.save(path)?;
    Ok(())
}

/// The PUT path's syscalls done by hand, one file after another: create in tmp, write,
/// set an xattr, fsync, rename into a new directory, fsync that directory.
fn object_like_files_per_s(dir: &Path, count: usize) -> Result<f64> {
    let sub = tempfile::tempdir_in(dir)?;
    std::fs::create_dir(sub.path().join("tmp"))?;
    let body = vec![0xa5u8; SMALL];
    let start = Instant::now();
    for i in 0..count {
        let tmp = sub.path().join("tmp").join(i.to_string());
        let mut f = File::create(&tmp)?;
        f.write_all(&body)?;
        xattr::FileExt::set_xattr(&f, "user.bench", &[7u8; 200])?;
        f.sync_all()?;
        let d = sub.path().join(format!("d{i}"));
        std::fs::create_dir(&d)?;
        std::fs::rename(&tmp, d.join("x.data"))?;
        File::open(&d)?.sync_all()?;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Sequential read of a file written with `fsync_write_mb_s`-like settings (page cache warm).
fn read_mb_s(dir: &Path, total: u64) -> Result<f64> {
    let path = dir.join(".bench-read");
    let block = vec![0x5au8; 1 << 20];
    let f = File::options().read(true).write(true).create(true).truncate(true).open(&path)?;
    for i in 0..total / block.len() as u64 {
        f.write_all_at(&block, i * block.len() as u64)?;
    }
    let mut buf = vec![0u8; 1 << 20];
    let start = Instant::now();
    let mut off = 0;
    while off < total {
        off += f.read_at(&mut buf, off)? as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(total as f64 / secs / 1e6)
}

fn obj_path(i: u64) -> String {
    format!("/sda/{}/AUTH_bench/c/obj-{i}", i % 1024)
}

async fn small_phase(
    client: &HttpClient,
    addr: SocketAddr,
    args: &Args,
    method: &'static str,
) -> Result<(f64, Latencies)> {
    let next = Arc::new(AtomicU64::new(0));
    let body = Bytes::from(vec![0x42u8; SMALL]);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, next, body, ops) = (client.clone(), next.clone(), body.clone(), args.ops);
        tasks.push(tokio::spawn(async move {
            let mut lat = Latencies::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ops {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let mut req = http::Request::builder().method(method).uri(format!("http://{addr}{}", obj_path(i)));
                let b = if method == "PUT" {
                    req = req
                        .header("x-timestamp", Timestamp::now().internal())
                        .header("content-type", "application/octet-stream");
                    full(body.clone())
                } else {
                    empty()
                };
                let t = Instant::now();
                let resp = client.send(req.body(b)?, Duration::from_secs(30)).await?;
                let status = resp.status();
                let got = resp.into_body().collect().await?.to_bytes();
                lat.record(t.elapsed());
                ensure!(status.is_success(), "{method} {i}: {status}");
                ensure!(method == "PUT" || got.len() == SMALL, "short GET");
            }
        }));
    }
    let mut all = Latencies::default();
    for t in tasks {
        all.merge(t.await??);
    }
    Ok((args.ops as f64 / start.elapsed().as_secs_f64(), all))
}

async fn big_put(client: &HttpClient, addr: SocketAddr, mib: u64) -> Result<f64> {
    let blocks = futures::stream::iter(0..mib).map(|i| {
        let mut b = BytesMut::zeroed(1 << 20);
        b[..8].copy_from_slice(&i.to_le_bytes());
        Ok::<Bytes, std::io::Error>(b.freeze())
    });
    let req = http::Request::put(format!("http://{addr}/sda/0/AUTH_bench/c/big"))
        .header("x-timestamp", Timestamp::now().internal())
        .header("content-type", "application/octet-stream")
        .header("content-length", (mib << 20).to_string())
        .body(stream_body(blocks))?;
    let start = Instant::now();
    let resp = client.send(req, Duration::from_secs(600)).await?;
    let status = resp.status();
    resp.into_body().collect().await?;
    ensure!(status.as_u16() == 201, "big PUT: {status}");
    Ok((mib << 20) as f64 / start.elapsed().as_secs_f64() / 1e6)
}

async fn big_get(client: &HttpClient, addr: SocketAddr, mib: u64) -> Result<f64> {
    let req = http::Request::get(format!("http://{addr}/sda/0/AUTH_bench/c/big")).body(empty())?;
    let start = Instant::now();
    let resp = client.send(req, Duration::from_secs(600)).await?;
    ensure!(resp.status().as_u16() == 200, "big GET: {}", resp.status());
    let mut body = resp.into_body();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(d) = frame?.into_data() {
            n += d.len() as u64;
        }
    }
    ensure!(n == mib << 20, "big GET returned {n} bytes");
    Ok(n as f64 / start.elapsed().as_secs_f64() / 1e6)
}

fn print_latency(name: &str, ops: f64, lat: &mut Latencies) {
    println!(
        "{name:<28} {ops:>10.0} ops/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        lat.percentile(50.0).as_secs_f64() * 1e3,
        lat.percentile(99.0).as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let work = tempfile::tempdir_in(&args.dir).with_context(|| format!("temp dir in {}", args.dir.display()))?;
    let devices = work.path().join("devices");
    std::fs::create_dir_all(devices.join("sda"))?;
    println!(
        "object_bench: dir {} ({} x 4 KiB, concurrency {}, {} MiB large object)",
        work.path().display(),
        args.ops,
        args.concurrency,
        args.big_mib
    );

    // Physical limits of this disk, measured now.
    let limits_dir = work.path().to_path_buf();
    let (seq_write, files_s, object_like_s, read_s) = tokio::task::spawn_blocking(move || -> Result<_> {
        Ok((
            bench::limits::fsync_write_mb_s(&limits_dir, 1 << 30)?,
            bench::limits::create_fsync_files_per_s(&limits_dir, SMALL, 2000)?,
            object_like_files_per_s(&limits_dir, 2000)?,
            read_mb_s(&limits_dir, 1 << 30)?,
        ))
    })
    .await??;

    // The server checks container update targets against a container ring; the bench sends none.
    let etc = work.path().join("etc");
    std::fs::create_dir_all(&etc)?;
    placeholder_container_ring(&etc.join("container.ring"))?;
    let config =
        ObjectServerConfig { devices: devices.clone(), mount_check: false, swift_dir: etc, ..Default::default() };
    let secrets = Secrets::with_new_backend_key(HashPathSecret::new("bench", "bench"));
    let server = ObjectServer::new(config, &secrets)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let serving = tokio::spawn(server.serve(listener, cancel.clone()));
    let client = HttpClient::default().with_signer(secrets.backend.signer.clone());
    let cpu0 = bench::procfs::cpu_seconds(std::process::id()).unwrap_or(0.0);

    let (put_ops, mut put_lat) = small_phase(&client, addr, &args, "PUT").await?;
    let (get_ops, mut get_lat) = small_phase(&client, addr, &args, "GET").await?;
    let put_mb = big_put(&client, addr, args.big_mib).await?;
    let get_mb = big_get(&client, addr, args.big_mib).await?;
    let cpu = bench::procfs::cpu_seconds(std::process::id()).unwrap_or(0.0) - cpu0;
    let rss = bench::procfs::peak_rss_bytes(std::process::id()).unwrap_or(0) as f64 / (1 << 20) as f64;
    cancel.cancel();
    let _ = serving.await;

    println!();
    println!("physical limits (same disk, same run, one thread):");
    println!("  fsynced sequential write      {seq_write:>10.0} MB/s");
    println!("  4 KiB create+write+fsync      {files_s:>10.0} files/s");
    println!("  + xattr, rename, dir fsync    {object_like_s:>10.0} files/s");
    println!("  sequential read (page cache)  {read_s:>10.0} MB/s");
    println!();
    println!("object server (client + server in this process):");
    print_latency("  4 KiB PUT (fsynced)", put_ops, &mut put_lat);
    print_latency("  4 KiB GET", get_ops, &mut get_lat);
    println!("  {} MiB PUT                  {put_mb:>10.0} MB/s", args.big_mib);
    println!("  {} MiB GET                  {get_mb:>10.0} MB/s", args.big_mib);
    println!("  CPU {cpu:.1} s for all phases, peak RSS {rss:.0} MiB (client + server)");
    println!();
    println!("ratios:");
    println!("  4 KiB PUT / create+fsync files       {:>6.2}", put_ops / files_s);
    println!("  4 KiB PUT / object-like files        {:>6.2}", put_ops / object_like_s);
    println!("  large PUT / fsynced sequential write {:>6.2}", put_mb / seq_write);
    println!("  large GET / sequential read          {:>6.2}", get_mb / read_s);
    Ok(())
}
