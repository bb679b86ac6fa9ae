//! Sending container updates: [`UpdateSender::send`] delivers one to one container server
//! (the object server's writes and the updater daemon both use it);
//! [`UpdateSender::send_or_queue`] delivers one to every server a write names and queues
//! each failure on the device for the updater.

use super::ContainerUpdate;
use crate::devices::Device;
use crate::transport;
use common::http::{empty, HttpClient};
use std::sync::Arc;
use std::time::Duration;

/// The container servers a write names: `(host:port, device)` pairs and the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateTargets {
    pub nodes: Vec<(String, String)>,
    pub partition: String,
}

#[derive(Clone)]
pub struct UpdateSender {
    client: HttpClient,
    node_timeout: Duration,
}

impl UpdateSender {
    /// `node_timeout` bounds each container server's answer.
    pub fn new(client: HttpClient, node_timeout: Duration) -> Self {
        UpdateSender { client, node_timeout }
    }

    /// Sends `update` to `device` (in `partition`) of the container server at `addr`;
    /// `Err` says why it did not take it.
    pub async fn send(
        &self,
        addr: &str,
        device: &str,
        partition: &str,
        update: &ContainerUpdate,
    ) -> Result<(), String> {
        let (account, container) = update.target_container();
        let path = format!("/{device}/{partition}/{account}/{container}/{}", update.obj);
        let headers = update.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let answer =
            transport::call(&self.client, update.op.as_str(), addr, &path, headers, empty(), self.node_timeout).await?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(format!("{} from {}", answer.status, answer.uri))
        }
    }

    /// Sends `update` to every target at once; a target that fails gets it queued on
    /// `device`. Waits up to `wait`, then lets the rest finish in the background.
    ///
    /// Either way, when this returns the update has been delivered or durably queued, so
    /// the write it describes can be acknowledged: on a timeout it is queued before
    /// returning, and dropped from the queue again if every late send then succeeds.
    pub async fn send_or_queue(
        &self,
        device: &Arc<Device>,
        targets: UpdateTargets,
        update: ContainerUpdate,
        wait: Duration,
    ) {
        let update = Arc::new(update);
        let mut tasks = Vec::new();
        for (host, cdev) in targets.nodes {
            let (me, device, update, partition) =
                (self.clone(), device.clone(), update.clone(), targets.partition.clone());
            tasks.push(tokio::spawn(async move {
                match me.send(&host, &cdev, &partition, &update).await {
                    Ok(()) => true,
                    Err(reason) => {
                        tracing::error!(%host, device = %cdev, %reason, "container update failed (saving for async update later)");
                        queue(&device, &update).await;
                        false
                    }
                }
            }));
        }
        let mut all = Box::pin(futures::future::join_all(tasks));
        if tokio::time::timeout(wait, &mut all).await.is_ok() {
            return;
        }
        tracing::debug!(timeout = ?wait, "container update timeout; queued, finishing in the background");
        let Some(key) = queue(device, &update).await else { return };
        let device = device.clone();
        tokio::spawn(async move {
            let delivered = all.await.iter().all(|sent| matches!(sent, Ok(true)));
            if delivered {
                let db = device.db().clone();
                if let Err(e) = device.pool.run_io(move || db.remove_async_pending(&key)).await {
                    tracing::warn!(error = %e, "delivered update left in the queue (it will be sent again)");
                }
            }
        });
    }
}

/// Saves an update as an async pending for the updater, keyed by object hash and
/// timestamp, on disk when this returns. Returns the key, or `None` if it could not be
/// saved (logged).
pub async fn queue(device: &Arc<Device>, update: &ContainerUpdate) -> Option<String> {
    let timestamp = update.queue_timestamp();
    let hash = device.manager.object_hash(&update.account, &update.container, &update.obj);
    let (db, pending) = (device.db().clone(), update.clone());
    match device.pool.run_io(move || db.enqueue_async_pending(&hash, timestamp, &pending)).await {
        Ok(key) => {
            tracing::info!(%key, "queued async pending container update");
            Some(key)
        }
        Err(e) => {
            tracing::error!(error = %e, "could not queue async pending container update");
            None
        }
    }
}
