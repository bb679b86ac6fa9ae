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
    let sub = tempfile::tempdir_in(dir)?;
    let body = vec![0xa5u8; size];
    let start = Instant::now();
    for i in 0..count {
        let mut f = File::create(sub.path().join(i.to_string()))?;
        f.write_all(&body)?;
        f.sync_all()?;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}
