//! The REPLICATE operations both DB servers answer, as Swift's replicator RPC:
//! `REPLICATE /<dev>/<part>/<hash>` with a JSON array body `[op, args...]`:
//!
//! | op | args | reply |
//! |---|---|---|
//! | `sync` | a [`SyncRequest`] | 200, a [`SyncReply`] (our info and the point we hold for the sender) |
//! | `merge_items` | rows, sender's DB id | 202 after the rows are committed |
//! | `merge_syncs` | [`SyncPoint`]s | 202 |
//! | `get_items_since` | point, count | 200, the rows above `point` (pull instead of push) |
//! | `get_syncs` | incoming (bool) | 200, the sync table |
//!
//! and `REPLICATE /<dev>/<part>/<hash>/db` with header `X-Remote-Id` and a whole SQLite
//! file as the body ("take this whole DB"): installed when there is no local copy (201),
//! merged into the local copy when there is (202). Statuses are chosen by the servers.

use super::disk::is_hash;
use super::error::{BrokerError, Result};
use super::replication::{SyncPoint, SyncRequest};
use super::rows::Rows;
use super::store::{InstallOutcome, Store};
use super::DbLocation;
use bytes::Buf;
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Write;
use std::sync::Arc;

/// The largest JSON body a REPLICATE call may carry.
pub const MAX_RPC_BODY: usize = 64 * 1024 * 1024;

/// What an operation answered; the server turns it into a status.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcReply {
    Json(Value),
    Accepted,
    Created,
}

fn arg<T: serde::de::DeserializeOwned>(args: &[Value], i: usize, what: &str) -> Result<T> {
    let v = args.get(i).cloned().ok_or_else(|| BrokerError::BadInput(format!("missing argument: {what}")))?;
    serde_json::from_value(v).map_err(|e| BrokerError::BadInput(format!("bad argument {what}: {e}")))
}

/// Runs one JSON REPLICATE operation against the DB at `loc`.
pub async fn dispatch(store: &Arc<Store>, loc: &DbLocation, body: &[u8]) -> Result<RpcReply> {
    let call: Vec<Value> = serde_json::from_slice(body).map_err(|e| BrokerError::BadInput(e.to_string()))?;
    let (op, args) = match call.split_first() {
        Some((Value::String(op), args)) => (op.clone(), args.to_vec()),
        _ => return Err(BrokerError::BadInput("Invalid object type".into())),
    };
    // Make sure a peer can send us a whole DB next.
    let tmp = store.tmp_dir(&loc.device)?;
    store.run(&loc.device, move || std::fs::create_dir_all(&tmp).map_err(|e| BrokerError::io(&tmp, e))).await?;
    let json = |v: std::result::Result<Value, serde_json::Error>| {
        v.map(RpcReply::Json).map_err(|e| BrokerError::Failed(e.to_string()))
    };
    match op.as_str() {
        "sync" => {
            let req: SyncRequest = arg(&args, 0, "sync info")?;
            let reply = store.write(loc, move |db| db.sync(&req)).await?;
            json(serde_json::to_value(reply))
        }
        "merge_items" => {
            let rows: Rows = arg(&args, 0, "rows")?;
            let source: Option<String> = arg(&args, 1, "source").ok();
            store.write(loc, move |db| db.merge_rows(&rows, source.as_deref())).await?;
            Ok(RpcReply::Accepted)
        }
        "merge_syncs" => {
            let points: Vec<SyncPoint> = arg(&args, 0, "sync points")?;
            store.write(loc, move |db| db.merge_syncs(&points, true)).await?;
            Ok(RpcReply::Accepted)
        }
        "get_items_since" => {
            let point: i64 = arg(&args, 0, "point")?;
            let count: usize = arg::<usize>(&args, 1, "count")?.min(100_000);
            let rows = store.read(loc, move |db| db.items_since(point, count)).await?;
            json(serde_json::to_value(rows))
        }
        "get_syncs" => {
            let incoming: bool = arg(&args, 0, "incoming")?;
            let syncs = store.read(loc, move |db| db.get_syncs(incoming)).await?;
            json(serde_json::to_value(syncs))
        }
        other => Err(BrokerError::BadInput(format!("Unknown REPLICATE operation {other:?}"))),
    }
}

