//! `s3_bench`: the same loads through the S3 API and through the Swift API, side by side,
//! against one in-process cluster (`saio`'s harness on free ports in a temp dir).
//!
//! Small objects (PUT then GET, fixed concurrency) and large objects (streamed PUT then
//! GET) run through Swift (tempauth token), S3 with `UNSIGNED-PAYLOAD` (header signature
//! only, as SDKs do over TLS) and S3 with a signed SHA-256 payload (as SDKs do over plain
//! HTTP). The ratios show what S3 costs on top of Swift: the signature and the payload
//! hash. Requests are signed here with the proxy's own SigV4 functions.

use anyhow::{bail, Context, Result};
use bench::latency::Latencies;
use bytes::Bytes;
use clap::Parser;
use common::http::{empty, Body, HttpClient};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use proxy_server::s3::signature::{format_amz_date, v4};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(about = "S3 API beside the Swift API on the same cluster")]
struct Args {
    /// Small objects written (then read) per API.
    #[arg(long, default_value_t = 2000)]
    small_count: u64,
    #[arg(long, default_value_t = 4096)]
    small_size: usize,
    /// Large objects written (then read) per API.
    #[arg(long, default_value_t = 4)]
    large_count: u64,
    #[arg(long, default_value_t = 64 << 20)]
    large_size: u64,
    #[arg(long, short = 'c', default_value_t = 16)]
    concurrency: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Swift,
    S3Unsigned,
    S3Signed,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Swift => "swift",
            Api::S3Unsigned => "s3 (unsigned payload)",
            Api::S3Signed => "s3 (sha256 payload)",
        }
    }
}

/// One API's way to address and authenticate a request.
struct Target {
    client: HttpClient,
    base: String,
    host: String,
    token: String,
    account: String,
}

impl Target {
    /// A request for `/<container>/<object>` on `api`, with its body hash if signed.
    fn request(
        &self,
        api: Api,
        method: Method,
        path: &str,
        body: Body,
        len: u64,
        sha: Option<&str>,
    ) -> Result<Request<Body>> {
        let mut h = HeaderMap::new();
        h.insert("content-length", HeaderValue::from(len));
        let uri = match api {
            Api::Swift => {
                h.insert("x-auth-token", HeaderValue::from_str(&self.token)?);
                format!("{}/v1/{}{path}", self.base, self.account)
            }
            Api::S3Unsigned | Api::S3Signed => {
                let payload = sha.unwrap_or(v4::UNSIGNED_PAYLOAD);
                sign(&mut h, &method, &self.host, path, payload);
                format!("{}{path}", self.base)
            }
        };
        let mut req = Request::builder().method(method).uri(uri).body(body)?;
        *req.headers_mut() = h;
        Ok(req)
    }

    async fn send(&self, req: Request<Body>) -> Result<(StatusCode, u64)> {
        let resp = self.client.send(req, Duration::from_secs(300)).await?;
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

/// Signs a request with SigV4 as `test:tester` (what an SDK does per request).
fn sign(h: &mut HeaderMap, method: &Method, host: &str, path: &str, payload: &str) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let date = format_amz_date(now);
    let scope = format!("{}/us-east-1/s3/aws4_request", &date[..8]);
    let insert = |h: &mut HeaderMap, k: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    insert(h, "host", host);
    insert(h, "x-amz-date", &date);
    insert(h, "x-amz-content-sha256", payload);
    let signed: Vec<String> =
        ["content-length", "host", "x-amz-content-sha256", "x-amz-date"].map(String::from).to_vec();
    let creq = v4::canonical_request(method.as_str(), path, "", h, &signed, payload);
    let key = v4::signing_key("testing", &scope);
    let sig = v4::signature(&key, &v4::string_to_sign(&date, &scope, &creq));
    let auth =
        format!("AWS4-HMAC-SHA256 Credential=test:tester/{scope}, SignedHeaders={}, Signature={sig}", signed.join(";"));
    insert(h, "authorization", &auth);
}

/// A body of `len` bytes in 1 MiB slices of one shared buffer.
fn streamed(len: u64, chunk: Bytes) -> Body {
    let s = futures::stream::unfold(len, move |left| {
        let chunk = chunk.clone();
        async move {
            (left > 0).then(|| {
                let n = left.min(chunk.len() as u64);
                (Ok::<_, std::io::Error>(chunk.slice(..n as usize)), left - n)
            })
        }
    });
    common::http::stream_body(s)
}

/// The SHA-256 of the body `streamed` (or a small one) produces: `size` bytes of `data` repeated.
fn body_sha256(data: &Bytes, size: u64) -> String {
    let mut h = Sha256::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(data.len() as u64) as usize;
        h.update(&data[..n]);
        left -= n as u64;
    }
    hex::encode(h.finalize())
}

/// What one phase measured.
struct Phase {
    ops: u64,
    bytes: u64,
    secs: f64,
    lat: Latencies,
}

impl Phase {
    fn line(&mut self, what: &str, api: Api) -> String {
        format!(
            "{what:<11} {:<22} {:>9.1} ops/s {:>9.1} MB/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            api.name(),
            self.ops as f64 / self.secs,
            self.bytes as f64 / self.secs / 1e6,
            self.lat.percentile(50.0).as_secs_f64() * 1e3,
            self.lat.percentile(99.0).as_secs_f64() * 1e3
        )
    }
}

