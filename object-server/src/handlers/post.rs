//! POST: replace an object's user metadata with a `.meta` file (the body is untouched),
//! optionally changing its Content-Type and X-Delete-At; then update the container.

use super::after_write::{after_write, apply_overrides, Committed, Expiry, WriteRequest};
use super::headers;
use super::targets;
use super::{AppState, ObjectPath};
use crate::error::{Error, Result};
use common::headers::{get, set};
use common::http::{empty, Body};
use common::metadata::Metadata;
use common::Timestamp;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;
use swiftlet_object_store::diskfile::metadata::{
    MetadataExt, CONTENT_LENGTH, CONTENT_TYPE, CONTENT_TYPE_TIMESTAMP, ETAG,
};
use swiftlet_object_store::diskfile::{FileKind, ObjectState};
use swiftlet_object_store::UpdateOp;

/// What the pool job found and wrote, for the container update and the response.
struct Posted {
    data_metadata: Metadata,
    data_timestamp: Timestamp,
    orig_timestamp: Timestamp,
    content_type: String,
    content_type_timestamp: Timestamp,
    orig_delete_at: Option<u64>,
}

pub async fn handle(state: Arc<AppState>, req: Request<Incoming>, path: ObjectPath) -> Result<Response<Body>> {
    let h = req.headers();
    let timestamp = headers::required_timestamp(h)?;
    let new_delete_at = match get(h, "x-delete-at").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| Error::BadRequest("Non-integer X-Delete-At".into()))?),
    };
    if new_delete_at.is_some_and(|at| (at as f64) < timestamp.as_secs_f64()) {
        return Err(Error::BadRequest("X-Delete-At in past".into()));
    }
    headers::check_object_metadata(h)?;
    let req_ctype = h.get(http::header::CONTENT_TYPE).map(headers::text_of);
    let req_ctype_ts = match (&req_ctype, get(h, "content-type-timestamp")) {
        (None, _) => None,
        (Some(_), None) => Some(timestamp),
        (Some(_), Some(t)) => {
            Some(t.parse::<Timestamp>().map_err(|_| Error::BadRequest(format!("invalid timestamp {t}")))?)
        }
    };
    let new_meta = headers::request_metadata(h, &state.allowed_headers, false);
    let open_expired = headers::open_expired(h);

    // Where the updates go is checked before anything is written.
    let targets = targets::checked(&state, h).await?;
    let device = state.devices.get(&path.device).await?;
    let df = device.manager.diskfile(path.partition, &path.account, &path.container, &path.obj);
    let dev = device.clone();
    let posted = device
        .pool
        .run_io(move || -> Result<_> {
            dev.check()?;
            let obj = match df.open(timestamp, open_expired)? {
                ObjectState::Exists(obj) => obj,
                _ => return Err(Error::NotFound { timestamp: None }),
            };
            let orig_ts = obj.timestamp();
            let orig_ctype_ts = obj.content_type_timestamp();
            if orig_ts >= timestamp && req_ctype_ts.is_none_or(|t| orig_ctype_ts >= t) {
                return Err(Error::Conflict { timestamp: Some(orig_ts) });
            }
            let mut meta = if timestamp > orig_ts {
                let mut m = new_meta;
                m.extend([headers::timestamp_entry(timestamp)]);
                m
            } else {
                // Only the content type is newer: keep the current metadata.
                obj.meta_metadata.clone().unwrap_or_else(|| Metadata::from([headers::timestamp_entry(orig_ts)]))
            };
            let (content_type, content_type_timestamp) = match (req_ctype, req_ctype_ts) {
                (Some(ct), Some(t)) if t > orig_ctype_ts => (ct, t),
                _ => (obj.metadata.get(CONTENT_TYPE).cloned().unwrap_or_default(), orig_ctype_ts),
            };
            if content_type_timestamp != obj.data_timestamp {
                meta.insert(CONTENT_TYPE.into(), content_type.clone());
                meta.insert(CONTENT_TYPE_TIMESTAMP.into(), content_type_timestamp.internal());
            }
            let superseded = df.write_marker_unsynced(FileKind::Meta, meta)?;
            let posted = Posted {
                orig_delete_at: obj.metadata.delete_at().ok().flatten(),
                data_metadata: obj.data_metadata,
                data_timestamp: obj.data_timestamp,
                orig_timestamp: orig_ts,
                content_type,
                content_type_timestamp,
            };
            Ok((posted, superseded))
        })
        .await?;
    let (posted, superseded) = posted;
    // The old `.meta` goes only once the new one is durable.
    device.sync_then_remove(superseded).await?;

    let mut listing = BTreeMap::from([
        ("x-size".to_string(), posted.data_metadata.get(CONTENT_LENGTH).cloned().unwrap_or_default()),
        ("x-content-type".to_string(), posted.content_type.clone()),
        ("x-timestamp".to_string(), posted.data_timestamp.internal()),
        ("x-content-type-timestamp".to_string(), posted.content_type_timestamp.internal()),
        ("x-meta-timestamp".to_string(), timestamp.internal()),
        ("x-etag".to_string(), posted.data_metadata.get(ETAG).cloned().unwrap_or_default()),
    ]);
    apply_overrides(posted.data_metadata.iter().map(|(k, v)| (k.as_str(), v.clone())), &mut listing);
    // The expirer queue changes only when the object's metadata did (not for a newer
    // Content-Type alone).
    let metadata_changed = timestamp > posted.orig_timestamp;
    let size = posted.data_metadata.get(CONTENT_LENGTH).cloned().unwrap_or_default();
    let done = Committed {
        listing: Some((UpdateOp::Put, listing)),
        expires: new_delete_at.filter(|_| metadata_changed).map(|at| Expiry {
            at,
            size,
            data_timestamp: posted.data_timestamp,
        }),
        expired_before: posted.orig_delete_at.filter(|_| metadata_changed),
    };
    after_write(&state, &device, WriteRequest { headers: h, targets }, &path, done).await;

    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::ACCEPTED;
    let out = resp.headers_mut();
    set(out, "x-backend-content-type", &posted.content_type);
    for (k, v) in posted.data_metadata.iter().filter(|(k, _)| headers::is_sys_meta(k)) {
        set(out, k, v);
    }
    set(out, "content-length", "0");
    Ok(resp)
}
