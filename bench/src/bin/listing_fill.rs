//! Fills a container's listing with object rows quickly, for listing benchmarks: rows go
//! straight into every replica of the container DB with the replicators' `REPLICATE
//! merge_items` call, a thousand per request. Swift's container server and Swiftlet's speak
//! the same call, so one tool fills both; the objects themselves are never written (a
//! listing reads only the container DB).
//!
//!   listing_fill --partition 523 --hash 82ba... --node 127.0.0.1:6211/sdb1 --node ... --rows 100000
//!
//! `ring-builder <container.ring> get_nodes AUTH_test c --secret-file etc/secret.toml`
//! (or `swift-get-nodes`) prints the partition, hash and nodes.

use anyhow::{bail, Context, Result};
use clap::Parser;
use common::http::{full, HttpClient};
use common::Timestamp;
use http::{Method, Request};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "Fill a container listing through REPLICATE merge_items (Swift or Swiftlet container servers)")]
struct Args {
    /// The container's partition.
    #[arg(long)]
    partition: u32,
    /// The container's placement hash (32 hex digits).
    #[arg(long)]
    hash: String,
    /// A container replica as `ip:port/device`; repeat for each replica.
    #[arg(long = "node", required = true)]
    nodes: Vec<String>,
    /// Object rows to add, named `<prefix><10-digit number>`.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    #[arg(long, default_value = "obj-")]
    prefix: String,
    /// Rows per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
}

/// One batch of rows as both servers' `merge_items` takes them (Swift's row dicts).
fn batch_body(args: &Args, start: usize, end: usize, created_at: &str) -> Vec<u8> {
    let rows: Vec<serde_json::Value> = (start..end)
        .map(|i| {
            json!({
                "name": format!("{}{i:010}", args.prefix),
                "created_at": created_at,
                "size": 0,
                "content_type": "application/octet-stream",
                "etag": "d41d8cd98f00b204e9800998ecf8427e",
                "deleted": 0,
                "storage_policy_index": 0,
                "ctype_timestamp": created_at,
                "meta_timestamp": created_at,
            })
        })
        .collect();
    // No source DB id: with one, Swift expects a ROWID in every row for its sync point.
    serde_json::to_vec(&json!(["merge_items", rows, null])).expect("rows serialize")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    // Swiftlet's container servers take only signed requests: with SWIFTLET_BACKEND_KEY set
    // (compare.sh sets it for Swiftlet, not for Swift) every request is signed with it.
    let mut client = HttpClient::new(Duration::from_secs(5));
    if std::env::var(common::backend_auth::KEY_ENV).is_ok_and(|k| !k.is_empty()) {
        let key = common::backend_auth::BackendConfig::default().load_key()?;
        client = client.with_signer(common::backend_auth::Signer::new(&key));
    }
    let created_at = Timestamp::now().internal();
    let start = Instant::now();
    let mut done = 0;
    while done < args.rows {
        let end = (done + args.batch).min(args.rows);
        let body = bytes::Bytes::from(batch_body(&args, done, end, &created_at));
        let sends = args.nodes.iter().map(|node| {
            let (addr, device) =
                node.split_once('/').with_context(|| format!("node {node:?} is not ip:port/device"))?;
            let req = Request::builder()
                .method(Method::from_bytes(b"REPLICATE")?)
                .uri(format!("http://{addr}/{device}/{}/{}", args.partition, args.hash))
                .header("content-type", "application/json")
                .header("content-length", body.len())
                .body(full(body.clone()))?;
            Ok::<_, anyhow::Error>((node, client.send(req, Duration::from_secs(120))))
        });
        let (nodes, sends): (Vec<_>, Vec<_>) = sends.collect::<Result<Vec<_>>>()?.into_iter().unzip();
        for (node, resp) in nodes.into_iter().zip(futures::future::join_all(sends).await) {
            let resp = resp.with_context(|| format!("REPLICATE to {node}"))?;
            if !resp.status().is_success() {
                bail!("{node} answered {} to merge_items (does the container exist there?)", resp.status());
            }
        }
        done = end;
        eprint!("\rlisting_fill: {done}/{} rows in {:.1}s", args.rows, start.elapsed().as_secs_f64());
    }
    eprintln!();
    Ok(())
}
