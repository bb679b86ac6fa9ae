//! `proxy-server`: Swiftlet's proxy as a standalone process: the Swift API and the S3 API
//! on one listener (assembled by `swiftlet_s3::front_door`).

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use swiftlet_proxy::{ProxyConfig, Rings};

/// Serve the Swift API v1 and the S3 API, routing requests through the rings to the storage nodes.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// TOML config file (every key has a default).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the config's `bind`).
    #[arg(long)]
    bind: Option<String>,
    /// Directory holding account.ring, container.ring and object.ring (overrides `swift_dir`).
    #[arg(long)]
    swift_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    common::logging::init();
    let args = Args::parse();
    let mut config: ProxyConfig = match common::config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("proxy-server: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(b) = args.bind {
        config.bind = b;
    }
    if let Some(d) = args.swift_dir {
        config.swift_dir = d;
    }
    let rings = match Rings::open(&config.swift_dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("proxy-server: cannot open rings in {}: {e}", config.swift_dir.display());
            return ExitCode::from(2);
        }
    };
    let secrets = match common::secrets::Secrets::load(&config.hash_path, &config.backend) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("proxy-server: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&config.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("proxy-server: cannot bind {}: {e}", config.bind);
            return ExitCode::from(2);
        }
    };
    let door = Arc::new(swiftlet_s3::front_door(config, rings, &secrets));
    let shutdown = common::signal::shutdown_on_signal();
    match door.serve(listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("proxy-server: {e}");
            ExitCode::from(1)
        }
    }
}
