//! Image data: `PUT /v2/images/{id}/file` streams the upload into the store (one object
//! up to the threshold, else segments under a manifest) while hashing it (MD5 `checksum`,
//! SHA-512 `os_hash_value`); `GET .../file` streams it back, with a single Range.

use super::store::{self, Uploaded};
use super::swift::SwiftStore;
use super::{api, ImageService};
use crate::auth::Caller;
use crate::error::{Result, ShimError};
use crate::web;
use bytes::Bytes;
use common::http::{empty, stream_body, Body, BodyError};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{BodyDataStream, BodyExt};
use hyper::body::Incoming;
use md5::{Digest, Md5};
use sha2::Sha512;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Segment `n` (1-based) of image `id`; the manifest names the prefix `<id>-`.
pub fn segment_name(id: &str, n: u32) -> String {
    format!("{id}-{n:05}")
}

/// One object being written: its body channel, the PUT in flight, its running MD5.
struct Open {
    tx: mpsc::Sender<std::result::Result<Bytes, std::io::Error>>,
    put: JoinHandle<Result<String>>,
    md5: Md5,
    len: u64,
}

/// Splits an upload into objects of at most `limit` bytes as it arrives.
struct Writer {
    store: Arc<SwiftStore>,
    id: String,
    single: bool,
    limit: u64,
    current: Option<Open>,
    /// Objects started so far (for cleanup after a failure).
    started: u32,
}

impl Writer {
    fn open(&mut self) {
        self.started += 1;
        let name = if self.single { self.id.clone() } else { segment_name(&self.id, self.started) };
        // A small channel: the client's upload waits for the store (backpressure).
        let (tx, rx) = mpsc::channel(4);
        let store = self.store.clone();
        let put = tokio::spawn(async move { store.put(&name, stream_body(rx)).await });
        self.current = Some(Open { tx, put, md5: Md5::new(), len: 0 });
    }

    async fn write(&mut self, mut data: Bytes) -> Result<()> {
        while !data.is_empty() {
            if self.current.is_none() {
                self.open();
            }
            let Some(cur) = self.current.as_mut() else { continue };
            let piece = data.split_to(((self.limit - cur.len) as usize).min(data.len()));
            cur.md5.update(&piece);
            cur.len += piece.len() as u64;
            if cur.tx.send(Ok(piece)).await.is_err() {
                // The PUT ended before its body did: its result says why.
                return Err(match self.current.take() {
                    Some(open) => open.put.await.map_err(|e| ShimError::Internal(e.to_string()))?.err(),
                    None => None,
                }
                .unwrap_or_else(|| ShimError::Store("the store closed the upload early".into())));
            }
            if cur.len == self.limit {
                self.close().await?;
            }
        }
        Ok(())
    }

    /// Ends the current object's body and checks the store's ETag against our MD5.
    async fn close(&mut self) -> Result<()> {
        let Some(open) = self.current.take() else { return Ok(()) };
        drop(open.tx);
        let etag = open.put.await.map_err(|e| ShimError::Internal(format!("upload task: {e}")))??;
        let ours = hex::encode(open.md5.finalize());
        if etag != ours {
            return Err(ShimError::Store(format!("the store's ETag {etag} does not match the data's MD5 {ours}")));
        }
        Ok(())
    }

    /// Aborts the object in flight so the store does not commit a truncated body.
    async fn abort(&mut self) {
        if let Some(mut open) = self.current.take() {
            let _ = open.tx.send(Err(std::io::Error::other("upload aborted"))).await;
            drop(open.tx);
            let _ = open.put.await;
        }
    }
}

/// A single `bytes=` range against `size`, as inclusive ends; `None` for no (or an
/// unparseable) Range header, which means the whole image.
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
    let unsatisfiable = ShimError::RangeNotSatisfiable { size };
    let Some((a, b)) = spec.trim().split_once('-').filter(|_| !spec.contains(',')) else { return Err(unsatisfiable) };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (num(a), num(b)) {
        (None, Some(n)) if a.trim().is_empty() && n > 0 => (size.saturating_sub(n), size.saturating_sub(1)),
        (Some(s), None) if b.trim().is_empty() => (s, size.saturating_sub(1)),
        (Some(s), Some(e)) if s <= e => (s, e.min(size.saturating_sub(1))),
        _ => return Err(unsatisfiable),
    };
    if size == 0 || start >= size {
        return Err(unsatisfiable);
    }
    Ok(Some((start, end)))
}

fn incoming_body(resp: Response<Incoming>) -> Body {
    resp.into_body().map_err(|e| Box::new(e) as BodyError).boxed_unsync()
}

