//! Shared measuring tools for the benchmark binaries: latency percentiles, a process's CPU
//! time and peak memory from /proc, and the disk's physical limits measured in the same run
//! so every result can be printed as a ratio.

pub mod latency;
pub mod limits;
pub mod procfs;
