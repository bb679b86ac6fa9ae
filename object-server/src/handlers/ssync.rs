//! SSYNC `/<dev>/<part>`: the receiving end of replication pushes (the protocol and its
//! logic are the store's `ssync` module; this handler feeds it the request body).

use super::stream::BodyReader;
use super::AppState;
use crate::error::{Error, Result};
use bytes::BytesMut;
use common::http::{full, Body};
use common::path::DevicePath;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use swiftlet_object_store::ssync::{self, ByteSource, Offer, PHASE_CHECK, PHASE_HEADER, PHASE_UPDATES};

/// The largest missing-check body accepted (about 100 bytes per offered object).
const MAX_CHECK_BODY: usize = 64 << 20;

pub async fn handle(state: Arc<AppState>, req: Request<Incoming>, path: DevicePath) -> Result<Response<Body>> {
    if path.rest.is_some() {
        return Err(Error::BadRequest("SSYNC takes /<device>/<partition>".into()));
    }
    let phase = common::headers::get(req.headers(), PHASE_HEADER).unwrap_or("").to_string();
    let device = state.devices.get(&path.device).await?;
    let dev = device.clone();
    device.pool.run_io(move || dev.check()).await?;
    let mut reader = BodyReader::new(req.into_body(), state.config.client_timeout());
    let chunk = state.config.disk_chunk_size.max(4096);
    let body = match phase.as_str() {
        PHASE_CHECK => {
            let mut buf = BytesMut::new();
            if reader.fill(&mut buf, MAX_CHECK_BODY + 1).await? {
                return Err(Error::TooLarge);
            }
            let offers: Vec<Offer> =
                serde_json::from_slice(&buf).map_err(|e| Error::BadRequest(format!("bad SSYNC offers: {e}")))?;
            let manager = device.manager.clone();
            let partition = path.partition;
            let wants = device.pool.run_io(move || ssync::missing_check(&manager, partition, &offers)).await?;
            serde_json::to_vec(&wants)
        }
        PHASE_UPDATES => {
            let summary = ssync::receive_updates(&device, path.partition, &mut reader, chunk).await?;
            serde_json::to_vec(&summary)
        }
        other => return Err(Error::BadRequest(format!("unknown {PHASE_HEADER} {other:?}"))),
    }
    .map_err(|e| Error::Internal(e.to_string()))?;
    let mut resp = Response::new(full(body));
    *resp.status_mut() = StatusCode::OK;
    common::headers::set(resp.headers_mut(), "content-type", "application/json");
    Ok(resp)
}
