//! Container updates: after a PUT, POST or DELETE commits, tell the container server(s)
//! named by the proxy (`X-Container-Host`/`-Device`, comma-separated, and
//! `X-Container-Partition`) about the new listing row, exactly as Swift's object server does:
//! `PUT|DELETE /<cdev>/<cpart>/<a>/<c>/<o>` with `X-Timestamp`, `X-Size`, `X-Content-Type`,
//! `X-Etag`, `X-Trans-Id`. A failed update is queued as an async pending in the device DB
//! for the updater. The client's request waits at most `container_update_timeout` for the
//! updates; slower ones finish (or get queued) in the background.
//!
//! `X-Delete-At` changes are recorded the same way in the `.expiring_objects` account for
//! the expirer (the proxy names the hosts in `X-Delete-At-Host`/`-Device`/`-Partition`/
//! `-Container`).

use crate::devicedb::AsyncPending;
use crate::devices::Device;
use common::http::{empty, HttpClient};
use common::{HashPathSecret, Timestamp};
use http::HeaderMap;
use http_body_util::BodyExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Characters escaped in request paths ('/' stays).
const PATH: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

pub const EXPIRING_OBJECTS_ACCOUNT: &str = ".expiring_objects";
const EXPIRER_DIVISOR: u64 = 86400;
const EXPIRER_TASK_CONTAINERS: u128 = 100;
const EMPTY_ETAG: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// Percent-encodes a path for a request line.
pub fn quote_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// The expirer task container for an object expiring at `delete_at` (a day bucket, shifted
/// by the object's hash so one day's tasks spread over 100 containers, as in Swift).
pub fn expirer_container(secret: &HashPathSecret, delete_at: u64, account: &str, container: &str, obj: &str) -> String {
    let shard = (secret.hash(account, Some(container), Some(obj)) % EXPIRER_TASK_CONTAINERS) as u64;
    format!("{:010}", (delete_at / EXPIRER_DIVISOR * EXPIRER_DIVISOR).saturating_sub(shard))
}

/// The expirer's task object name: `<delete_at>-<a>/<c>/<o>`.
pub fn expirer_task_name(delete_at: u64, account: &str, container: &str, obj: &str) -> String {
    format!("{delete_at:010}-{account}/{container}/{obj}")
}

/// Sends container updates and queues the failures.
#[derive(Clone)]
pub struct Updater {
    client: HttpClient,
    node_timeout: Duration,
    wait: Duration,
}

/// One update to send: the operation, the object it is about, and the update's headers.
#[derive(Debug, Clone)]
pub struct Update {
    pub op: &'static str,
    pub account: String,
    pub container: String,
    pub obj: String,
    pub headers: BTreeMap<String, String>,
    pub container_path: Option<String>,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().to_string()).collect()
}

/// `(host, device)` pairs from the `<prefix>-Host`/`-Device` headers plus the partition;
/// empty when the request names no (valid) targets.
fn targets(h: &HeaderMap, prefix: &str) -> (Vec<(String, String)>, Option<String>) {
    let hosts = split_list(header(h, &format!("{prefix}-host")).unwrap_or(""));
    let devices = split_list(header(h, &format!("{prefix}-device")).unwrap_or(""));
    let partition = header(h, &format!("{prefix}-partition")).filter(|p| !p.is_empty()).map(str::to_string);
    if hosts.len() != devices.len() {
        tracing::error!(?hosts, ?devices, "container update failed: different numbers of hosts and devices");
        return (vec![], None);
    }
    let pairs = hosts.into_iter().zip(devices).filter(|(h, d)| !h.is_empty() && !d.is_empty()).collect();
    (pairs, partition)
}

impl Updater {
    pub fn new(conn_timeout: Duration, node_timeout: Duration, wait: Duration) -> Self {
        Updater { client: HttpClient::new(conn_timeout), node_timeout, wait }
    }

