//! Container PUT, POST and DELETE: create or update the DB, its metadata and status, and
//! report to the account servers.

use super::{header_true, respond};
use crate::account_update::parse_targets;
use crate::error::{ContainerError, Result};
use crate::server::App;
use common::http::Body;
use common::path::StoragePath;
use common::Timestamp;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use swiftlet_broker::headers::{metadata_from_headers, policy_index, x_timestamp};
use swiftlet_broker::{meta, BrokerError, DbInfo, DbInit, DbKind, Metadata};

/// Headers saved as container metadata besides `X-Container-Meta-*`/`-Sysmeta-*`.
pub const SAVED_HEADERS: &[&str] = &[
    "x-container-read",
    "x-container-write",
    "x-container-sync-key",
    "x-container-sync-to",
    "x-versions-location",
    "x-history-location",
];

fn bad(msg: String) -> ContainerError {
    ContainerError::BadRequest(msg)
}

/// Refuses (before anything changes) metadata that would exceed the limits once merged.
fn check_merged(current: Metadata, updates: &Metadata) -> swiftlet_broker::Result<()> {
    let mut merged = current;
    meta::merge(&mut merged, updates);
    meta::validate(&merged).map_err(BrokerError::BadInput)
}

enum PutResult {
    Done { created: bool, info: Box<DbInfo> },
    PolicyConflict(u32),
    Deleted,
}

pub async fn put(app: &App, sp: &StoragePath, headers: &HeaderMap, trans_id: &str) -> Result<Response<Body>> {
    let t = x_timestamp(headers).map_err(bad)?;
    let policies = &app.cfg.storage_policies;
    let requested = policy_index(headers, "x-backend-storage-policy-index", policies).map_err(bad)?;
    let default = policy_index(headers, "x-backend-storage-policy-default", policies).map_err(bad)?;
    let new_policy = requested.or(default).unwrap_or_else(|| policies.first().copied().unwrap_or(0));
    let md = metadata_from_headers(headers, DbKind::Container, SAVED_HEADERS, t).map_err(bad)?;
    let targets = parse_targets(headers)?;
    let targets_json = serde_json::to_string(&targets).map_err(|e| bad(e.to_string()))?;
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, sp.container.as_deref());
    let created = app.store.create(&loc, DbInit::container(sp, t, new_policy)).await?;
    let has_targets = !targets.is_empty();
    let result = app
        .store
        .write(&loc, move |db| {
            let mut recreated = false;
            if !created {
                check_merged(db.metadata()?, &md)?;
                recreated = db.is_deleted()?;
                if recreated {
                    db.set_storage_policy_index(new_policy, t)?;
                } else if let Some(want) = requested {
                    let current = db.info()?.storage_policy_index;
                    if want != current {
                        return Ok(PutResult::PolicyConflict(current));
                    }
                }
                db.update_put_timestamp(t)?;
                if db.is_deleted()? {
                    return Ok(PutResult::Deleted);
                }
                if recreated {
                    db.update_status_changed_at(t)?;
                }
            }
            db.update_metadata(&md, true)?;
            if has_targets {
                db.set_account_targets(&targets_json)?;
            }
            Ok(PutResult::Done { created: created || recreated, info: Box::new(db.info()?) })
        })
        .await?;
    let (created, info) = match result {
        PutResult::Done { created, info } => (created, info),
        PutResult::Deleted => return Err(ContainerError::Conflict),
        PutResult::PolicyConflict(current) => {
            let mut h = HeaderMap::new();
            h.insert("x-backend-storage-policy-index", HeaderValue::from(current));
            return Ok(respond(StatusCode::CONFLICT, h, b"Conflict".to_vec()));
        }
    };
    let sent = app
        .updater
        .send_now(&loc, &info, &targets, trans_id, header_true(headers, "x-account-override-deleted"))
        .await?;
    if !targets.is_empty() && sent.not_found == targets.len() {
        return Err(ContainerError::NotFound);
    }
    let mut h = HeaderMap::new();
    h.insert("x-backend-storage-policy-index", HeaderValue::from(info.storage_policy_index));
    let status = if created { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok(respond(status, h, Vec::new()))
}

pub async fn post(app: &App, sp: &StoragePath, headers: &HeaderMap) -> Result<Response<Body>> {
    let t = x_timestamp(headers).map_err(bad)?;
    let md = metadata_from_headers(headers, DbKind::Container, SAVED_HEADERS, t).map_err(bad)?;
    let bump = !header_true(headers, "x-backend-no-timestamp-update");
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, sp.container.as_deref());
    let found = app
        .store
        .write(&loc, move |db| {
            if db.is_deleted()? {
                return Ok(false);
            }
            check_merged(db.metadata()?, &md)?;
            if bump {
                db.update_put_timestamp(t)?;
            }
            db.update_metadata(&md, true)?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(ContainerError::NotFound);
    }
    Ok(respond(StatusCode::NO_CONTENT, HeaderMap::new(), Vec::new()))
}

enum DeleteResult {
    NotEmpty,
    Done { existed: bool, info: Box<DbInfo> },
}

pub async fn delete(app: &App, sp: &StoragePath, headers: &HeaderMap, trans_id: &str) -> Result<Response<Body>> {
    let t = x_timestamp(headers).map_err(bad)?;
    let targets = parse_targets(headers)?;
    let loc = app.store.location(&sp.device, sp.partition, &sp.account, sp.container.as_deref());
    let result = app
        .store
        .write(&loc, move |db| {
            if !db.is_empty()? {
                return Ok(DeleteResult::NotEmpty);
            }
            let before = db.info()?;
            let existed = before.put_timestamp > Timestamp::default() && !before.is_deleted(DbKind::Container);
            db.delete_db(t)?;
            if !db.is_deleted()? {
                return Ok(DeleteResult::NotEmpty);
            }
            Ok(DeleteResult::Done { existed, info: Box::new(db.info()?) })
        })
        .await?;
    let (existed, info) = match result {
        DeleteResult::NotEmpty => return Err(ContainerError::Conflict),
        DeleteResult::Done { existed, info } => (existed, info),
    };
    let sent = app
        .updater
        .send_now(&loc, &info, &targets, trans_id, header_true(headers, "x-account-override-deleted"))
        .await?;
    if !existed || (!targets.is_empty() && sent.not_found == targets.len()) {
        return Err(ContainerError::NotFound);
    }
    Ok(respond(StatusCode::NO_CONTENT, HeaderMap::new(), Vec::new()))
}
