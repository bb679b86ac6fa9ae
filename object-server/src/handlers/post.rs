//! POST: replace an object's user metadata with a `.meta` file (the body is untouched),
//! optionally changing its Content-Type and X-Delete-At; then update the container.

use super::headers;
use super::put::apply_overrides;
use super::{AppState, ObjectPath};
use crate::container_update::Update;
use crate::diskfile::metadata::{MetadataExt, CONTENT_LENGTH, CONTENT_TYPE, CONTENT_TYPE_TIMESTAMP, ETAG};
use crate::diskfile::{FileKind, ObjectState};
use crate::error::{Error, Result};
use common::http::{empty, Body};
use common::metadata::Metadata;
use common::Timestamp;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;

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
    let new_delete_at = match headers::get(h, "x-delete-at").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| Error::BadRequest("Non-integer X-Delete-At".into()))?),
    };
    if new_delete_at.is_some_and(|at| (at as f64) < timestamp.as_secs_f64()) {
        return Err(Error::BadRequest("X-Delete-At in past".into()));
    }
    headers::check_object_metadata(h)?;
    let req_ctype = h.get(http::header::CONTENT_TYPE).map(headers::text_of);
    let req_ctype_ts = match (&req_ctype, headers::get(h, "content-type-timestamp")) {
        (None, _) => None,
        (Some(_), None) => Some(timestamp),
        (Some(_), Some(t)) => {
            Some(t.parse::<Timestamp>().map_err(|_| Error::BadRequest(format!("invalid timestamp {t}")))?)
        }
    };
    let new_meta = headers::request_metadata(h, &state.allowed_headers, false);
    let open_expired = headers::open_expired(h);

    let device = state.devices.get(&path.device).await?;
    let df = device.manager.diskfile(path.partition, &path.account, &path.container, &path.obj);
    let dev = device.clone();
    let posted = device
        .pool
        .run_io(move || {
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
            df.write_marker_unsynced(FileKind::Meta, meta)?;
            Ok(Posted {
                orig_delete_at: obj.metadata.delete_at().ok().flatten(),
                data_metadata: obj.data_metadata,
                data_timestamp: obj.data_timestamp,
                orig_timestamp: orig_ts,
                content_type,
                content_type_timestamp,
            })
        })
        .await?;
    device.sync.wait().await.map_err(Error::from_write)?;

    let names = (path.account.as_str(), path.container.as_str(), path.obj.as_str());
    if timestamp > posted.orig_timestamp {
        if let Some(at) = new_delete_at {
            let size = posted.data_metadata.get(CONTENT_LENGTH).cloned().unwrap_or_default();
            let extra = BTreeMap::from([
                ("x-content-type".to_string(), format!("text/plain;swift_expirer_bytes={size}")),
                ("x-content-type-timestamp".to_string(), posted.data_timestamp.internal()),
            ]);
            state.updater.delete_at_update(&device, h, "PUT", at, names, extra).await;
        }
        if let Some(old) = posted.orig_delete_at.filter(|old| Some(*old) != new_delete_at) {
            state.updater.delete_at_update(&device, h, "DELETE", old, names, BTreeMap::new()).await;
        }
    }
    let mut update_headers = BTreeMap::from([
        ("x-size".to_string(), posted.data_metadata.get(CONTENT_LENGTH).cloned().unwrap_or_default()),
        ("x-content-type".to_string(), posted.content_type.clone()),
        ("x-timestamp".to_string(), posted.data_timestamp.internal()),
        ("x-content-type-timestamp".to_string(), posted.content_type_timestamp.internal()),
        ("x-meta-timestamp".to_string(), timestamp.internal()),
        ("x-etag".to_string(), posted.data_metadata.get(ETAG).cloned().unwrap_or_default()),
    ]);
    let overrides: http::HeaderMap = posted
        .data_metadata
        .iter()
        .filter_map(|(k, v)| Some((k.to_ascii_lowercase().parse().ok()?, v.parse().ok()?)))
        .collect();
    apply_overrides(&overrides, &mut update_headers);
    let update = Update {
        op: "PUT",
        account: path.account.clone(),
        container: path.container.clone(),
        obj: path.obj.clone(),
        headers: update_headers,
        container_path: None,
    };
    state.updater.container_update(&device, h, update).await;

    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::ACCEPTED;
    let out = resp.headers_mut();
    headers::set(out, "x-backend-content-type", &posted.content_type);
    for (k, v) in posted.data_metadata.iter().filter(|(k, _)| headers::is_sys_meta(k)) {
        headers::set(out, k, v);
    }
    headers::set(out, "content-length", "0");
    Ok(resp)
}