    /// Sends `update` to the container servers named in `req` (Swift's `container_update`).
    pub async fn container_update(&self, device: &Arc<Device>, req: &HeaderMap, mut update: Update) {
        let (pairs, partition) = targets(req, "x-container");
        let Some(partition) = partition else { return };
        update.container_path = header(req, "x-backend-quoted-container-path")
            .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned())
            .or_else(|| header(req, "x-backend-container-path").map(str::to_string))
            .filter(|p| p.split('/').count() == 2 && p.split('/').all(|s| !s.is_empty()));
        self.add_common_headers(req, &mut update.headers);
        self.send_all(device, pairs, partition, update).await;
    }

    /// Records an `X-Delete-At` change in the expirer queue (Swift's `delete_at_update`).
    pub async fn delete_at_update(
        &self,
        device: &Arc<Device>,
        req: &HeaderMap,
        op: &'static str,
        delete_at: u64,
        (account, container, obj): (&str, &str, &str),
        extra: BTreeMap<String, String>,
    ) {
        if header(req, "x-backend-replication").is_some_and(is_true) {
            return;
        }
        let secret = device.manager.secret();
        let mut headers = BTreeMap::new();
        headers.insert("x-timestamp".to_string(), header(req, "x-timestamp").unwrap_or("").to_string());
        self.add_common_headers(req, &mut headers);
        let mut task = Update {
            op,
            account: EXPIRING_OBJECTS_ACCOUNT.into(),
            container: expirer_container(secret, delete_at, account, container, obj),
            obj: expirer_task_name(delete_at, account, container, obj),
            headers,
            container_path: None,
        };
        if op == "DELETE" {
            if header(req, "x-backend-clean-expiring-object-queue").is_some_and(|v| !is_true(v)) {
                return;
            }
            // Swift sends these straight to the queue: the expirer knows where they go.
            self.queue(device, &task).await;
            return;
        }
        if header(req, "x-delete-at-host").is_none() {
            // Another replica's object server was told to record it.
            return;
        }
        if let Some(c) = header(req, "x-delete-at-container").filter(|c| !c.is_empty()) {
            task.container = c.to_string();
        }
        task.headers.insert("x-size".into(), "0".into());
        task.headers.insert("x-etag".into(), EMPTY_ETAG.into());
        task.headers.extend(extra);
        let (pairs, partition) = targets(req, "x-delete-at");
        match partition {
            Some(partition) if !pairs.is_empty() => self.send_all(device, pairs, partition, task).await,
            _ => self.queue(device, &task).await,
        }
    }

    fn add_common_headers(&self, req: &HeaderMap, headers: &mut BTreeMap<String, String>) {
        headers.insert("x-trans-id".into(), header(req, common::http::TRANS_ID_HEADER).unwrap_or("-").to_string());
        headers.insert("x-backend-storage-policy-index".into(), "0".into());
        headers.insert("user-agent".into(), format!("object-server {}", std::process::id()));
        if let Some(r) = header(req, "referer") {
            headers.insert("referer".into(), r.to_string());
        }
    }

    /// Sends to every target at once; waits up to the update timeout, then lets the rest
    /// finish in the background.
    async fn send_all(&self, device: &Arc<Device>, pairs: Vec<(String, String)>, partition: String, update: Update) {
        let update = Arc::new(update);
        let mut tasks = Vec::new();
        for (host, cdev) in pairs {
            let (me, device, update, partition) = (self.clone(), device.clone(), update.clone(), partition.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(reason) = me.send_one(&host, &cdev, &partition, &update).await {
                    tracing::error!(%host, device = %cdev, %reason, "container update failed (saving for async update later)");
                    me.queue(&device, &update).await;
                }
            }));
        }
        let all = futures::future::join_all(tasks);
        if tokio::time::timeout(self.wait, all).await.is_err() {
            tracing::debug!(timeout = ?self.wait, "container update timeout; finishing in the background");
        }
    }

    async fn send_one(&self, host: &str, cdev: &str, partition: &str, update: &Update) -> Result<(), String> {
        let path = match &update.container_path {
            Some(cp) => format!("/{cp}/{}", update.obj),
            None => format!("/{}/{}/{}", update.account, update.container, update.obj),
        };
        let uri = format!("http://{host}/{}/{partition}{}", quote_path(cdev), quote_path(&path));
        let mut builder = http::Request::builder().method(update.op).uri(&uri);
        for (k, v) in &update.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let req = builder.body(empty()).map_err(|e| format!("bad update request {uri}: {e}"))?;
        let resp = self.client.send(req, self.node_timeout).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        // Drain the body so the connection can be reused.
        let _ = tokio::time::timeout(self.node_timeout, resp.into_body().collect()).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{status} response from {host}/{cdev}"))
        }
    }

    /// Saves an update for the updater, keyed by object hash and timestamp.
    async fn queue(&self, device: &Arc<Device>, update: &Update) {
        let ts_text = update.headers.get("x-meta-timestamp").or_else(|| update.headers.get("x-timestamp"));
        let timestamp: Timestamp = ts_text.and_then(|t| t.parse().ok()).unwrap_or_else(Timestamp::now);
        let hash = device.manager.object_hash(&update.account, &update.container, &update.obj);
        let pending = AsyncPending {
            op: update.op.to_string(),
            account: update.account.clone(),
            container: update.container.clone(),
            obj: update.obj.clone(),
            headers: update.headers.clone(),
            container_path: update.container_path.clone(),
        };
        let db = device.db().clone();
        match device.pool.run_io(move || db.enqueue_async_pending(&hash, timestamp, &pending)).await {
            Ok(key) => tracing::info!(%key, "queued async pending container update"),
            Err(e) => tracing::error!(error = %e, "could not queue async pending container update"),
        }
    }
}

/// Swift's `config_true_value`.
pub fn is_true(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on" | "t" | "y")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets_like_swift() {
        let mut h = HeaderMap::new();
        h.insert("x-container-host", "10.0.0.1:6201, 10.0.0.2:6201".parse().unwrap());
        h.insert("x-container-device", "sda,sdb".parse().unwrap());
        h.insert("x-container-partition", "7".parse().unwrap());
        let (pairs, part) = targets(&h, "x-container");
        assert_eq!(pairs, vec![("10.0.0.1:6201".into(), "sda".into()), ("10.0.0.2:6201".into(), "sdb".into())]);
        assert_eq!(part.as_deref(), Some("7"));
        h.insert("x-container-device", "sda".parse().unwrap());
        assert!(targets(&h, "x-container").0.is_empty());
        assert_eq!(quote_path("/a/c/o w?#%"), "/a/c/o%20w%3F%23%25");
        let s = HashPathSecret::default();
        let c = expirer_container(&s, 1_700_050_000, "a", "c", "o");
        let v: u64 = c.parse().unwrap();
        let day = 1_700_050_000 / 86400 * 86400;
        assert!(v <= day && v > day - 100, "{c}");
        assert_eq!(expirer_task_name(5, "a", "c", "o/x"), "0000000005-a/c/o/x");
        assert!(is_true("True") && !is_true("no"));
    }
}
