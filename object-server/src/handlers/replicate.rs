//! REPLICATE `/<dev>/<part>[/<suffix>-<suffix>...]`: the partition's suffix hashes as a JSON
//! object `{"<suffix>": "<md5 hex>", ...}`, recomputing the named suffixes (and any that
//! writes invalidated). Swift answers a pickle; Swiftlet answers JSON.

use super::AppState;
use crate::error::{Error, Result};
use common::http::{full, Body};
use common::path::DevicePath;
use http::{Response, StatusCode};
use std::sync::Arc;
use swiftlet_object_store::diskfile::manager::is_suffix;

pub async fn handle(state: Arc<AppState>, path: DevicePath) -> Result<Response<Body>> {
    let suffixes: Vec<String> = match &path.rest {
        Some(rest) => rest.split('-').map(str::to_string).collect(),
        None => vec![],
    };
    if let Some(bad) = suffixes.iter().find(|s| !is_suffix(s)) {
        return Err(Error::BadRequest(format!("invalid suffix {bad:?}")));
    }
    let device = state.devices.get(&path.device).await?;
    let dev = device.clone();
    let partition = path.partition;
    let hashes = device
        .pool
        .run_io(move || {
            dev.check()?;
            dev.manager.get_hashes(partition, &suffixes)
        })
        .await?;
    let body = serde_json::to_vec(&hashes).map_err(|e| Error::Internal(e.to_string()))?;
    let mut resp = Response::new(full(body));
    *resp.status_mut() = StatusCode::OK;
    common::headers::set(resp.headers_mut(), "content-type", "application/json");
    Ok(resp)
}
