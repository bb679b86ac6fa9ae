//! `limits`: the machine's physical ceilings, printed as one JSON line, so comparison
//! scripts can print every result as a fraction of what the hardware can do.

use anyhow::Result;
use clap::Parser;
use std::path::PathBuf;

/// Measure fsynced sequential writes, small-file commits and loopback TCP.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Directory on the disk under test.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Bytes for the sequential write.
    #[arg(long, default_value_t = 1 << 30)]
    write_bytes: u64,
    /// Files for the 4 KiB create+fsync rate.
    #[arg(long, default_value_t = 2000)]
    files: usize,
    /// Bytes over loopback TCP.
    #[arg(long, default_value_t = 4 << 30)]
    tcp_bytes: u64,
    /// Leave the small files in `--dir/.bench-create-fsync-<pid>` (for a caller that goes on
    /// creating files there and deletes the directory at its end).
    #[arg(long)]
    keep_files: bool,
    /// Measure only the sequential write (for a figure taken right beside a workload, since
    /// this VM's disk rate drifts by a third over minutes).
    #[arg(long)]
    write_only: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let dir = args.dir.clone();
    if args.write_only {
        let write =
            tokio::task::spawn_blocking(move || bench::limits::fsync_write_mb_s(&dir, args.write_bytes)).await??;
        println!("{}", serde_json::json!({ "fsync_write_mb_s": write }));
        return Ok(());
    }
    let (write, files) = tokio::task::spawn_blocking(move || -> std::io::Result<(f64, f64)> {
        Ok((
            bench::limits::fsync_write_mb_s(&dir, args.write_bytes)?,
            if args.keep_files {
                bench::limits::create_fsync_files_kept(&dir, 4096, args.files)?
            } else {
                bench::limits::create_fsync_files_per_s(&dir, 4096, args.files)?
            },
        ))
    })
    .await??;
    let tcp = bench::limits::loopback_tcp_mb_s(args.tcp_bytes).await?;
    println!(
        "{}",
        serde_json::json!({"fsync_write_mb_s": write, "create_fsync_4k_per_s": files, "loopback_tcp_mb_s": tcp})
    );
    Ok(())
}
