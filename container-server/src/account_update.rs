//! Reporting container stats to the account servers, and retrying what failed.
//!
//! A container PUT or DELETE carries the proxy's `X-Account-Host/-Device/-Partition`
//! (comma lists, one entry per account replica this container replica reports to). The
//! update is sent at once, as Swift's container server does: `PUT /<dev>/<part>/<a>/<c>`
//! with `X-Put-Timestamp`, `X-Delete-Timestamp`, `X-Object-Count`, `X-Bytes-Used`. Those
//! targets are also saved in the container DB, so later stats changes (object rows) can be
//! reported to the same account servers.
//!
//! What is not yet delivered is queued durably in a per-device SQLite table,
//! `<device>/account_updates.db`, one row per (container, account target). Why SQLite: it
//! is already linked and fsyncs transactionally, an upsert coalesces any number of changes
//! of one container into one row (Swift's async-pending files would be one file, and one
//! fsync, per change), and `run_pending_updates` reads only the due rows through an index
//! instead of walking directories. A queue row names the container DB, not the stats: the
//! stats are read from the DB when sent, so a retry always reports the newest state.
//!
//! Coalescing: a container enters the queue once (an in-memory set remembers it is
//! queued); each stats change bumps the row's `seq`, and a send removes the row only if
//! `seq` is unchanged, so a change that races with a send is never lost.

use common::http::{empty, HttpClient};
use http::{HeaderMap, Request};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swiftlet_broker::{DbInfo, DbLocation, Store};

use crate::error::{ContainerError, Result};

/// Path characters left unescaped (as Swift's `quote` does).
const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// One account server replica to report to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountTarget {
    /// `ip:port`
    pub host: String,
    pub device: String,
    pub partition: u32,
}

/// Parses the proxy's `X-Account-Host`, `X-Account-Device`, `X-Account-Partition`.
pub fn parse_targets(headers: &HeaderMap) -> Result<Vec<AccountTarget>> {
    let get = |n: &str| {
        swiftlet_broker::headers::header_utf8(headers, n)
            .map(|v| v.unwrap_or("").to_string())
            .map_err(ContainerError::BadRequest)
    };
    let (hosts, devices, partition) = (get("x-account-host")?, get("x-account-device")?, get("x-account-partition")?);
    if partition.trim().is_empty() {
        return Ok(Vec::new());
    }
    let partition: u32 =
        partition.trim().parse().map_err(|_| ContainerError::BadRequest("Invalid X-Account-Partition".into()))?;
    let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
    let devices: Vec<&str> = devices.split(',').map(str::trim).collect();
    if hosts.len() != devices.len() {
        return Err(ContainerError::BadRequest("different numbers of account hosts and devices".into()));
    }
    hosts
        .iter()
        .zip(&devices)
        .map(|(h, d)| {
            if !valid_host(h) || common::path::validate_device(d).is_err() {
                return Err(ContainerError::BadRequest(format!("Invalid account host/device {h:?} {d:?}")));
            }
            Ok(AccountTarget { host: h.to_string(), device: d.to_string(), partition })
        })
        .collect()
}

/// `ip:port` with a numeric port.
fn valid_host(h: &str) -> bool {
    matches!(h.rsplit_once(':'), Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok())
}

/// What one immediate report achieved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendOutcome {
    pub sent: usize,
    pub not_found: usize,
    pub failed: usize,
}

/// What one `run_pending_updates` pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UpdateReport {
    pub attempted: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Entries dropped because their container DB is gone.
    pub dropped: usize,
}

pub struct AccountUpdater {
    store: Arc<Store>,
    client: HttpClient,
    node_timeout: Duration,
    queues: Mutex<HashMap<String, Arc<Mutex<Connection>>>>,
    queued: Mutex<HashSet<(String, String)>>,
}

/// The server's periodic send of due queued updates, as a daemon.
pub struct AccountUpdateDaemon(pub Arc<AccountUpdater>);

impl common::daemon::Daemon for AccountUpdateDaemon {
    type Report = UpdateReport;
    type Error = ContainerError;

