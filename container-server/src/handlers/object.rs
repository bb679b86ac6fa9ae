//! Object rows from object servers: `PUT`/`DELETE /<dev>/<part>/<a>/<c>/<o>` with
//! `X-Timestamp` (and `X-Size`, `X-Content-Type`, `X-Etag` for a PUT). Rows are merged in
//! batches with other concurrent rows for the same container; the answer waits for the
//! batch's commit.

use super::{header_true, respond};
use crate::error::{ContainerError, Result};
use crate::server::App;
use common::http::Body;
use common::path::StoragePath;
use common::Timestamp;
use http::{HeaderMap, Response, StatusCode};
use swiftlet_broker::headers::{header_int, header_timestamp, header_utf8, policy_index, x_timestamp};
use swiftlet_broker::{BrokerError, DbInit, ObjectRow, Rows};

fn bad(msg: String) -> ContainerError {
    ContainerError::BadRequest(msg)
}

pub async fn put(app: &App, sp: &StoragePath, headers: &HeaderMap) -> Result<Response<Body>> {
    let t = x_timestamp(headers).map_err(bad)?;
    let size = header_int(headers, "x-size").map_err(bad)?;
    let size = u64::try_from(size).map_err(|_| bad("Invalid X-Size header".into()))?;
    let content_type = header_utf8(headers, "x-content-type")
        .map_err(bad)?
        .ok_or_else(|| bad("Missing X-Content-Type header".into()))?;
    let etag = header_utf8(headers, "x-etag").map_err(bad)?.ok_or_else(|| bad("Missing X-Etag header".into()))?;
    let policy = policy_index(headers, "x-backend-storage-policy-index", &app.cfg.storage_policies).map_err(bad)?;
    let row = ObjectRow {
        name: sp.object.clone().unwrap_or_default(),
        created_at: t,
        ctype_timestamp: header_timestamp(headers, "x-content-type-timestamp").map_err(bad)?,
        meta_timestamp: header_timestamp(headers, "x-meta-timestamp").map_err(bad)?,
        size,
        content_type: content_type.to_string(),
        etag: etag.to_string(),
        deleted: false,
        storage_policy_index: policy.unwrap_or(0),
        rowid: None,
    };
    merge(app, sp, headers, row, policy).await?;
    Ok(respond(StatusCode::CREATED, HeaderMap::new(), Vec::new()))
}

pub async fn delete(app: &App, sp: &StoragePath, headers: &HeaderMap) -> Result<Response<Body>> {
    let t = x_timestamp(headers).map_err(bad)?;
    let policy = policy_index(headers, "x-backend-storage-policy-index", &app.cfg.storage_policies).map_err(bad)?;
    let row = ObjectRow::tombstone(sp.object.clone().unwrap_or_default(), t, policy.unwrap_or(0));
    merge(app, sp, headers, row, policy).await?;
    Ok(respond(StatusCode::NO_CONTENT, HeaderMap::new(), Vec::new()))
}

/// Whether rows for this account create their container (Swift's internal accounts).
fn auto_create(app: &App, account: &str, headers: &HeaderMap) -> bool {
    if headers.contains_key("x-backend-auto-create") {
        return header_true(headers, "x-backend-auto-create");
    }
    let prefix = &app.cfg.auto_create_account_prefix;
    !prefix.is_empty() && account.starts_with(prefix.as_str()) && !account.starts_with(&format!("{prefix}shards_"))
}

async fn merge(app: &App, sp: &StoragePath, headers: &HeaderMap, row: ObjectRow, policy: Option<u32>) -> Result<()> {
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, sp.container.as_deref());
    let t = row.created_at;
    let outcome = match app.store.merge_rows(&loc, Rows::Objects(vec![row.clone()])).await {
        Err(BrokerError::NotFound(_)) if auto_create(app, &sp.account, headers) => {
            let policy = policy.ok_or_else(|| bad("X-Backend-Storage-Policy-Index header is required".into()))?;
            // An object timestamp may carry an offset; the container's does not.
            let init = DbInit::container(sp, Timestamp::from_ticks(t.ticks()), policy);
            app.store.create(&loc, init).await?;
            app.store.merge_rows(&loc, Rows::Objects(vec![row])).await?
        }
        Err(BrokerError::NotFound(_)) => return Err(ContainerError::NotFound),
        other => other?,
    };
    if outcome.stats_changed {
        app.updater.note_changed(&loc).await?;
    }
    Ok(())
}
