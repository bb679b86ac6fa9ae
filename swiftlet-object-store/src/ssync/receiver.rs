//! The receiving side of SSYNC: answer the missing check, then apply the frames that are
//! newer than the local state (newest timestamp wins, whatever order frames arrive in).

use super::{decode_header, ByteSource, FrameHeader, FrameOp, Offer, ReceiveSummary, Want, MAX_FRAME_HEADER};
use crate::devices::Device;
use crate::diskfile::checksum::Algorithm;
use crate::diskfile::manager::is_hash;
use crate::diskfile::metadata::{MetadataExt, ETAG};
use crate::diskfile::{DiskFile, DiskFileManager, FileKind, FileSet};
use crate::error::{Result, StoreError};
use bytes::BytesMut;
use std::sync::Arc;

/// For each offer, what this device lacks (blocking).
pub fn missing_check(manager: &DiskFileManager, partition: u32, offers: &[Offer]) -> Result<Vec<Want>> {
    let mut wants = Vec::new();
    for offer in offers.iter().filter(|o| is_hash(&o.hash)) {
        let local = manager.diskfile_for_hash(partition, &offer.hash).files()?;
        let data = local.newest_timestamp().is_none_or(|t| offer.timestamp > t);
        let have_data_after = if data { !offer.deleted } else { local.data.is_some() };
        let local_meta = local.meta.or(local.data).map(|f| f.timestamp);
        let meta = have_data_after && offer.meta.is_some_and(|m| data || local_meta.is_none_or(|l| m > l));
        if data || meta {
            wants.push(Want { hash: offer.hash.clone(), data, meta });
        }
    }
    Ok(wants)
}

/// The hash of the `/a/c/o` name stored in metadata.
fn hash_of_name(manager: &DiskFileManager, name: &str) -> Option<String> {
    let mut it = name.strip_prefix('/')?.splitn(3, '/');
    let (a, c, o) = (it.next()?, it.next()?, it.next()?);
    Some(manager.object_hash(a, c, o))
}

/// Why a frame cannot be applied, if it is malformed.
fn validate(manager: &DiskFileManager, h: &FrameHeader) -> Option<String> {
    if !is_hash(&h.hash) {
        return Some(format!("bad hash {:?}", h.hash));
    }
    if h.op != FrameOp::Put && h.length != 0 {
        return Some(format!("{:?} frame with a body", h.op));
    }
    if h.metadata.timestamp().ok() != Some(h.timestamp) {
        return Some(format!("{}: metadata timestamp differs from frame", h.hash));
    }
    match h.metadata.name() {
        Some(name) if hash_of_name(manager, name).as_deref() != Some(h.hash.as_str()) => {
            Some(format!("{}: name {name:?} does not hash to it", h.hash))
        }
        None if h.op != FrameOp::Delete => Some(format!("{}: no name in metadata", h.hash)),
        _ => None,
    }
}

/// True if the frame is newer than what `local` holds.
fn is_newer(h: &FrameHeader, local: &FileSet) -> bool {
    match h.op {
        FrameOp::Put | FrameOp::Delete => local.newest_timestamp().is_none_or(|t| h.timestamp > t),
        FrameOp::Post => match local.data {
            Some(d) => h.timestamp > d.timestamp && local.meta.is_none_or(|m| h.timestamp > m.timestamp),
            None => false,
        },
    }
}