    fn name(&self) -> &'static str {
        "container-account-updates"
    }

    async fn run_once(&self, _cancel: &tokio_util::sync::CancellationToken) -> Result<UpdateReport> {
        self.0.run_pending_updates().await
    }

    fn was_idle(&self, report: &UpdateReport) -> bool {
        report.attempted == 0
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_secs() -> i64 {
    common::Timestamp::now().secs() as i64
}

fn queue_err(e: rusqlite::Error) -> swiftlet_broker::BrokerError {
    swiftlet_broker::BrokerError::Failed(format!("account update queue: {e}"))
}

/// A queued update as stored.
struct Pending {
    partition: u32,
    hash: String,
    target: AccountTarget,
    attempts: i64,
    seq: i64,
}

impl AccountUpdater {
    /// `client` signs its requests with the backend key (account servers refuse others).
    pub fn new(store: Arc<Store>, client: HttpClient, node_timeout: Duration) -> Arc<Self> {
        Arc::new(AccountUpdater { store, client, node_timeout, queues: Mutex::default(), queued: Mutex::default() })
    }

    fn queue_path(&self, device: &str) -> PathBuf {
        self.store.config().devices.join(device).join("account_updates.db")
    }

    /// The device's queue connection (blocking; call on the device pool).
    fn queue(&self, device: &str) -> swiftlet_broker::Result<Arc<Mutex<Connection>>> {
        if let Some(q) = lock(&self.queues).get(device) {
            return Ok(q.clone());
        }
        let conn = Connection::open(self.queue_path(device)).map_err(queue_err)?;
        conn.busy_timeout(Duration::from_secs(25)).map_err(queue_err)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(queue_err)?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS pending (
                 hash TEXT NOT NULL, partition INTEGER NOT NULL,
                 host TEXT NOT NULL, device TEXT NOT NULL, account_partition INTEGER NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL DEFAULT 0,
                 seq INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
                 PRIMARY KEY (hash, host, device));
             CREATE INDEX IF NOT EXISTS ix_pending_due ON pending (next_attempt);",
        )
        .map_err(queue_err)?;
        let q = Arc::new(Mutex::new(conn));
        lock(&self.queues).insert(device.to_string(), q.clone());
        Ok(q)
    }

    /// Queues (or re-arms) updates of the container at `loc` for `targets`, due after `delay` s.
    async fn enqueue(
        self: &Arc<Self>,
        loc: &DbLocation,
        targets: &[AccountTarget],
        delay: i64,
        error: &str,
    ) -> Result<()> {
        let (this, loc2, targets, error) = (self.clone(), loc.clone(), targets.to_vec(), error.to_string());
        self.store
            .run(&loc.device, move || {
                let q = this.queue(&loc2.device)?;
                let mut conn = lock(&q);
                let tx = conn.transaction().map_err(queue_err)?;
                for t in &targets {
                    tx.execute(
                        "INSERT INTO pending (hash, partition, host, device, account_partition, next_attempt, last_error)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT(hash, host, device) DO UPDATE SET seq = seq + 1,
                             account_partition = ?5, next_attempt = min(next_attempt, ?6), last_error = ?7",
                        params![loc2.hash, loc2.partition, t.host, t.device, t.partition, now_secs() + delay, error],
                    )
                    .map_err(queue_err)?;
                }
                tx.commit().map_err(queue_err)
            })
            .await?;
        Ok(())
    }

    /// Sends the container's current stats to every target now; what fails is queued.
    pub async fn send_now(
        self: &Arc<Self>,
        loc: &DbLocation,
        info: &DbInfo,
        targets: &[AccountTarget],
        trans_id: &str,
        override_deleted: bool,
    ) -> Result<SendOutcome> {
        let mut out = SendOutcome::default();
        let sends = targets.iter().map(|t| self.send(t, info, trans_id, override_deleted));
        let results = futures::future::join_all(sends).await;
        let mut retry = Vec::new();
        for (t, r) in targets.iter().zip(results) {
            match r {
                Ok(s) if s.is_success() => out.sent += 1,
                Ok(s) if s == http::StatusCode::NOT_FOUND => out.not_found += 1,
                other => {
                    let why = match other {
                        Ok(s) => format!("status {s}"),
                        Err(e) => e,
                    };
                    tracing::error!(host = %t.host, device = %t.device, error = %why, "account update failed (will retry later)");
                    out.failed += 1;
                    retry.push(t.clone());
                }
            }
        }
        if !retry.is_empty() {
            self.enqueue(loc, &retry, 1, "send failed").await?;
            lock(&self.queued).insert((loc.device.clone(), loc.hash.clone()));
        } else if out.sent > 0 {
            let i = info.clone();
            self.store
                .write(loc, move |db| {
                    db.set_reported(i.put_timestamp, i.delete_timestamp, i.object_count, i.bytes_used)
                })
                .await?;
        }
        Ok(out)
    }

    async fn send(
        &self,
        t: &AccountTarget,
        info: &DbInfo,
        trans_id: &str,
        override_deleted: bool,
    ) -> Result<http::StatusCode, String> {
        let container = info.container.as_deref().unwrap_or("");
        let path = format!("/{}/{}/{}/{}", t.device, t.partition, info.account, container);
        let uri = format!("http://{}{}", t.host, utf8_percent_encode(&path, PATH));
        let mut req = Request::put(uri)
            .header("x-put-timestamp", info.put_timestamp.internal())
            .header("x-delete-timestamp", info.delete_timestamp.internal())
            .header("x-object-count", info.object_count)
            .header("x-bytes-used", info.bytes_used)
            .header("x-trans-id", trans_id)
            .header("x-backend-storage-policy-index", info.storage_policy_index)
            .header("user-agent", format!("container-server {}", std::process::id()));
        if override_deleted {
            req = req.header("x-account-override-deleted", "yes");
        }
        let req = req.body(empty()).map_err(|e| e.to_string())?;
        let resp = self.client.send(req, self.node_timeout).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        // Drain the body so the connection goes back to the pool.
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
        Ok(status)
    }

    /// Object rows changed the container's stats: make sure an update is queued (once).
    pub async fn note_changed(self: &Arc<Self>, loc: &DbLocation) -> Result<()> {
        let key = (loc.device.clone(), loc.hash.clone());
        if lock(&self.queued).contains(&key) {
            return Ok(());
        }
        let targets = self.store.read(loc, |db| db.account_targets()).await?;
        let targets: Vec<AccountTarget> = serde_json::from_str(&targets).unwrap_or_default();
        if targets.is_empty() {
            return Ok(());
        }
        self.enqueue(loc, &targets, 0, "").await?;
        lock(&self.queued).insert(key);
        Ok(())
    }

    /// Sends every due queued update, on every device. Called periodically by the server
    /// (`account_update_interval`) and by the updater daemon.
    pub async fn run_pending_updates(self: &Arc<Self>) -> Result<UpdateReport> {
        let devices = self.store.config().devices.clone();
        let names: Vec<String> = tokio::task::spawn_blocking(move || {
            std::fs::read_dir(&devices)
                .map(|it| it.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default()
        })
        .await
        .unwrap_or_default();
        let mut report = UpdateReport::default();
        for dev in names {
            if common::path::validate_device(&dev).is_err() {
                continue;
            }
            match self.run_device(&dev, &mut report).await {
                Ok(()) => {}
                Err(ContainerError::Broker(swiftlet_broker::BrokerError::Unmounted(_))) => {}
                Err(e) => tracing::warn!(device = %dev, error = %e, "pending account updates failed"),
            }
        }
        Ok(report)
    }

    async fn run_device(self: &Arc<Self>, dev: &str, report: &mut UpdateReport) -> Result<()> {
        let path = self.queue_path(dev);
        let this = self.clone();
        let d = dev.to_string();
        let due: Vec<Pending> = self
            .store
            .run(dev, move || {
                if !path.is_file() {
                    return Ok(Vec::new());
                }
                let q = this.queue(&d)?;
                let conn = lock(&q);
                let mut stmt = conn
                    .prepare(
                        "SELECT partition, hash, host, device, account_partition, attempts, seq FROM pending
                         WHERE next_attempt <= ?1 ORDER BY next_attempt LIMIT 1000",
                    )
                    .map_err(queue_err)?;
                let rows = stmt
                    .query_map([now_secs()], |r| {
                        Ok(Pending {
                            partition: r.get(0)?,
                            hash: r.get(1)?,
                            target: AccountTarget { host: r.get(2)?, device: r.get(3)?, partition: r.get(4)? },
                            attempts: r.get(5)?,
                            seq: r.get(6)?,
                        })
                    })
                    .and_then(|m| m.collect())
                    .map_err(queue_err)?;
                Ok(rows)
            })
            .await?;
        for p in due {
            report.attempted += 1;
            let loc = DbLocation { device: dev.to_string(), partition: p.partition, hash: p.hash.clone() };
            // Forget "queued" first: a change from now on re-arms the row (bumps seq).
            lock(&self.queued).remove(&(loc.device.clone(), loc.hash.clone()));
            let outcome = match self.store.info(&loc).await {
                Err(swiftlet_broker::BrokerError::NotFound(_)) => None,
                Err(e) => Some(Err(e.to_string())),
                Ok(info) => Some(self.send(&p.target, &info, "-", false).await.map(|s| (s, info))),
            };
            let this = self.clone();
            let d = dev.to_string();
            let (hash, host, device) = (p.hash.clone(), p.target.host.clone(), p.target.device.clone());
            let (seq, attempts) = (p.seq, p.attempts);
            let done = match &outcome {
                None => {
                    report.dropped += 1;
                    true
                }
                Some(Ok((s, _))) if s.is_success() || *s == http::StatusCode::NOT_FOUND => {
                    report.succeeded += 1;
                    true
                }
                Some(_) => {
                    report.failed += 1;
                    false
                }
            };
            let error = match &outcome {
                Some(Ok((s, _))) => format!("status {s}"),
                Some(Err(e)) => e.clone(),
                None => String::new(),
            };
            self.store
                .run(dev, move || {
                    let q = this.queue(&d)?;
                    let conn = lock(&q);
                    if done {
                        conn.execute(
                            "DELETE FROM pending WHERE hash = ?1 AND host = ?2 AND device = ?3 AND seq = ?4",
                            params![hash, host, device, seq],
                        )
                    } else {
                        let backoff = (1i64 << attempts.clamp(0, 8)).min(300);
                        conn.execute(
                            "UPDATE pending SET attempts = attempts + 1, next_attempt = ?4, last_error = ?5
                             WHERE hash = ?1 AND host = ?2 AND device = ?3",
                            params![hash, host, device, now_secs() + backoff, error],
                        )
                    }
                    .map_err(queue_err)?;
                    Ok(())
                })
                .await?;
            if let Some(Ok((s, info))) = outcome {
                if s.is_success() {
                    self.store
                        .write(&loc, move |db| {
                            db.set_reported(
                                info.put_timestamp,
                                info.delete_timestamp,
                                info.object_count,
                                info.bytes_used,
                            )
                        })
                        .await?;
                }
            }
        }
        Ok(())
    }
}
