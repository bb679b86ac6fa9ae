//! DELETE: write a tombstone if the request is newer than what is on disk; then update the
//! container. Answers 204 (deleted), 404 (nothing live; the tombstone is still written when
//! newer, so the delete replicates) or 409 (something newer exists), with X-Backend-Timestamp.

use super::after_write::{after_write, Committed, WriteRequest};
use super::headers;
use super::targets;
use super::{AppState, ObjectPath};
use crate::error::{Error, Result};
use common::headers::{get, set};
use common::http::{text, Body};
use common::Timestamp;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;
use swiftlet_object_store::diskfile::metadata::{MetadataExt, CONTENT_TYPE};
use swiftlet_object_store::diskfile::ObjectState;
use swiftlet_object_store::UpdateOp;

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
    let if_delete_at = match get(h, "x-if-delete-at") {
        None => None,
        Some(v) => {
            Some(v.parse::<Timestamp>().map_err(|_| Error::BadRequest("Bad X-If-Delete-At header value".into()))?)
        }
    };
    // Where the updates go is checked before anything is written.
    let targets = targets::checked(&state, h).await?;
    let device = state.devices.get(&path.device).await?;
    let df = device.manager.diskfile(path.partition, &path.account, &path.container, &path.obj);
    let dev = device.clone();
    let done = device
        .pool
        .run_io(move || -> Result<_> {
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
            let superseded = if wrote { Some(df.delete_unsynced(timestamp)?) } else { None };
            let content_type = meta.as_ref().and_then(|m| m.get(CONTENT_TYPE).cloned()).unwrap_or_default();
            Ok((Deleted { status, orig_timestamp: orig_ts, orig_delete_at, content_type, wrote }, superseded))
        })
        .await?;
    let (done, superseded) = done;

    if let Some(superseded) = superseded {
        // The object's files go only once the tombstone is durable.
        device.sync_then_remove(superseded).await?;
    }
    let listing = BTreeMap::from([("x-timestamp".to_string(), timestamp.internal())]);
    let committed = Committed {
        listing: done.wrote.then_some((UpdateOp::Delete, listing)),
        expires: None,
        expired_before: done.orig_delete_at,
    };
    after_write(&state, &device, WriteRequest { headers: h, targets }, &path, committed).await;
    let response_ts = done.orig_timestamp.map_or(timestamp, |t| t.max(timestamp));
    let reason = done.status.canonical_reason().unwrap_or("");
    let mut resp =
        if done.status == StatusCode::NO_CONTENT { text(done.status, "") } else { text(done.status, reason) };
    set(resp.headers_mut(), "x-backend-timestamp", &response_ts.internal());
    set(resp.headers_mut(), "x-backend-content-type", &done.content_type);
    if done.status == StatusCode::NO_CONTENT {
        resp.headers_mut().remove(http::header::CONTENT_LENGTH);
        resp.headers_mut().remove(http::header::CONTENT_TYPE);
    }
    Ok(resp)
}
