//! What one `swiftlet-bench` run measured, printed as a table and as one JSON line (the
//! line scripts parse; its keys only ever grow).

use crate::latency::Latencies;
use std::time::Duration;

pub struct Report {
    pub label: String,
    /// `swift` or `s3`.
    pub api: &'static str,
    pub workload: String,
    pub concurrency: usize,
    pub size: u64,
    pub ops: u64,
    pub errors: u64,
    pub bytes: u64,
    pub secs: f64,
    pub lat: Latencies,
    pub cpu_secs: Option<f64>,
    pub peak_rss: Option<u64>,
}

impl Report {
    pub fn json(&mut self) -> serde_json::Value {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        serde_json::json!({
            "label": self.label,
            "api": self.api,
            "workload": self.workload,
            "concurrency": self.concurrency,
            "size": self.size,
            "ops": self.ops,
            "errors": self.errors,
            "secs": self.secs,
            "ops_per_s": self.ops as f64 / self.secs,
            "mb_per_s": self.bytes as f64 / self.secs / 1e6,
            "p50_ms": ms(self.lat.percentile(50.0)),
            "p90_ms": ms(self.lat.percentile(90.0)),
            "p99_ms": ms(self.lat.percentile(99.0)),
            "max_ms": ms(self.lat.percentile(100.0)),
            "server_cpu_s": self.cpu_secs,
            "server_cpu_s_per_1000": self.cpu_secs.map(|c| c * 1000.0 / self.ops.max(1) as f64),
            "server_peak_rss_mib": self.peak_rss.map(|b| b as f64 / 1048576.0),
        })
    }
}

pub fn print_table(j: &serde_json::Value) {
    println!(
        "{:<12} {:>10} {:>6} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>12}",
        "workload", "size", "conc", "ops/s", "MB/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "cpu s/1000"
    );
    let f = |k: &str| j[k].as_f64().unwrap_or(0.0);
    let cpu = j["server_cpu_s_per_1000"].as_f64().map(|c| format!("{c:.3}")).unwrap_or_else(|| "-".into());
    println!(
        "{:<12} {:>10} {:>6} {:>10.1} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>12}",
        j["workload"].as_str().unwrap_or(""),
        j["size"],
        j["concurrency"],
        f("ops_per_s"),
        f("mb_per_s"),
        f("p50_ms"),
        f("p90_ms"),
        f("p99_ms"),
        f("max_ms"),
        j["errors"],
        cpu
    );
}
