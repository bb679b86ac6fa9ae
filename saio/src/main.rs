//! `saio`: run a whole Swiftlet cluster on 127.0.0.1 until Ctrl-C or SIGTERM.

use clap::Parser;
use saio::{Cluster, ClusterOptions};
use std::path::PathBuf;
use std::process::ExitCode;

// Many small, short-lived allocations per request (headers, paths, futures) on several
// threads: mimalloc's per-thread free lists cost less than glibc's arenas here.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Swiftlet all in one: 4 storage nodes, 3 replicas, and the proxy on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Where rings, the cluster secret and every device's data live.
    #[arg(long, default_value = "./saio-data")]
    data_dir: PathBuf,
    /// Proxy port (Swift API and, later, S3).
    #[arg(long, default_value_t = 8080)]
    proxy_port: u16,
    /// Node i's object/container/account servers listen on base+10i, +1, +2.
    #[arg(long, default_value_t = 6210)]
    node_base_port: u16,
    /// Storage nodes (one device each). Used only when the rings are first built.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Replicas per object. Used only when the rings are first built.
    #[arg(long, default_value_t = 3.0)]
    replicas: f64,
    /// Ring partition power. Used only when the rings are first built.
    #[arg(long, default_value_t = 10)]
    part_power: u8,
    /// Identity (Keystone subset) port; 0 picks a free port.
    #[arg(long, default_value_t = 5000)]
    identity_port: u16,
    /// Image (Glance subset) port; 0 picks a free port.
    #[arg(long, default_value_t = 9292)]
    image_port: u16,
    /// Compute (Nova subset) port; 0 picks a free port.
    #[arg(long, default_value_t = 8774)]
    compute_port: u16,
    /// Do not start the identity, image and compute services.
    #[arg(long)]
    no_cloud: bool,
    /// Do not run the replicators, auditors, updaters and expirer on their intervals
    /// (benchmarks that compare request serving with servers-only clusters).
    #[arg(long)]
    no_daemons: bool,
    /// Serve the proxy over HTTPS (HTTP/2 and HTTP/1.1) with a self-signed certificate
    /// made in <data-dir>/tls; needs --no-cloud.
    #[arg(long)]
    tls: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    common::logging::init();
    let args = Args::parse();
    let mut cloud = saio::cloud::CloudOptions { enabled: !args.no_cloud, ..Default::default() };
    cloud.config.identity_port = args.identity_port;
    cloud.config.image_port = args.image_port;
    cloud.config.compute_port = args.compute_port;
    let opts = ClusterOptions {
        cloud,
        data_dir: args.data_dir,
        nodes: args.nodes,
        replicas: args.replicas,
        part_power: args.part_power,
        proxy_port: args.proxy_port,
        node_base_port: args.node_base_port,
        run_daemons: !args.no_daemons,
        tls: args.tls,
        ..ClusterOptions::default()
    };
    let cluster = match Cluster::start(opts).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("saio: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!(
        "saio ready: proxy {} ({} storage nodes, data in {})",
        cluster.proxy_url(),
        cluster.node_count(),
        cluster.layout.data_dir.display()
    );
    if let Some(cert) = &cluster.tls_cert {
        let cert = cert.display();
        println!(
            "saio TLS: the certificate is self-signed; trust it with AWS_CA_BUNDLE={cert} (AWS SDKs, awscli), \
             SSL_CERT_FILE={cert} or REQUESTS_CA_BUNDLE={cert} (Python), curl --cacert {cert}, \
             NODE_EXTRA_CA_CERTS={cert} (node); kill -HUP reloads it"
        );
    }
    wait_for_signal().await;
    eprintln!("saio: shutting down");
    cluster.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("saio: cannot watch SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
