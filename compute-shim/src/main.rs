//! `compute-shim`: the identity (port 5000), image (9292) and compute (8774) services in one
//! process, in front of a running Swiftlet proxy.

use clap::Parser;
use compute_shim::{Listeners, ShimConfig};
use std::path::PathBuf;
use std::process::ExitCode;

/// Serve a Keystone v3, Glance v2 and Nova subset over the object store.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// TOML config (every key optional; see compute-shim/src/config.rs).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the databases, image cache and server consoles live.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// The proxy's base URL (image store, object-store endpoint).
    #[arg(long)]
    proxy_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    common::logging::init();
    let args = Args::parse();
    let mut cfg: ShimConfig = match common::config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("compute-shim: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(d) = args.state_dir {
        cfg.state_dir = d;
    }
    if let Some(u) = args.proxy_url {
        cfg.proxy_url = u;
    }
    // The proxy must validate these tokens: both hold the cluster's token key.
    if let Err(e) = cfg.token.load_key() {
        eprintln!("compute-shim: {e}");
        return ExitCode::from(1);
    }
    let listeners = match Listeners::bind(&cfg).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("compute-shim: binding: {e}");
            return ExitCode::from(2);
        }
    };
    let cloud = match compute_shim::start(cfg, listeners).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("compute-shim: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "compute-shim ready: identity {}/v3, image {}, compute {}/v2.1",
        cloud.endpoints.identity, cloud.endpoints.image, cloud.endpoints.compute
    );
    common::signal::shutdown_on_signal().cancelled().await;
    cloud.shutdown().await;
    ExitCode::SUCCESS
}