/// One phase of load: `count` operations of one kind at `concurrency`.
struct Load {
    api: Api,
    put: bool,
    count: u64,
    size: u64,
    concurrency: usize,
    data: Bytes,
    prefix: String,
}

async fn run(t: Arc<Target>, load: Load) -> Result<Phase> {
    let Load { api, put, count, size, concurrency, data, prefix } = load;
    let next = Arc::new(AtomicU64::new(0));
    let sha = Arc::new(body_sha256(&data, size));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (t, next, data, sha, prefix) = (t.clone(), next.clone(), data.clone(), sha.clone(), prefix.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Latencies::default();
            let mut bytes = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>((lat, bytes));
                }
                let path = format!("/{prefix}/o{i}");
                let began = Instant::now();
                let req = if put {
                    // Large bodies stream; hashing them is the client's cost, done once up front.
                    let body = if size as usize <= data.len() {
                        common::http::full(data.slice(..size as usize))
                    } else {
                        streamed(size, data.clone())
                    };
                    let sig = (api == Api::S3Signed).then_some(sha.as_str());
                    t.request(api, Method::PUT, &path, body, size, sig)?
                } else {
                    let sig = (api == Api::S3Signed)
                        .then_some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
                    t.request(api, Method::GET, &path, empty(), 0, sig)?
                };
                let (status, n) = t.send(req).await?;
                if !status.is_success() {
                    bail!("{} {path}: {status}", if put { "PUT" } else { "GET" });
                }
                lat.record(began.elapsed());
                bytes += if put { size } else { n };
            }
        }));
    }
    let mut phase = Phase { ops: count, bytes: 0, secs: 0.0, lat: Latencies::default() };
    for task in tasks {
        let (lat, bytes) = task.await??;
        phase.lat.merge(lat);
        phase.bytes += bytes;
    }
    phase.secs = start.elapsed().as_secs_f64();
    Ok(phase)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let cluster = saio::Cluster::start(saio::ClusterOptions::ephemeral(dir.path())).await.context("start cluster")?;
    let base = cluster.proxy_url();
    let client = HttpClient::new(Duration::from_secs(2));
    let login = Request::get(format!("{base}/auth/v1.0"))
        .header("x-auth-user", "test:tester")
        .header("x-auth-key", "testing")
        .body(empty())?;
    let resp = client.send(login, Duration::from_secs(10)).await?;
    let token = resp.headers().get("x-auth-token").and_then(|v| v.to_str().ok()).context("no token")?.to_string();
    let host = base.trim_start_matches("http://").to_string();
    let t = Arc::new(Target { client, base, host, token, account: "AUTH_test".into() });
    // Small bodies are one buffer; large ones are 1 MiB slices of a shared buffer whose
    // hash stands in for the (client-side) payload hash an SDK computes.
    let small = Bytes::from(vec![b'x'; args.small_size]);
    let large_chunk = Bytes::from((0..1u32 << 20).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let apis = [Api::Swift, Api::S3Unsigned, Api::S3Signed];
    println!(
        "s3_bench: {} x {} B small, {} x {} MiB large, concurrency {}",
        args.small_count,
        args.small_size,
        args.large_count,
        args.large_size >> 20,
        args.concurrency
    );
    // Warm up connections, caches and the account before measuring.
    let req = t.request(Api::Swift, Method::PUT, "/warmup", empty(), 0, None)?;
    t.send(req).await?;
    for api in apis {
        let load = Load {
            api,
            put: true,
            count: 200,
            size: 4096,
            concurrency: args.concurrency,
            data: small.clone(),
            prefix: "warmup".into(),
        };
        run(t.clone(), load).await?;
    }
    let mut results: Vec<(String, Api, f64)> = Vec::new();
    for (label, count, size, data, conc) in [
        ("small", args.small_count, args.small_size as u64, small.clone(), args.concurrency),
        ("large", args.large_count, args.large_size, large_chunk.clone(), 2),
    ] {
        for api in apis {
            let bucket = format!("{label}-{}", api.name().split(' ').next().unwrap_or("x")).replace(['(', ')'], "");
            let bucket = format!("{bucket}{}", if api == Api::S3Signed { "-signed" } else { "" });
            let req = t.request(Api::Swift, Method::PUT, &format!("/{bucket}"), empty(), 0, None)?;
            t.send(req).await?;
            for put in [true, false] {
                let what = format!("{label} {}", if put { "PUT" } else { "GET" });
                let load =
                    Load { api, put, count, size, concurrency: conc, data: data.clone(), prefix: bucket.clone() };
                let mut phase = run(t.clone(), load).await?;
                println!("{}", phase.line(&what, api));
                results.push((what, api, phase.ops as f64 / phase.secs));
            }
        }
    }
    println!("\nS3 / Swift throughput ratio (1.00 = no S3 overhead):");
    for (what, api, rate) in &results {
        if *api == Api::Swift {
            continue;
        }
        let swift = results.iter().find(|(w, a, _)| w == what && *a == Api::Swift).map(|r| r.2).unwrap_or(f64::NAN);
        println!("  {what:<10} {:<22} {:.2}", api.name(), rate / swift);
    }
    cluster.shutdown().await;
    Ok(())
}
