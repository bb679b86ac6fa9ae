//! PUT: check, stream the body to a temp file, commit, then update the container.
//!
//! The checks (409 for an older timestamp, 412 for `If-None-Match`) run before the body is
//! read, so a client using `Expect: 100-continue` gets the final status instead of a 100.
//! The body is written in `disk_chunk_size` pieces on the device pool while the next piece
//! arrives from the network (two buffers, so memory stays constant for any size). A small
//! body sent without `Expect` (what the proxy sends for small objects) is read whole first
//! and costs one pool job: checks, temp file, write, rename; its fsyncs are left to the
//! device's group sync, which concurrent small PUTs share (see `common::group_sync`).

use super::after_write::{after_write, apply_overrides, Committed, Expiry, WriteRequest};
use super::headers::{self, Match};
use super::stream::BodyReader;
use super::targets;
use super::{AppState, ObjectPath, SMALL_BODY};
use crate::error::{Error, Result};
use bytes::BytesMut;
use common::constraints::MAX_FILE_SIZE;
use common::headers::{get, set};
use common::http::{empty, Body};
use common::metadata::Metadata;
use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::sync::Arc;
use swiftlet_object_store::diskfile::metadata::{title_case, CONTENT_LENGTH, CONTENT_TYPE, ETAG, NAME, X_DELETE_AT};
use swiftlet_object_store::diskfile::{DiskFile, DiskFileWriter, FileKind, ObjectState, Superseded};
use swiftlet_object_store::pool::{DevicePool, JobHandle};
use swiftlet_object_store::ssync::ByteSource;
use swiftlet_object_store::{Device, UpdateOp};

type WriteJob = JobHandle<Result<(DiskFileWriter, BytesMut)>>;

pub async fn handle(state: Arc<AppState>, req: Request<Incoming>, path: ObjectPath) -> Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    let h = &parts.headers;
    let timestamp = headers::required_timestamp(h)?;
    let length = headers::message_length(h)?;
    let content_type = h
        .get(http::header::CONTENT_TYPE)
        .map(headers::text_of)
        .ok_or_else(|| Error::BadRequest("No content type".into()))?;
    let delete_at = headers::delete_at(h, timestamp)?;
    headers::check_object_metadata(h)?;
    let client_etag = get(h, "etag").map(|e| headers::normalize_etag(e).to_ascii_lowercase());
    let etag_in_trailer = get(h, "trailer")
        .is_some_and(|t| t.split(',').any(|n| n.trim().eq_ignore_ascii_case(common::http::ETAG_TRAILER)));
    let if_none_match = Match::parse(h, "if-none-match");
    // A chunked upload may still announce its size, so space can be reserved up front.
    // (A size no object may have is no hint at all.)
    let reserve = length.or_else(|| {
        get(h, "x-backend-obj-content-length").and_then(|v| v.parse().ok()).filter(|n| *n <= MAX_FILE_SIZE)
    });

    let expects_continue = get(h, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    // A small body sent without waiting for a 100 is read first, so the whole write is
    // one pool job instead of two (each job is two thread wakeups).
    let small = length.filter(|l| *l <= SMALL_BODY && !expects_continue);

    // Where the updates go is checked before anything is written.
    let targets = targets::checked(&state, h).await?;
    let device = state.devices.get(&path.device).await?;
    let prepare = Prepare {
        df: device.manager.diskfile(path.partition, &path.account, &path.container, &path.obj),
        device: device.clone(),
        timestamp,
        if_none_match,
        reserve: if small.is_some() { None } else { reserve },
        etag_in_trailer,
    };
    let mut metadata = headers::request_metadata(h, &state.allowed_headers, true);
    metadata.insert(NAME.into(), path.name());
    metadata.extend([headers::timestamp_entry(timestamp)]);
    metadata.insert(CONTENT_TYPE.into(), content_type.clone());
    if let Some(at) = delete_at {
        metadata.insert(X_DELETE_AT.into(), at.to_string());
    }
    let finish = Finish { metadata, length, client_etag, timestamp };
    let mut reader = BodyReader::new(body, state.config.client_timeout());
    let (etag, size, orig) = match small {
        Some(len) => {
            let mut buf = BytesMut::with_capacity(len as usize);
            reader.fill(&mut buf, len as usize).await?;
            let (etag, size, orig, superseded) = device
                .pool
                .run_io(move || -> Result<_> {
                    let (w, orig) = prepare.run()?;
                    let mut w = w.defer_sync();
                    w.write(&buf)?;
                    let (etag, size, superseded) = finish.seal(w, &HeaderMap::new())?;
                    Ok((etag, size, orig, superseded))
                })
                .await?;
            // The old version goes only once the new one is durable.
            device.sync_then_remove(superseded).await?;
            (etag, size, orig)
        }
        None => {
            let (writer, orig) = device.pool.run_io(move || prepare.run()).await?;
            let (etag, size) = stream_to_disk(&state, &device.pool, writer, reader, finish).await?;
            (etag, size, orig)
        }
    };

    // The object is durable; now the bookkeeping that may lag behind it.
    let mut listing = BTreeMap::from([
        ("x-size".to_string(), size.to_string()),
        ("x-content-type".to_string(), content_type),
        ("x-timestamp".to_string(), timestamp.internal()),
        ("x-etag".to_string(), etag.clone()),
    ]);
    apply_overrides(h.iter().map(|(k, v)| (k.as_str(), headers::text_of(v))), &mut listing);
    let done = Committed {
        listing: Some((UpdateOp::Put, listing)),
        expires: delete_at.map(|at| Expiry { at, size: size.to_string(), data_timestamp: timestamp }),
        expired_before: orig.as_ref().and_then(|m| m.get(X_DELETE_AT)).and_then(|v| v.parse::<u64>().ok()),
    };
    after_write(&state, &device, WriteRequest { headers: h, targets }, &path, done).await;

    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::CREATED;
    set(resp.headers_mut(), "etag", &format!("\"{etag}\""));
    set(resp.headers_mut(), "content-length", "0");
    Ok(resp)
}

