//! `object-server`: serves one storage node's devices until SIGINT/SIGTERM.

use clap::Parser;
use object_server::{ObjectServer, ObjectServerConfig};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(about = "Swiftlet object server")]
struct Args {
    /// TOML config file (every key has a default).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:6200 (overrides the config's `bind`).
    #[arg(long)]
    bind: Option<String>,
    /// Devices directory (overrides the config's `devices`).
    #[arg(long)]
    devices: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::logging::init();
    let args = Args::parse();
    let mut config: ObjectServerConfig = common::config::load(args.config.as_deref())?;
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    if let Some(devices) = args.devices {
        config.devices = devices;
    }
    let listener = tokio::net::TcpListener::bind(&config.bind).await?;
    // Tests and scripts read this line to learn the port when binding port 0.
    println!("object-server listening on {}", listener.local_addr()?);
    let shutdown = common::signal::shutdown_on_signal();
    let secret = config.hash_path.clone().with_env_overrides();
    ObjectServer::new(config, secret).serve(listener, shutdown).await?;
    Ok(())
}
