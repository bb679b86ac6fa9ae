//! `account-server`: runs the account server from a TOML config.

use account_server::AccountConfig;
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Swiftlet account server")]
struct Args {
    /// TOML config file (every key has a default).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Overrides `bind_ip`.
    #[arg(long)]
    bind_ip: Option<String>,
    /// Overrides `bind_port`.
    #[arg(long)]
    bind_port: Option<u16>,
    /// Overrides `devices`.
    #[arg(long)]
    devices: Option<PathBuf>,
    /// Turns off mount checks (devices are plain directories).
    #[arg(long)]
    no_mount_check: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::logging::init();
    let args = Args::parse();
    let mut cfg: AccountConfig = common::config::load(args.config.as_deref())?;
    if let Some(ip) = args.bind_ip {
        cfg.bind_ip = ip;
    }
    if let Some(port) = args.bind_port {
        cfg.bind_port = port;
    }
    if let Some(d) = args.devices {
        cfg.devices = d;
    }
    if args.no_mount_check {
        cfg.mount_check = false;
    }
    let listener = tokio::net::TcpListener::bind((cfg.bind_ip.as_str(), cfg.bind_port)).await?;
    tracing::info!(addr = %listener.local_addr()?, "account server listening");
    let shutdown = common::signal::shutdown_on_signal();
    let secret = cfg.hash_path.clone().with_env_overrides();
    account_server::serve(listener, cfg, secret, shutdown).await?;
    Ok(())
}