/// Reads frames from `reader` and applies them on `device`. A frame that fails its checks
/// is counted in the summary and the stream goes on; a broken stream ends it with an error.
pub async fn receive_updates<S: ByteSource>(
    device: &Arc<Device>,
    partition: u32,
    reader: &mut S,
    chunk: usize,
) -> Result<ReceiveSummary, S::Error> {
    let mut summary = ReceiveSummary::default();
    let mut buf = BytesMut::new();
    loop {
        buf.clear();
        if !reader.fill(&mut buf, 4).await? {
            if buf.is_empty() {
                return Ok(summary);
            }
            return Err(StoreError::Truncated.into());
        }
        let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len > MAX_FRAME_HEADER {
            return Err(StoreError::BadFrame(format!("SSYNC frame header of {len} bytes")).into());
        }
        buf.clear();
        if !reader.fill(&mut buf, len).await? {
            return Err(StoreError::Truncated.into());
        }
        let header = decode_header(&buf)?;
        let df = device.manager.diskfile_for_hash(partition, &header.hash);
        let problem = validate(&device.manager, &header);
        let wanted = match problem {
            Some(_) => false,
            None => {
                let (d, h) = (df.clone(), header.clone());
                device.pool.run_io(move || Ok::<_, StoreError>(is_newer(&h, &d.files()?))).await?
            }
        };
        if !wanted {
            drain(reader, header.length, chunk).await?;
            match problem {
                Some(p) => summary.failed.push(p),
                None => summary.skipped += 1,
            }
            continue;
        }
        match apply(device, &df, header, reader, chunk).await? {
            Ok(()) => summary.applied += 1,
            Err(refused) => summary.failed.push(refused),
        }
    }
}

async fn drain<S: ByteSource>(reader: &mut S, mut left: u64, chunk: usize) -> Result<(), S::Error> {
    while left > 0 {
        let piece = reader.next(chunk.min(left as usize)).await?.ok_or(StoreError::Truncated)?;
        left -= piece.len() as u64;
    }
    Ok(())
}

/// Writes one frame's file. The inner `Err` is why the frame was refused (its body does
/// not match its metadata); nothing of it was committed.
async fn apply<S: ByteSource>(
    device: &Arc<Device>,
    df: &DiskFile,
    h: FrameHeader,
    reader: &mut S,
    chunk: usize,
) -> Result<Result<(), String>, S::Error> {
    let df = df.clone();
    match h.op {
        FrameOp::Delete | FrameOp::Post => {
            let kind = if h.op == FrameOp::Delete { FileKind::Tombstone } else { FileKind::Meta };
            let superseded = device.pool.run_io(move || df.write_marker_unsynced(kind, h.metadata)).await?;
            device.sync_then_remove(superseded).await?;
            Ok(Ok(()))
        }
        FrameOp::Put => {
            let length = h.length;
            let alg = Algorithm::stored_in(&h.metadata).map(|(alg, _)| alg).unwrap_or_default();
            let mut writer = device.pool.run_io(move || df.writer(Some(length)).map(|w| w.with_checksum(alg))).await?;
            let mut left = length;
            while left > 0 {
                let piece = match reader.next(chunk.min(left as usize)).await {
                    Ok(Some(piece)) => piece,
                    failed => {
                        device.pool.dispose(writer);
                        return Err(failed.err().unwrap_or_else(|| StoreError::Truncated.into()));
                    }
                };
                left -= piece.len() as u64;
                let mut w = writer;
                writer = device.pool.run_io(move || w.write(&piece).map(|_| w)).await?;
            }
            let committed = device
                .pool
                .run_io(move || {
                    let (mut w, mut metadata) = (writer, h.metadata);
                    if metadata.get(ETAG) != w.etag().as_ref() {
                        return Ok(Err(format!("{}: body does not match its ETag", h.hash)));
                    }
                    // A copy sent without a checksum gets one, so readers and the auditor can check it.
                    let (key, got) = w.checksum();
                    if *metadata.entry(key.into()).or_insert_with(|| got.clone()) != got {
                        return Ok(Err(format!("{}: body does not match its {key}", h.hash)));
                    }
                    if metadata.content_length().ok() != Some(length) {
                        return Ok(Err(format!("{}: Content-Length differs from frame", h.hash)));
                    }
                    w.put(&metadata)?;
                    // Fsynced: the commit removes what it superseded itself (nothing is left).
                    w.commit(h.timestamp, FileKind::Data).and_then(|superseded| superseded.remove()).map(Ok)
                })
                .await?;
            Ok(committed)
        }
    }
}
