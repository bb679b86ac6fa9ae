//! The one shape of background work: a [`Daemon`] does one pass with
//! [`run_once`](Daemon::run_once) and returns a report; [`run_pass`] logs that report and
//! writes it as recon JSON; [`run_forever`] repeats passes on an interval until cancelled.
//! Tests and `--once` call `run_pass` (or `run_once`) directly. The replicators, auditor,
//! updater and expirer are daemons, and so is the container server's account-update sender.

use crate::Timestamp;
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A background daemon.
pub trait Daemon: Send + Sync + 'static {
    /// What one pass did (serialized into the recon file).
    type Report: Serialize + std::fmt::Debug + Send + 'static;
    /// Why a whole pass failed.
    type Error: std::fmt::Display + Send + 'static;

    /// The daemon's name, e.g. `object-replicator` (also its recon file's name).
    fn name(&self) -> &'static str;

    /// One full pass over this node's devices. Stops early (with a partial report) when
    /// `cancel` fires. Failures of single items are counted in the report, not returned.
    fn run_once(&self, cancel: &CancellationToken) -> impl Future<Output = Result<Self::Report, Self::Error>> + Send;

    /// Whether a pass found nothing to do: such passes are logged at debug level, so a
    /// daemon that runs every second does not fill the log.
    fn was_idle(&self, _report: &Self::Report) -> bool {
        false
    }
}

/// The recon file of one daemon: its last pass.
#[derive(Debug, Serialize)]
struct Recon<'a, R> {
    daemon: &'a str,
    /// Unix seconds when the last pass started and ended.
    pass_started: f64,
    pass_completed: f64,
    elapsed_secs: f64,
    last_pass: Option<&'a R>,
    error: Option<String>,
}

/// Writes `value` as `<dir>/<name>.json`, atomically (temp file, then rename).
pub fn write_recon<T: Serialize>(dir: &Path, name: &str, value: &T) -> std::io::Result<PathBuf> {
    let text = serde_json::to_vec_pretty(value)?;
    let context = |what: &'static str, path: &Path| {
        let path = path.display().to_string();
        move |e: std::io::Error| std::io::Error::new(e.kind(), format!("{what} {path}: {e}"))
    };
    std::fs::create_dir_all(dir).map_err(context("creating", dir))?;
    let path = dir.join(format!("{name}.json"));
    let tmp = dir.join(format!(".{name}.json.tmp"));
    std::fs::write(&tmp, text).map_err(context("writing", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(context("renaming", &tmp))?;
    Ok(path)
}

/// Runs one pass: logs its report and, with a `recon_dir`, writes it to `<daemon>.json`.
pub async fn run_pass<D: Daemon>(
    daemon: &D,
    recon_dir: Option<&Path>,
    cancel: &CancellationToken,
) -> Result<D::Report, D::Error> {
    let name = daemon.name();
    let started = Timestamp::now();
    let clock = Instant::now();
    tracing::debug!(daemon = name, "pass starting");
    let result = daemon.run_once(cancel).await;
    let elapsed = clock.elapsed().as_secs_f64();
    match &result {
        Ok(report) if daemon.was_idle(report) => {
            tracing::debug!(daemon = name, elapsed_secs = elapsed, ?report, "pass done")
        }
        Ok(report) => tracing::info!(daemon = name, elapsed_secs = elapsed, ?report, "pass done"),
        Err(e) => tracing::error!(daemon = name, elapsed_secs = elapsed, error = %e, "pass failed"),
    }
    if let Some(dir) = recon_dir {
        let recon = Recon {
            daemon: name,
            pass_started: started.as_secs_f64(),
            pass_completed: Timestamp::now().as_secs_f64(),
            elapsed_secs: elapsed,
            last_pass: result.as_ref().ok(),
            error: result.as_ref().err().map(|e| e.to_string()),
        };
        let dir = dir.to_path_buf();
        let written = match serde_json::to_value(&recon) {
            Ok(v) => tokio::task::spawn_blocking(move || write_recon(&dir, name, &v))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e))),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = written {
            tracing::warn!(daemon = name, error = %e, "could not write recon file");
        }
    }
    result
}

/// Runs passes until `cancel` fires: one at once, then one every `interval` (measured
/// start to start; a pass longer than the interval is followed by a short rest).
pub async fn run_forever<D: Daemon>(
    daemon: &D,
    interval: Duration,
    recon_dir: Option<PathBuf>,
    cancel: CancellationToken,
) {
    let rest = (interval / 10).max(Duration::from_millis(100));
    while !cancel.is_cancelled() {
        let started = Instant::now();
        // Errors were logged (and recorded) by run_pass; the next pass tries again.
        let _ = run_pass(daemon, recon_dir.as_deref(), &cancel).await;
        let wait = interval.saturating_sub(started.elapsed()).max(rest);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Counter(AtomicU32);

    #[derive(Debug, Serialize)]
    struct CountReport {
        pass: u32,
    }

    impl Daemon for Counter {
        type Report = CountReport;
        type Error = String;
        fn name(&self) -> &'static str {
            "counter"
        }
        async fn run_once(&self, _cancel: &CancellationToken) -> Result<CountReport, String> {
            let pass = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            if pass == 2 {
                return Err("second pass fails".into());
            }
            Ok(CountReport { pass })
        }
    }

    #[tokio::test]
    async fn passes_write_recon_and_repeat_until_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let d = Counter(AtomicU32::new(0));
        let cancel = CancellationToken::new();
        assert_eq!(run_pass(&d, Some(dir.path()), &cancel).await.unwrap().pass, 1);
        let recon: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("counter.json")).unwrap()).unwrap();
        assert_eq!(recon["daemon"], "counter");
        assert_eq!(recon["last_pass"]["pass"], 1);
        assert!(recon["pass_completed"].as_f64().unwrap() >= recon["pass_started"].as_f64().unwrap());
        assert!(run_pass(&d, Some(dir.path()), &cancel).await.is_err());
        let recon: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("counter.json")).unwrap()).unwrap();
        assert_eq!(recon["error"], "second pass fails");
        assert!(recon["last_pass"].is_null());

        let stop = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(350)).await;
            stop.cancel();
        });
        run_forever(&d, Duration::from_millis(100), None, cancel).await;
        let passes = d.0.load(Ordering::SeqCst);
        assert!((4..=7).contains(&passes), "{passes} passes");
    }
}
