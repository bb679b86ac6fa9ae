//! Shared tools for the benchmark binaries: latency percentiles, a process's CPU time and
//! peak memory from /proc, the disk's physical limits measured in the same run (so every
//! result can be printed as a ratio), and the load generator's parts: tempauth login, S3
//! request signing, synthetic object bodies, Swift-or-S3 endpoints, paged listings, reports.

pub mod body;
pub mod endpoint;
pub mod latency;
pub mod limits;
pub mod listing;
pub mod procfs;
pub mod report;
pub mod s3sign;
pub mod tempauth;
