//! Account PUT, POST and DELETE. Deletion only marks the account deleted (its rows stay
//! for a reaper); a deleted account cannot be re-created by PUT until reclaimed.

use super::{deleted, respond};
use crate::error::{AccountError, Result};
use crate::server::App;
use common::http::Body;
use common::path::StoragePath;
use common::Timestamp;
use http::{HeaderMap, Response, StatusCode};
use swiftlet_broker::headers::{metadata_from_headers, x_timestamp};
use swiftlet_broker::{meta, BrokerError, DbInit, DbKind, Metadata};

fn bad(msg: String) -> AccountError {
    AccountError::BadRequest(msg)
}

/// The request's timestamp and the metadata its headers set.
fn timestamp_and_metadata(headers: &HeaderMap) -> Result<(Timestamp, Metadata)> {
    let t = x_timestamp(headers).map_err(bad)?;
    let md = metadata_from_headers(headers, DbKind::Account, &[], t).map_err(bad)?;
    Ok((t, md))
}

fn check_merged(current: Metadata, updates: &Metadata) -> swiftlet_broker::Result<()> {
    let mut merged = current;
    meta::merge(&mut merged, updates);
    meta::validate(&merged).map_err(BrokerError::BadInput)
}

enum PutResult {
    Created,
    Accepted,
    RecentlyDeleted,
    Conflict,
}

pub async fn put(app: &App, sp: &StoragePath, headers: &HeaderMap) -> Result<Response<Body>> {
    let (t, md) = timestamp_and_metadata(headers)?;
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, None);
    let created = app.store.create(&loc, DbInit::account(sp, t)).await?;
    let result = app
        .store
        .write(&loc, move |db| {
            if created {
                db.update_metadata(&md, true)?;
                return Ok(PutResult::Created);
            }
            let info = db.info()?;
            if info.is_status_deleted() {
                return Ok(PutResult::RecentlyDeleted);
            }
            check_merged(db.metadata()?, &md)?;
            let revived = info.is_deleted(DbKind::Account);
            db.update_put_timestamp(t)?;
            if db.is_deleted()? {
                return Ok(PutResult::Conflict);
            }
            db.update_metadata(&md, true)?;
            Ok(if revived { PutResult::Created } else { PutResult::Accepted })
        })
        .await?;
    match result {
        PutResult::Created => Ok(respond(StatusCode::CREATED, HeaderMap::new(), Vec::new())),
        PutResult::Accepted => Ok(respond(StatusCode::ACCEPTED, HeaderMap::new(), Vec::new())),
        PutResult::RecentlyDeleted => Ok(deleted(StatusCode::FORBIDDEN, true, "Recently deleted")),
        PutResult::Conflict => Err(AccountError::Conflict),
    }
}

pub async fn post(app: &App, sp: &StoragePath, headers: &HeaderMap) -> Result<Response<Body>> {
    let (_, md) = timestamp_and_metadata(headers)?;
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, None);
    let outcome = app
        .store
        .write(&loc, move |db| {
            let info = db.info()?;
            if info.is_deleted(DbKind::Account) {
                return Ok(Some(info.is_status_deleted()));
            }
            check_merged(db.metadata()?, &md)?;
            db.update_metadata(&md, true)?;
            Ok(None)
        })
        .await;
    match outcome {
        Ok(None) => Ok(respond(StatusCode::NO_CONTENT, HeaderMap::new(), Vec::new())),
        Ok(Some(status_deleted)) => Ok(deleted(StatusCode::NOT_FOUND, status_deleted, "")),
        Err(BrokerError::NotFound(_)) => Ok(deleted(StatusCode::NOT_FOUND, false, "")),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(app: &App, sp: &StoragePath, headers: &HeaderMap) -> Result<Response<Body>> {
    let t = x_timestamp(headers).map_err(bad)?;
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, None);
    let outcome = app
        .store
        .write(&loc, move |db| {
            let info = db.info()?;
            if info.is_deleted(DbKind::Account) {
                return Ok(false);
            }
            db.delete_db(t)?;
            Ok(true)
        })
        .await;
    match outcome {
        Ok(true) => Ok(deleted(StatusCode::NO_CONTENT, true, "")),
        Ok(false) => Ok(deleted(StatusCode::NOT_FOUND, true, "")),
        Err(BrokerError::NotFound(_)) => Ok(deleted(StatusCode::NOT_FOUND, false, "")),
        Err(e) => Err(e.into()),
    }
}
