//! DELETE: write a tombstone if the request is newer than what is on disk; then update the
//! container. Answers 204 (deleted), 404 (nothing live; the tombstone is still written when
//! newer, so the delete replicates) or 409 (something newer exists), with X-Backend-Timestamp.

use super::headers;
use super::{AppState, ObjectPath};
use crate::container_update::Update;
use crate::diskfile::metadata::{MetadataExt, CONTENT_TYPE};
use crate::diskfile::ObjectState;
use crate::error::{Error, Result};
use common::http::{text, Body};
use common::Timestamp;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;

struct Deleted {
    status: StatusCode,
    orig_timestamp: Option<Timestamp>,
    orig_delete_at: Option<u64>,
    content_type: String,
    wrote: bool,
}

pub async fn handle(state: Arc<AppState>, req: Request<Incoming>, path: ObjectPath) -> Result<Response<Body>> {
    let h = req.headers();
    let timestamp = headers::required_timestamp(h)?;
    let if_delete_at = match headers::get(h, "x-if-delete-at") {
        None => None,
        Some(v) => {
            Some(v.parse::<Timestamp>().map_err(|_| Error::BadRequest("Bad X-If-Delete-At header value".into()))?)
        }
    };
    let device = state.devices.get(&path.device).await?;
    let df = device.manager.diskfile(path.partition, &path.account, &path.container, &path.obj);
    let dev = device.clone();
    let done = device
        .pool
        .run_io(move || {
            dev.check()?;
            let (mut status, orig_ts, meta) = match df.open(timestamp, false)? {
                ObjectState::Exists(obj) => {
                    let status =
                        if obj.data_timestamp < timestamp { StatusCode::NO_CONTENT } else { StatusCode::CONFLICT };
                    (status, Some(obj.data_timestamp), Some(obj.metadata))
                }
                ObjectState::Expired { timestamp, metadata } => {
                    (StatusCode::NOT_FOUND, Some(timestamp), Some(metadata))
                }
                ObjectState::Deleted { timestamp } => (StatusCode::NOT_FOUND, Some(timestamp), None),
                ObjectState::Missing => (StatusCode::NOT_FOUND, None, None),
            };
            let orig_delete_at = meta.as_ref().and_then(|m| m.delete_at().ok().flatten());
            if let Some(expected) = if_delete_at {
                // The expirer's conditional delete: only the very object it scheduled.
                let Some(orig) = orig_ts else { return Err(Error::NotFound { timestamp: None }) };
                if orig >= timestamp {
                    return Err(Error::Conflict { timestamp: None });
                }
                if orig_delete_at.unwrap_or(0) != expected.secs() {
                    return Err(Error::PreconditionFailed("X-If-Delete-At and X-Delete-At do not match".into()));
                }
                status = StatusCode::NO_CONTENT;
            }
            let wrote = orig_ts.is_none_or(|t| t < timestamp);
            if wrote {
                df.delete_unsynced(timestamp)?;
            }
            let content_type = meta.as_ref().and_then(|m| m.get(CONTENT_TYPE).cloned()).unwrap_or_default();
            Ok(Deleted { status, orig_timestamp: orig_ts, orig_delete_at, content_type, wrote })
        })
        .await?;

    if done.wrote {
        device.sync.wait().await.map_err(Error::from_write)?;
    }
    let names = (path.account.as_str(), path.container.as_str(), path.obj.as_str());
    if let Some(old) = done.orig_delete_at {
        state.updater.delete_at_update(&device, h, "DELETE", old, names, BTreeMap::new()).await;
    }
    if done.wrote {
        let update = Update {
            op: "DELETE",
            account: path.account.clone(),
            container: path.container.clone(),
            obj: path.obj.clone(),
            headers: BTreeMap::from([("x-timestamp".to_string(), timestamp.internal())]),
            container_path: None,
        };
        state.updater.container_update(&device, h, update).await;
    }
    let response_ts = done.orig_timestamp.map_or(timestamp, |t| t.max(timestamp));
    let reason = done.status.canonical_reason().unwrap_or("");
    let mut resp =
        if done.status == StatusCode::NO_CONTENT { text(done.status, "") } else { text(done.status, reason) };
    headers::set(resp.headers_mut(), "x-backend-timestamp", &response_ts.internal());
    headers::set(resp.headers_mut(), "x-backend-content-type", &done.content_type);
    if done.status == StatusCode::NO_CONTENT {
        resp.headers_mut().remove(http::header::CONTENT_LENGTH);
        resp.headers_mut().remove(http::header::CONTENT_TYPE);
    }
    Ok(resp)
}
