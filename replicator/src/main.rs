//! `replicator`: runs one of the background daemons of a storage node.
//!
//! `replicator <object|container|account|auditor|updater|expirer> [--once] [--config FILE]`.
//! It opens the node's devices itself, so it is meant for a node whose servers are stopped
//! (e.g. to repair a node offline): the object daemons cannot open a device DB the object
//! server holds (RocksDB admits one process). On a running node the daemons run inside the
//! storage node's process, as `saio` does. Like the servers, it refuses to run without the
//! cluster's secrets (`[hash_path]` and `[backend]` in its config): its requests are signed.

use clap::Parser;
use replicator::{DaemonConfig, DaemonSet, Kind, Node};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(version, about = "Swiftlet background daemons: replicators, auditor, updater, expirer")]
struct Args {
    /// Which daemon to run.
    #[arg(value_enum)]
    daemon: Kind,
    /// Run one pass, print its report as JSON and exit (non-zero if anything failed).
    #[arg(long)]
    once: bool,
    /// TOML config file (every key has a default).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Whether a pass report counts any failure.
fn failed(report: &serde_json::Value) -> bool {
    ["failures", "failed", "account_updates_failed"].iter().any(|k| report[*k].as_u64().is_some_and(|n| n > 0))
}

#[tokio::main]
async fn main() -> ExitCode {
    common::logging::init();
    let args = Args::parse();
    let config: DaemonConfig = match common::config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("replicator: {e}");
            return ExitCode::from(2);
        }
    };
    let node = match Node::standalone(config) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("replicator: {e}");
            return ExitCode::from(2);
        }
    };
    let set = DaemonSet::new(node);
    let cancel = common::signal::shutdown_on_signal();
    if args.once {
        return match set.run_pass(args.daemon, &cancel).await {
            Ok(report) => {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
                if failed(&report) {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => {
                eprintln!("replicator: {e}");
                ExitCode::from(1)
            }
        };
    }
    set.run_forever(args.daemon, cancel).await;
    ExitCode::SUCCESS
}