impl ImageService {
    pub(super) async fn upload(
        &self,
        caller: &Caller,
        id: &str,
        h: &HeaderMap,
        body: Incoming,
    ) -> Result<Response<Body>> {
        let img = self.visible(caller, id).await?;
        if !api::can_modify(&img, caller) {
            return Err(ShimError::Forbidden(format!("You are not permitted to upload data for image {id}.")));
        }
        let declared = web::header(h, "content-length").and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.cfg.max_image_size) {
            return Err(ShimError::TooLarge(format!(
                "Image exceeds the storage quota of {} bytes",
                self.cfg.max_image_size
            )));
        }
        let upload_id = web::new_hex_id();
        let (key, uid, now) = (id.to_string(), upload_id.clone(), web::now_secs());
        if !self.db.call(move |c| store::begin_upload(c, &key, &uid, now)).await? {
            return Err(ShimError::Conflict(format!(
                "Image status transition from {} to saving is not allowed",
                img.status
            )));
        }
        // Objects an earlier upload left (cut off by a restart) would join a manifest's
        // segments: clear them first.
        if let Err(e) = self.delete_data(id, 0).await {
            let (key, uid) = (id.to_string(), upload_id.clone());
            self.db.call(move |c| store::abort_upload(c, &key, &uid, web::now_secs())).await?;
            return Err(e);
        }
        let single = declared.is_some_and(|n| n <= self.cfg.large_object_threshold);
        let mut w = Writer {
            store: self.store.clone(),
            id: id.to_string(),
            single,
            limit: if single { u64::MAX } else { self.cfg.segment_size.max(1) },
            current: None,
            started: 0,
        };
        let result = self.receive(&mut w, declared, body).await;
        let (key, uid) = (id.to_string(), upload_id.clone());
        match result {
            Ok(up) => {
                let segments = up.segments;
                let done = self.db.call(move |c| store::finish_upload(c, &key, &uid, &up, web::now_secs())).await?;
                if !done {
                    self.delete_data(id, segments.max(w.started)).await?;
                    return Err(ShimError::Conflict(format!("Image {id} was deleted during the upload.")));
                }
                tracing::info!(image = id, "image data stored");
                Ok(web::status_only(StatusCode::NO_CONTENT))
            }
            Err(e) => {
                w.abort().await;
                if let Err(ce) = self.delete_data(id, w.started).await {
                    tracing::warn!(image = id, error = %ce, "could not remove a failed upload's data");
                }
                self.db.call(move |c| store::abort_upload(c, &key, &uid, web::now_secs())).await?;
                Err(e)
            }
        }
    }

    /// Streams the client's body into the store, hashing as it goes.
    async fn receive(&self, w: &mut Writer, declared: Option<u64>, mut body: Incoming) -> Result<Uploaded> {
        let (mut md5, mut sha, mut size) = (Md5::new(), Sha512::new(), 0u64);
        let idle = Duration::from_secs_f64(self.cfg.client_timeout);
        loop {
            let frame = match tokio::time::timeout(idle, body.frame()).await {
                Err(_) => return Err(ShimError::ClientGone("no data within the client timeout".into())),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(ShimError::ClientGone(e.to_string())),
                Ok(Some(Ok(f))) => f,
            };
            let Ok(data) = frame.into_data() else { continue };
            size += data.len() as u64;
            if size > self.cfg.max_image_size || declared.is_some_and(|n| size > n) {
                return Err(ShimError::TooLarge("Image data exceeds the declared or allowed size".into()));
            }
            md5.update(&data);
            sha.update(&data);
            w.write(data).await?;
        }
        if declared.is_some_and(|n| n != size) {
            return Err(ShimError::ClientGone(format!("received {size} of {declared:?} bytes")));
        }
        if w.started == 0 {
            // An empty image is one empty object.
            w.single = true;
            w.open();
        }
        w.close().await?;
        let segments = if w.single { 0 } else { w.started };
        if !w.single {
            self.store.put_manifest(&w.id, &format!("{}-", w.id)).await?;
        }
        Ok(Uploaded {
            size,
            md5: hex::encode(md5.finalize()),
            sha512: hex::encode(sha.finalize()),
            segments,
            segment_size: if w.single { 0 } else { w.limit },
        })
    }

    pub(super) async fn download(&self, caller: &Caller, id: &str, h: &HeaderMap) -> Result<Response<Body>> {
        let img = self.visible(caller, id).await?;
        if img.status != "active" {
            // Glance answers "no data yet" with an empty 204.
            return Ok(web::status_only(StatusCode::NO_CONTENT));
        }
        let size = img.size.unwrap_or(0);
        let range = if size == 0 { None } else { parse_range(web::header(h, "range"), size)? };
        let (a, b) = range.unwrap_or((0, size.saturating_sub(1)));
        let len = if size == 0 { 0 } else { b - a + 1 };
        let body = if size == 0 {
            empty()
        } else if img.segments == 0 {
            let resp = self.store.get(id, range).await?;
            if !resp.status().is_success() || content_length(&resp) != Some(len) {
                return Err(ShimError::Store(format!("GET {id}: {} (expected {len} bytes)", resp.status())));
            }
            incoming_body(resp)
        } else {
            self.segmented_body(&img, range, a, b, len).await?
        };
        let mut resp = Response::new(body);
        let hm = resp.headers_mut();
        hm.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        hm.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
        if range.is_some() {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {a}-{b}/{size}")) {
                resp.headers_mut().insert(http::header::CONTENT_RANGE, v);
            }
        } else if let Some(v) = img.checksum.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
            resp.headers_mut().insert("content-md5", v);
        }
        Ok(resp)
    }

    /// A segmented image through its manifest when the proxy expands it (a dynamic large
    /// object); otherwise the service reads the segments itself, in order.
    async fn segmented_body(
        &self,
        img: &store::Image,
        range: Option<(u64, u64)>,
        a: u64,
        b: u64,
        len: u64,
    ) -> Result<Body> {
        let resp = self.store.get(&img.id, range).await?;
        if resp.status().is_success() && content_length(&resp) == Some(len) {
            tracing::debug!(image = %img.id, "the proxy expanded the manifest");
            return Ok(incoming_body(resp));
        }
        tracing::debug!(image = %img.id, status = %resp.status(), "manifest not expanded: reading the segments");
        let seg = img.segment_size.max(1);
        let parts: Vec<(String, u64, u64)> = (a / seg..=b / seg)
            .map(|k| {
                let start = k * seg;
                (segment_name(&img.id, k as u32 + 1), a.max(start) - start, b.min(start + seg - 1) - start)
            })
            .collect();
        let store = self.store.clone();
        let stream = futures::stream::iter(parts)
            .then(move |(name, x, y)| {
                let store = store.clone();
                async move {
                    let resp = store.get(&name, Some((x, y))).await?;
                    if !resp.status().is_success() || content_length(&resp) != Some(y - x + 1) {
                        return Err(ShimError::Store(format!("GET segment {name}: {}", resp.status())));
                    }
                    Ok(BodyDataStream::new(resp.into_body()).map_err(|e| Box::new(e) as BodyError))
                }
            })
            .map(|r| match r {
                Ok(s) => s.left_stream(),
                Err(e) => futures::stream::once(async move { Err(Box::new(e) as BodyError) }).right_stream(),
            })
            .flatten();
        Ok(stream_body(stream))
    }

    /// Removes an image's objects: the manifest (or single object) first, so no reader
    /// ever follows a manifest to missing segments, then every segment.
    pub(crate) async fn delete_data(&self, id: &str, segments_hint: u32) -> Result<()> {
        let mut names: BTreeSet<String> = (1..=segments_hint).map(|n| segment_name(id, n)).collect();
        names.extend(self.store.list(&format!("{id}-")).await?.into_iter().map(|(n, _)| n));
        self.store.delete(id).await?;
        for n in names {
            self.store.delete(&n).await?;
        }
        Ok(())
    }
}

fn content_length(resp: &Response<Incoming>) -> Option<u64> {
    web::header(resp.headers(), "content-length").and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10).unwrap(), None);
        assert_eq!(parse_range(Some("bytes=2-4"), 10).unwrap(), Some((2, 4)));
        assert_eq!(parse_range(Some("bytes=5-"), 10).unwrap(), Some((5, 9)));
        assert_eq!(parse_range(Some("bytes=-3"), 10).unwrap(), Some((7, 9)));
        assert_eq!(parse_range(Some("bytes=-30"), 10).unwrap(), Some((0, 9)));
        assert_eq!(parse_range(Some("bytes=8-100"), 10).unwrap(), Some((8, 9)));
        assert_eq!(parse_range(Some("items=1-2"), 10).unwrap(), None);
        for bad in ["bytes=10-", "bytes=4-2", "bytes=1-2,4-5", "bytes=-0", "bytes=x-1"] {
            assert!(matches!(parse_range(Some(bad), 10), Err(ShimError::RangeNotSatisfiable { size: 10 })), "{bad}");
        }
        assert_eq!(segment_name("abc", 7), "abc-00007");
    }
}