/// What the first write job needs: the checks against the object on disk, then a temp file.
struct Prepare {
    df: DiskFile,
    device: Arc<Device>,
    timestamp: common::Timestamp,
    if_none_match: Option<Match>,
    reserve: Option<u64>,
    etag_in_trailer: bool,
}

impl Prepare {
    /// 412 for `If-None-Match`, 409 for an older timestamp; else the writer and the
    /// current object's metadata. Runs on the pool.
    fn run(self) -> Result<(DiskFileWriter, Option<Metadata>)> {
        self.device.check()?;
        let (orig_ts, orig) = match self.df.open(self.timestamp, false)? {
            ObjectState::Exists(obj) => (Some(obj.data_timestamp), Some(obj.metadata)),
            ObjectState::Deleted { timestamp } | ObjectState::Expired { timestamp, .. } => (Some(timestamp), None),
            ObjectState::Missing => (None, None),
        };
        if let (Some(m), Some(existing)) = (&self.if_none_match, &orig) {
            let etag = existing.get(ETAG).map(String::as_str).unwrap_or("");
            if m.star() || m.matches(etag) {
                return Err(Error::PreconditionFailed("Precondition Failed".into()));
            }
        }
        if let Some(t) = orig_ts.filter(|t| *t >= self.timestamp) {
            return Err(Error::Conflict { timestamp: Some(t) });
        }
        let writer = self.df.writer(self.reserve)?;
        Ok((if self.etag_in_trailer { writer.without_md5() } else { writer }, orig))
    }
}

/// System metadata a body's trailer may carry at most (footers), and the longest value.
const MAX_FOOTERS: usize = 8;
const MAX_FOOTER_VALUE: usize = 256;

/// What the last write job needs to seal the object.
struct Finish {
    metadata: Metadata,
    length: Option<u64>,
    client_etag: Option<String>,
    timestamp: common::Timestamp,
}