/// Receives a whole DB in `body` (streamed to the device's tmp dir, never held in
/// memory), then installs or merges it.
pub async fn receive_db<B>(store: &Arc<Store>, loc: &DbLocation, mut body: B, remote_id: String) -> Result<RpcReply>
where
    B: http_body::Body + Unpin,
    B::Error: std::fmt::Display,
{
    let tmp_dir = store.tmp_dir(&loc.device)?;
    let file_path = tmp_dir.join(format!("{}.{:016x}.db", loc.hash, rand::random::<u64>()));
    let (dir, fp) = (tmp_dir.clone(), file_path.clone());
    let file = store
        .run(&loc.device, move || {
            std::fs::create_dir_all(&dir).map_err(|e| BrokerError::io(&dir, e))?;
            std::fs::File::create(&fp).map_err(|e| BrokerError::io(&fp, e))
        })
        .await?;
    let mut file = Some(file);
    let written = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BrokerError::BadInput(format!("body: {e}")))?;
            let Ok(mut data) = frame.into_data() else { continue };
            let chunk = data.copy_to_bytes(data.remaining());
            let mut f = file.take().ok_or(BrokerError::WorkerGone)?;
            let fp = file_path.clone();
            f = store
                .run(&loc.device, move || {
                    f.write_all(&chunk).map_err(|e| BrokerError::io(&fp, e))?;
                    Ok(f)
                })
                .await?;
            file = Some(f);
        }
        let f = file.take().ok_or(BrokerError::WorkerGone)?;
        let fp = file_path.clone();
        store.run(&loc.device, move || f.sync_all().map_err(|e| BrokerError::io(&fp, e))).await
    }
    .await;
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&file_path).await;
        return Err(e);
    }
    match store.install(loc, file_path, remote_id).await? {
        InstallOutcome::Installed => Ok(RpcReply::Created),
        InstallOutcome::Merged => Ok(RpcReply::Accepted),
    }
}

/// Parses a REPLICATE path `/<dev>/<part>/<hash>[/db]`; `true` means a whole-DB upload.
pub fn parse_path(raw_path: &str) -> Result<(DbLocation, bool)> {
    let dp = common::path::DevicePath::parse(raw_path).map_err(|e| BrokerError::BadInput(e.to_string()))?;
    let rest = dp.rest.unwrap_or_default();
    let (hash, whole) = match rest.strip_suffix("/db") {
        Some(h) => (h.to_string(), true),
        None => (rest, false),
    };
    if !is_hash(&hash) {
        return Err(BrokerError::BadInput(format!("Invalid hash {:?}", hash.chars().take(40).collect::<String>())));
    }
    Ok((DbLocation { device: dp.device, partition: dp.partition, hash }, whole))
}

/// Answers a whole REPLICATE request: routes it, runs it, and builds the success
/// response (200 with JSON, 201, 202). Errors are left to the server's status mapping.
pub async fn serve<B>(store: &Arc<Store>, req: http::Request<B>) -> Result<http::Response<common::http::Body>>
where
    B: http_body::Body + Unpin,
    B::Error: std::fmt::Display + std::error::Error + Send + Sync + 'static,
{
    let (loc, whole) = parse_path(req.uri().path())?;
    let reply = if whole {
        let remote = req
            .headers()
            .get("x-remote-id")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| BrokerError::BadInput("Missing X-Remote-Id header".into()))?
            .to_string();
        receive_db(store, &loc, req.into_body(), remote).await?
    } else {
        let body = http_body_util::Limited::new(req.into_body(), MAX_RPC_BODY)
            .collect()
            .await
            .map_err(|e| BrokerError::BadInput(format!("body: {e}")))?
            .to_bytes();
        dispatch(store, &loc, &body).await?
    };
    let (status, body, json) = match reply {
        RpcReply::Json(v) => {
            (http::StatusCode::OK, serde_json::to_vec(&v).map_err(|e| BrokerError::Failed(e.to_string()))?, true)
        }
        RpcReply::Accepted => (http::StatusCode::ACCEPTED, Vec::new(), false),
        RpcReply::Created => (http::StatusCode::CREATED, Vec::new(), false),
    };
    let len = body.len();
    let mut resp = http::Response::new(common::http::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    if json {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    }
    Ok(resp)
}
