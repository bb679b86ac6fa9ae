//! The machine's physical limits, measured in the same run as the thing they bound.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Sequential write of `total` bytes in 1 MiB blocks, then fsync: MB/s (10^6 bytes).
pub fn fsync_write_mb_s(dir: &Path, total: u64) -> std::io::Result<f64> {
    let path = dir.join(".bench-seq-write");
    let block = vec![0x5au8; 1 << 20];
    let start = Instant::now();
    let mut f = File::create(&path)?;
    let mut written = 0;
    while written < total {
        f.write_all(&block)?;
        written += block.len() as u64;
    }
    f.sync_all()?;
    let secs = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(written as f64 / secs / 1e6)
}

/// Files of `size` bytes created, written and fsynced one after another: files/s.
pub fn create_fsync_files_per_s(dir: &Path, size: usize, count: usize) -> std::io::Result<f64> {
    create_fsync_files_in(tempfile::tempdir_in(dir)?.path(), size, count)
}

/// As [`create_fsync_files_per_s`], leaving the files behind: a benchmark that creates files
/// next keeps them until it ends, because on ext4 without a journal new inodes skip
/// over recently deleted ones, a scan that slowed file creation for a minute or more here.
pub fn create_fsync_files_kept(dir: &Path, size: usize, count: usize) -> std::io::Result<f64> {
    let sub = dir.join(format!(".bench-create-fsync-{}", std::process::id()));
    std::fs::create_dir_all(&sub)?;
    create_fsync_files_in(&sub, size, count)
}

fn create_fsync_files_in(sub: &Path, size: usize, count: usize) -> std::io::Result<f64> {
    let body = vec![0xa5u8; size];
    let start = Instant::now();
    for i in 0..count {
        let mut f = File::create(sub.join(i.to_string()))?;
        f.write_all(&body)?;
        f.sync_all()?;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// One TCP stream over loopback carrying `total` bytes in 1 MiB writes: MB/s.
pub async fn loopback_tcp_mb_s(total: u64) -> std::io::Result<f64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let reader = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        let mut buf = vec![0u8; 1 << 20];
        let mut got = 0u64;
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok::<u64, std::io::Error>(got);
            }
            got += n as u64;
        }
    });
    let block = vec![0x3cu8; 1 << 20];
    let start = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let mut sent = 0;
    while sent < total {
        s.write_all(&block).await?;
        sent += block.len() as u64;
    }
    s.shutdown().await?;
    drop(s);
    let got = reader.await.map_err(std::io::Error::other)??;
    Ok(got as f64 / start.elapsed().as_secs_f64() / 1e6)
}
