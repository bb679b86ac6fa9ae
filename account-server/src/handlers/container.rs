//! Container reports from container servers: `PUT /<dev>/<part>/<a>/<c>` with
//! `X-Put-Timestamp`, `X-Delete-Timestamp`, `X-Object-Count`, `X-Bytes-Used`. Rows are
//! merged in batches with other concurrent reports for the same account; the answer waits
//! for the batch's commit.

use super::respond;
use crate::error::{AccountError, Result};
use crate::server::App;
use common::http::Body;
use common::path::StoragePath;
use common::Timestamp;
use http::{HeaderMap, Response, StatusCode};
use swiftlet_broker::headers::{header_int, header_timestamp, header_utf8, policy_index, x_timestamp};
use swiftlet_broker::{BrokerError, ContainerRow, DbInit, DbKind, Rows};

fn bad(msg: String) -> AccountError {
    AccountError::BadRequest(msg)
}

fn required_ts(headers: &HeaderMap, name: &str) -> Result<Timestamp> {
    header_timestamp(headers, name).map_err(bad)?.ok_or_else(|| bad(format!("Missing {name} header")))
}

pub async fn put(app: &App, sp: &StoragePath, headers: &HeaderMap) -> Result<Response<Body>> {
    let put_ts = required_ts(headers, "x-put-timestamp")?;
    let delete_ts = required_ts(headers, "x-delete-timestamp")?;
    let objects = header_int(headers, "x-object-count").map_err(bad)?;
    let bytes = header_int(headers, "x-bytes-used").map_err(bad)?;
    if objects < 0 || bytes < 0 {
        return Err(bad("X-Object-Count and X-Bytes-Used must not be negative".into()));
    }
    let policy = policy_index(headers, "x-backend-storage-policy-index", &app.cfg.storage_policies).map_err(bad)?;
    let override_deleted =
        header_utf8(headers, "x-account-override-deleted").map_err(bad)?.is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    let name = sp.container.clone().unwrap_or_default();
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, None);
    let prefix = &app.cfg.auto_create_account_prefix;
    if !prefix.is_empty() && sp.account.starts_with(prefix.as_str()) {
        let t = if headers.contains_key("x-timestamp") { x_timestamp(headers).map_err(bad)? } else { Timestamp::now() };
        app.store.create(&loc, DbInit::account(sp, t)).await?;
    }
    let info = match app.store.info(&loc).await {
        Err(BrokerError::NotFound(_)) => return Err(AccountError::NotFound),
        other => other?,
    };
    if !override_deleted && info.is_deleted(DbKind::Account) {
        return Err(AccountError::NotFound);
    }
    let row = ContainerRow::report(name, put_ts, delete_ts, objects, bytes, policy.unwrap_or(0));
    app.store.merge_rows(&loc, Rows::Containers(vec![row])).await?;
    let status = if delete_ts > put_ts { StatusCode::NO_CONTENT } else { StatusCode::CREATED };
    Ok(respond(status, HeaderMap::new(), Vec::new()))
}
