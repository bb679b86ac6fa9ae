//! The step after a PUT, POST or DELETE commits, written once: tell the container servers
//! the proxy named (checked before the write: [`super::targets`]) about the listing row, and
//! add or remove the object's entry in the expirer queue when its `X-Delete-At` changed
//! (`X-Delete-At-Container` names its task container), as Swift's object server does.
//! The client's request waits at most `container_update_timeout` for the updates; slower
//! ones finish, or get queued as async pendings, in the background.
//!
//! This module reads the request's headers; the record, its sender and the queue are the
//! store's ([`swiftlet_object_store::container_update`]).

use super::targets::{ExpirerTargets, WriteTargets};
use super::{AppState, ObjectPath};
use common::headers::{flag, get, is_true};
use common::Timestamp;
use http::HeaderMap;
use std::collections::BTreeMap;
use std::sync::Arc;
use swiftlet_object_store::container_update::{expiring, queue};
use swiftlet_object_store::{ContainerUpdate, Device, UpdateOp};

/// An `X-Delete-At` the object has after the write, with what its expirer row describes.
#[derive(Debug, Clone)]
pub struct Expiry {
    pub at: u64,
    /// The object's size (its Content-Length as stored).
    pub size: String,
    pub data_timestamp: Timestamp,
}

/// What a committed write changed, for the container and the expirer queue.
#[derive(Debug, Default)]
pub struct Committed {
    /// The listing row's update (`None`: nothing changed on disk).
    pub listing: Option<(UpdateOp, BTreeMap<String, String>)>,
    /// The `X-Delete-At` to queue for the expirer.
    pub expires: Option<Expiry>,
    /// The `X-Delete-At` the object had; its queue entry goes unless it is `expires`' too.
    pub expired_before: Option<u64>,
}

/// What a write's updates need of its request: its headers and its checked targets.
pub struct WriteRequest<'a> {
    pub headers: &'a HeaderMap,
    pub targets: WriteTargets,
}

/// Sends a committed write's container update and expirer-queue changes.
pub async fn after_write(
    state: &AppState,
    device: &Arc<Device>,
    req: WriteRequest<'_>,
    path: &ObjectPath,
    done: Committed,
) {
    let names = (path.account.as_str(), path.container.as_str(), path.obj.as_str());
    let new_at = done.expires.as_ref().map(|e| e.at);
    if let Some(e) = done.expires {
        let extra = BTreeMap::from([
            ("x-content-type".to_string(), format!("text/plain;swift_expirer_bytes={}", e.size)),
            ("x-content-type-timestamp".to_string(), e.data_timestamp.internal()),
        ]);
        delete_at_update(state, device, &req, UpdateOp::Put, e.at, names, extra).await;
    }
    if let Some(old) = done.expired_before.filter(|old| Some(*old) != new_at) {
        delete_at_update(state, device, &req, UpdateOp::Delete, old, names, BTreeMap::new()).await;
    }
    if let Some((op, headers)) = done.listing {
        let update = ContainerUpdate {
            op,
            account: path.account.clone(),
            container: path.container.clone(),
            obj: path.obj.clone(),
            headers,
            container_path: None,
        };
        container_update(state, device, req, update).await;
    }
}

/// Container update overrides (`X-Backend-Container-Update-Override-*`, then the preferred
/// `X-Object-Sysmeta-Container-Update-Override-*`) from a request's headers or an object's
/// stored metadata, added to the listing update.
pub fn apply_overrides<'a>(source: impl IntoIterator<Item = (&'a str, String)>, update: &mut BTreeMap<String, String>) {
    let mut preferred = Vec::new();
    for (k, v) in source {
        let k = k.to_ascii_lowercase();
        let field = |prefix: &str| k.strip_prefix(prefix).filter(|r| !r.is_empty()).map(|r| format!("x-{r}"));
        if let Some(field) = field("x-backend-container-update-override-") {
            update.insert(field, v);
        } else if let Some(field) = field("x-object-sysmeta-container-update-override-") {
            preferred.push((field, v));
        }
    }
    update.extend(preferred);
}

/// Sends `update` to the container servers named in `req` (Swift's `container_update`).
async fn container_update(state: &AppState, device: &Arc<Device>, req: WriteRequest<'_>, mut update: ContainerUpdate) {
    let Some(targets) = req.targets.container else { return };
    let h = req.headers;
    update.container_path = get(h, "x-backend-quoted-container-path")
        .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned())
        .or_else(|| get(h, "x-backend-container-path").map(str::to_string))
        .filter(|p| p.split('/').count() == 2 && p.split('/').all(|s| !s.is_empty()));
    add_common_headers(h, &mut update.headers);
    let wait = state.config.container_update_timeout();
    state.updates.send_or_queue(device, targets, update, wait).await;
}

/// Records an `X-Delete-At` change in the expirer queue (Swift's `delete_at_update`).
async fn delete_at_update(
    state: &AppState,
    device: &Arc<Device>,
    req: &WriteRequest<'_>,
    op: UpdateOp,
    delete_at: u64,
    names: (&str, &str, &str),
    extra: BTreeMap<String, String>,
) {
    let (targets, req) = (&req.targets.expirer, req.headers);
    if flag(req, "x-backend-replication") {
        return;
    }
    let mut headers = BTreeMap::new();
    headers.insert("x-timestamp".to_string(), get(req, "x-timestamp").unwrap_or("").to_string());
    add_common_headers(req, &mut headers);
    headers.extend(extra);
    let mut task = expiring::expirer_update(device.manager.secret(), op, delete_at, names, headers);
    if op == UpdateOp::Delete {
        if get(req, "x-backend-clean-expiring-object-queue").is_some_and(|v| !is_true(v)) {
            return;
        }
        // Swift sends these straight to the queue: the expirer knows where they go.
        queue(device, &task).await;
        return;
    }
    if *targets == ExpirerTargets::NotNamed {
        // Another replica's object server was told to record it.
        return;
    }
    if let Some(c) = get(req, "x-delete-at-container").filter(|c| !c.is_empty()) {
        task.container = c.to_string();
    }
    match targets {
        ExpirerTargets::Send(targets) => {
            let wait = state.config.container_update_timeout();
            state.updates.send_or_queue(device, targets.clone(), task, wait).await
        }
        _ => {
            queue(device, &task).await;
        }
    }
}

fn add_common_headers(req: &HeaderMap, headers: &mut BTreeMap<String, String>) {
    headers.insert("x-trans-id".into(), get(req, common::http::TRANS_ID_HEADER).unwrap_or("-").to_string());
    headers.insert("x-backend-storage-policy-index".into(), "0".into());
    headers.insert("user-agent".into(), format!("object-server {}", std::process::id()));
    if let Some(r) = get(req, "referer") {
        headers.insert("referer".into(), r.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_from_headers_or_metadata() {
        let mut update = BTreeMap::new();
        let source = [
            ("X-Object-Sysmeta-Container-Update-Override-Etag", "sys"),
            ("x-backend-container-update-override-etag", "backend"),
            ("x-backend-container-update-override-size", "5"),
            ("x-backend-container-update-override-", "ignored"),
        ];
        apply_overrides(source.map(|(k, v)| (k, v.to_string())), &mut update);
        assert_eq!(update.get("x-etag").map(String::as_str), Some("sys"));
        assert_eq!(update.get("x-size").map(String::as_str), Some("5"));
        assert_eq!(update.len(), 2);
    }
}