impl Finish {
    /// Checks the body, stores metadata, fsyncs and commits. Runs on the pool. `trailers`
    /// are the body's: the ETag the sender put there, for a writer that skipped MD5, and
    /// footers, system metadata known only once the body was sent (an S3 trailing
    /// checksum). Returns the ETag, the size and what the commit superseded (for a
    /// deferred writer, to remove after the group sync; nothing for one that fsynced).
    fn seal(mut self, mut w: DiskFileWriter, trailers: &HeaderMap) -> Result<(String, u64, Superseded)> {
        let trailer_etag = get(trailers, common::http::ETAG_TRAILER).map(|v| v.trim().to_ascii_lowercase());
        let footers: Vec<_> = trailers.iter().filter(|(k, _)| headers::is_sys_meta(k.as_str())).collect();
        if footers.len() > MAX_FOOTERS || footers.iter().any(|(_, v)| v.len() > MAX_FOOTER_VALUE) {
            return Err(Error::BadRequest("Too many or too long metadata footers".into()));
        }
        for (k, v) in footers {
            self.metadata.insert(title_case(k.as_str()), headers::text_of(v));
        }
        let size = w.bytes_written();
        if self.length.is_some_and(|l| l != size) {
            return Err(Error::ClientDisconnect);
        }
        let etag = match w.etag() {
            Some(etag) => etag,
            None => trailer_etag
                .filter(|e| e.len() == 32 && e.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| Error::BadRequest("Missing or malformed ETag trailer".into()))?,
        };
        if self.client_etag.as_ref().is_some_and(|e| *e != etag) {
            return Err(Error::Unprocessable("Unprocessable Entity".into()));
        }
        self.metadata.insert(CONTENT_LENGTH.into(), size.to_string());
        self.metadata.insert(ETAG.into(), etag.clone());
        let (checksum_key, checksum) = w.checksum();
        self.metadata.insert(checksum_key.into(), checksum);
        w.put(&self.metadata)?;
        let superseded = w.commit(self.timestamp, FileKind::Data)?;
        Ok((etag, size, superseded))
    }
}

/// Streams the body into `writer`, one pool job per chunk while the next chunk arrives.
async fn stream_to_disk(
    state: &AppState,
    pool: &DevicePool,
    writer: DiskFileWriter,
    mut reader: BodyReader,
    finish: Finish,
) -> Result<(String, u64)> {
    let chunk = state.config.disk_chunk_size.max(4096);
    let mut idle = Some((writer, BytesMut::new()));
    let mut busy: Option<WriteJob> = None;
    let mut buf = BytesMut::with_capacity(chunk.min(finish.length.unwrap_or(u64::MAX) as usize).max(1));
    loop {
        let read = match reader.fill(&mut buf, chunk).await {
            Ok(_) if reader.total() > MAX_FILE_SIZE => Err(Error::TooLarge),
            r => r,
        };
        let more = match read {
            Ok(more) => more,
            Err(e) => {
                // An in-flight job drops its writer on the pool; an idle one is sent there.
                if let Some((w, _)) = idle.take() {
                    pool.dispose(w);
                }
                return Err(e);
            }
        };
        let (mut w, spare) = match (busy.take(), idle.take()) {
            (Some(job), _) => job.await??,
            (None, Some(pair)) => pair,
            (None, None) => return Err(Error::Internal("writer lost".into())),
        };
        if !more {
            let trailers = reader.trailers().cloned().unwrap_or_default();
            return pool
                .run_io(move || {
                    w.write(&buf)?;
                    // This writer fsynced: its commit already removed what it superseded.
                    let (etag, size, superseded) = finish.seal(w, &trailers)?;
                    superseded.remove()?;
                    Ok((etag, size))
                })
                .await;
        }
        let full = std::mem::replace(&mut buf, spare);
        buf.clear();
        busy = Some(
            pool.spawn(move || {
                let mut full = full;
                w.write(&full)?;
                full.clear();
                Ok((w, full))
            })
            .await?,
        );
    }
}
