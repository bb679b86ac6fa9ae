//! Healing benchmark: the time one replication pass takes to rebuild a wiped device.
//!
//! For each case (N small objects; then large objects totalling `--large-mib`), it starts a
//! whole in-process cluster (saio: 4 nodes, 3 replicas, one device each) in a temp dir on
//! the real disk, uploads the objects through the proxy, stops node 1, wipes its device,
//! starts it again, and times one pass of every node's replicators (run at once, as the
//! nodes' daemons would). The rebuilt device is then walked to count what it got back.
//! Printed beside the same disk's limits measured in the same run (create+fsync of small
//! files; fsynced sequential write) and loopback TCP, as ratios.
//!
//! `cargo run --release -p bench --bin heal_bench -- [--dir .] [--small 10000]
//!  [--small-size 4096] [--large-mib 1024] [--large-object-mib 64]`

use anyhow::{ensure, Result};
use bench::tempauth::{login, Session};
use bytes::Bytes;
use clap::Parser;
use common::http::{full, HttpClient};
use futures::StreamExt;
use http_body_util::BodyExt;
use saio::{Cluster, ClusterOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// Directory on the disk to measure (temp dirs are made inside it).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Number of small objects.
    #[arg(long, default_value_t = 10_000)]
    small: usize,
    /// Size of each small object, bytes.
    #[arg(long, default_value_t = 4096)]
    small_size: usize,
    /// Total size of the large objects, MiB.
    #[arg(long, default_value_t = 1024)]
    large_mib: usize,
    /// Size of each large object, MiB.
    #[arg(long, default_value_t = 64)]
    large_object_mib: usize,
}

/// What healing one wiped device took.
struct Healed {
    label: String,
    uploaded: usize,
    /// Objects and body bytes back on the wiped device.
    objects: usize,
    bytes: u64,
    /// Wall time of the object replicators' pass (all nodes at once), and of the whole
    /// pass including the container and account replicators.
    object_secs: f64,
    total_secs: f64,
    pushed: usize,
    failures: usize,
}

async fn put(client: &HttpClient, s: &Session, path: String, body: Bytes) -> Result<()> {
    let req =
        http::Request::put(format!("{}{path}", s.storage_url)).header("x-auth-token", &s.token).body(full(body))?;
    let resp = client.send(req, Duration::from_secs(600)).await?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    ensure!(status.is_success(), "PUT {path}: {status}");
    Ok(())
}

/// `.data` files and their sizes under a device's objects dir.
fn walk_data(dir: &Path) -> (usize, u64) {
    let mut stack = vec![dir.join("objects")];
    let (mut n, mut bytes) = (0, 0);
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "data") {
                n += 1;
                bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    (n, bytes)
}

async fn heal_case(dir: &Path, label: &str, count: usize, size: usize, concurrency: usize) -> Result<Healed> {
    let tmp = tempfile::tempdir_in(dir)?;
    let mut cluster = Cluster::start(ClusterOptions::ephemeral(tmp.path())).await?;
    let client = HttpClient::new(Duration::from_secs(5));
    let s = login(&client, &format!("{}/auth/v1.0", cluster.proxy_url()), "test:tester", "testing").await?;
    put(&client, &s, "/bench".into(), Bytes::new()).await?;
    let body = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let started = Instant::now();
    let puts = (0..count).map(|i| put(&client, &s, format!("/bench/o{i:06}"), body.clone()));
    let results: Vec<Result<()>> = futures::stream::iter(puts).buffer_unordered(concurrency).collect().await;
    results.into_iter().collect::<Result<Vec<()>>>()?;
    eprintln!("{label}: uploaded {count} objects in {:.1} s", started.elapsed().as_secs_f64());

    let expected = {
        let ring = cluster.object_ring();
        (0..count)
            .filter(|i| {
                let (_, nodes) = ring.get_nodes(&cluster.secret, "AUTH_test", Some("bench"), Some(&format!("o{i:06}")));
                nodes.iter().any(|d| d.device == "sdb1")
            })
            .count()
    };
    cluster.stop_node(0).await;
    let device = cluster.device_dir(0);
    std::fs::remove_dir_all(&device)?;
    std::fs::create_dir_all(&device)?;
    cluster.start_node(0).await?;

    let started = Instant::now();
    let pass = cluster.run_replicators_once().await?;
    let total_secs = started.elapsed().as_secs_f64();
    let object_secs = pass.object_secs;
    let (objects, bytes) = walk_data(&device);
    ensure!(objects == expected, "{label}: the wiped device got {objects} objects back, expected {expected}");
    let healed = Healed {
        label: label.to_string(),
        uploaded: count,
        objects,
        bytes,
        object_secs,
        total_secs,
        pushed: pass.objects.iter().map(|r| r.objects_pushed).sum(),
        failures: pass.failures(),
    };
    cluster.shutdown().await;
    Ok(healed)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mib = 1usize << 20;
    let large_count = (args.large_mib / args.large_object_mib.max(1)).max(1);
    let cases = [("small", args.small, args.small_size, 32), ("large", large_count, args.large_object_mib * mib, 4)];
    let mut rows = Vec::new();
    for (label, count, size, concurrency) in cases {
        let label = format!("{label}: {count} x {} KiB", size / 1024);
        rows.push(heal_case(&args.dir, &label, count, size, concurrency).await?);
    }

    let files_per_s = bench::limits::create_fsync_files_per_s(&args.dir, args.small_size, 2000)?;
    let write_mb_s = bench::limits::fsync_write_mb_s(&args.dir, 1 << 30)?;
    let tcp_mb_s = bench::limits::loopback_tcp_mb_s(1 << 30).await?;

    println!("heal_bench: one replication pass rebuilding a wiped device (4 nodes, 3 replicas, part power 6)");
    println!("disk: create+write+fsync {:.0} files/s ({} B); fsynced sequential write {write_mb_s:.0} MB/s; loopback TCP {tcp_mb_s:.0} MB/s", files_per_s, args.small_size);
    println!(
        "{:<28} {:>9} {:>9} {:>10} {:>9} {:>9} {:>10} {:>8} {:>8}",
        "case", "uploaded", "healed", "MB healed", "obj pass", "all pass", "objects/s", "MB/s", "failures"
    );
    for r in &rows {
        let mb = r.bytes as f64 / 1e6;
        println!(
            "{:<28} {:>9} {:>9} {:>10.1} {:>8.2}s {:>8.2}s {:>10.0} {:>8.1} {:>8}",
            r.label,
            r.uploaded,
            r.objects,
            mb,
            r.object_secs,
            r.total_secs,
            r.objects as f64 / r.object_secs,
            mb / r.object_secs,
            r.failures
        );
        eprintln!("{}: {} SSYNC frames pushed in the pass", r.label, r.pushed);
    }
    if let [small, large] = rows.as_slice() {
        println!(
            "ratios: small heal {:.2}x the disk's create+fsync files/s; large heal {:.2}x its fsynced write MB/s, {:.2}x loopback TCP",
            small.objects as f64 / small.object_secs / files_per_s,
            large.bytes as f64 / 1e6 / large.object_secs / write_mb_s,
            large.bytes as f64 / 1e6 / large.object_secs / tcp_mb_s
        );
    }
    Ok(())
}
