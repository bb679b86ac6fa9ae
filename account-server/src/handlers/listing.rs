//! Account HEAD and GET: stats, metadata and the container listing (rendered on the
//! device pool, from one read transaction).

use super::{deleted, respond};
use crate::error::Result;
use crate::server::App;
use common::constraints::ACCOUNT_LISTING_LIMIT;
use common::http::Body;
use common::path::StoragePath;
use http::{HeaderMap, HeaderValue, Response, StatusCode, Uri};
use swiftlet_broker::headers::{account_headers, metadata_to_headers};
use swiftlet_broker::listing::{render_containers, ListingRequest};
use swiftlet_broker::{BrokerError, DbInfo, DbKind, Metadata};

struct Snapshot {
    info: DbInfo,
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
    let ListingRequest { format, mut params } = ListingRequest::parse(uri, headers, ACCOUNT_LISTING_LIMIT, get)?;
    if let Some(p) = params.as_mut() {
        // Accounts have no `path` listing.
        p.path = None;
    }
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, None);
    let name = sp.account.clone();
    let snap = app
        .store
        .read(&loc, move |db| {
            db.read_consistent(|db| {
                let info = db.info()?;
                if info.is_deleted(DbKind::Account) {
                    return Ok(Err(info.is_status_deleted()));
                }
                let metadata = db.metadata()?;
                let body = match params {
                    Some(p) => render_containers(&db.list_containers(&p)?, format, &name),
                    None => Vec::new(),
                };
                Ok(Ok(Snapshot { info, metadata, body }))
            })
        })
        .await;
    let snap = match snap {
        Err(BrokerError::NotFound(_)) => return Ok(deleted(StatusCode::NOT_FOUND, false, "")),
        Ok(Err(status_deleted)) => return Ok(deleted(StatusCode::NOT_FOUND, status_deleted, "")),
        Ok(Ok(s)) => s,
        Err(e) => return Err(e.into()),
    };
    let mut h = HeaderMap::new();
    account_headers(&snap.info, &mut h);
    metadata_to_headers(&snap.metadata, &mut h);
    if let Ok(ct) = HeaderValue::from_str(&format.content_type()) {
        h.insert(http::header::CONTENT_TYPE, ct);
    }
    let status = if !get || snap.body.is_empty() { StatusCode::NO_CONTENT } else { StatusCode::OK };
    Ok(respond(status, h, snap.body))
}
