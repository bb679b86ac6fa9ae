//! Container HEAD and GET: stats, metadata and the object listing (rendered on the
//! device pool, from one read transaction).

use super::respond;
use crate::error::{ContainerError, Result};
use crate::server::App;
use common::constraints::CONTAINER_LISTING_LIMIT;
use common::http::Body;
use common::path::StoragePath;
use http::{HeaderMap, HeaderValue, Response, StatusCode, Uri};
use swiftlet_broker::headers::{container_headers, metadata_to_headers, policy_index};
use swiftlet_broker::listing::{render_objects, ListingRequest};
use swiftlet_broker::{BrokerError, DbInfo, DbKind, Metadata};

struct Snapshot {
    info: DbInfo,
    deleted: bool,
    metadata: Metadata,
    body: Vec<u8>,
}

pub async fn head_or_get(
    app: &App,
    sp: &StoragePath,
    uri: &Uri,
    headers: &HeaderMap,
    get: bool,
) -> Result<Response<Body>> {
    let ListingRequest { format, params } = ListingRequest::parse(uri, headers, CONTAINER_LISTING_LIMIT, get)?;
    let requested = policy_index(headers, "x-backend-storage-policy-index", &app.cfg.storage_policies)
        .map_err(ContainerError::BadRequest)?;
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, sp.container.as_deref());
    let name = sp.container.clone().unwrap_or_default();
    let snap = app
        .store
        .read(&loc, move |db| {
            db.read_consistent(|db| {
                let info = db.info()?;
                let deleted = info.is_deleted(DbKind::Container);
                let mut snap = Snapshot { info, deleted, metadata: Metadata::new(), body: Vec::new() };
                if deleted {
                    return Ok(snap);
                }
                snap.metadata = db.metadata()?;
                if let Some(p) = params {
                    let policy = requested.unwrap_or(snap.info.storage_policy_index);
                    let entries = db.list_objects(&p, policy)?;
                    snap.body = render_objects(&entries, format, &name);
                }
                Ok(snap)
            })
        })
        .await;
    let mut h = HeaderMap::new();
    let snap = match snap {
        Err(BrokerError::NotFound(_)) => {
            container_headers(None, true, &mut h);
            return Ok(respond(StatusCode::NOT_FOUND, h, Vec::new()));
        }
        other => other?,
    };
    container_headers(Some(&snap.info), snap.deleted, &mut h);
    if snap.deleted {
        return Ok(respond(StatusCode::NOT_FOUND, h, Vec::new()));
    }
    metadata_to_headers(&snap.metadata, &mut h);
    if let Ok(ct) = HeaderValue::from_str(&format.content_type()) {
        h.insert(http::header::CONTENT_TYPE, ct);
    }
    if !get {
        return Ok(respond(StatusCode::NO_CONTENT, h, Vec::new()));
    }
    h.insert("x-backend-record-type", HeaderValue::from_static("object"));
    let policy = requested.unwrap_or(snap.info.storage_policy_index);
    h.insert("x-backend-record-storage-policy-index", HeaderValue::from(policy));
    let status = if snap.body.is_empty() { StatusCode::NO_CONTENT } else { StatusCode::OK };
    Ok(respond(status, h, snap.body))
}
