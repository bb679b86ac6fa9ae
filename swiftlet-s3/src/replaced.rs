//! The segments a replaced multipart object leaves behind. Any write to a key (PutObject,
//! CopyObject, a new CompleteMultipartUpload) supersedes the multipart object there; its
//! parts in `<bucket>+segments` are then garbage. Before the write we read which segments
//! the old manifest references; after it succeeds we delete those, and only those that
//! live under the old upload's own prefix (`<key>/<upload id>/`), so a segment some other
//! manifest names is never touched. A versioned bucket keeps the old object, so nothing
//! is deleted there.

use crate::buckets::{head_container, segments_container, versioning_status};
use crate::context::S3Ctx;
use crate::headers::SYSMETA_UPLOAD_ID;
use crate::swift::read_small;
use crate::uploads::is_upload_id;
use common::headers::get;
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// How many segment deletes run at once.
const PARALLEL_DELETES: usize = 8;

/// A multipart object about to be replaced: its upload and the segments to delete.
#[derive(Debug)]
pub(crate) struct Replaced {
    pub upload_id: String,
    pub segments: Vec<String>,
}

/// The multipart object at the request's key, unless it was made by `keep_upload` (a
/// retried Complete replaces nothing). Failures to read it only mean nothing is cleaned.
pub(crate) async fn before_write(ctx: &S3Ctx<'_>, keep_upload: Option<&str>) -> Option<Replaced> {
    // A bucket that never had a multipart upload has no segments container (it is made
    // by CreateMultipartUpload): the cached lookup spares plain writes the object HEAD.
    let seg = segments_container(ctx.bucket());
    if let Ok(None) = ctx.swift.api.container_info(&ctx.swift.ctx, &ctx.swift.account, &seg).await {
        return None;
    }
    let head = ctx.swift.small(Method::HEAD, Some(ctx.bucket()), Some(ctx.key()), &[], HeaderMap::new()).await.ok()?;
    if !head.status.is_success() || !is_slo(&head.headers) {
        return None;
    }
    let upload_id = get(&head.headers, SYSMETA_UPLOAD_ID).filter(|u| is_upload_id(u))?.to_string();
    if keep_upload == Some(upload_id.as_str()) {
        return None;
    }
    let q = [("multipart-manifest", "get")];
    let resp = ctx.swift.call(Method::GET, Some(ctx.bucket()), Some(ctx.key()), &q, HeaderMap::new(), empty()).await;
    // The object may have changed since the HEAD: only that same upload's manifest counts.
    if !resp.status().is_success()
        || !is_slo(resp.headers())
        || get(resp.headers(), SYSMETA_UPLOAD_ID) != Some(upload_id.as_str())
    {
        return None;
    }
    let manifest = read_small(resp).await.ok()?;
    let segments = owned_segments(&manifest.body, ctx.bucket(), ctx.key(), &upload_id);
    Some(Replaced { upload_id, segments })
}

fn empty() -> common::http::Body {
    common::http::empty()
}

fn is_slo(h: &HeaderMap) -> bool {
    get(h, "x-static-large-object").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The object names (in `<bucket>+segments`) a stored manifest references under the
/// upload's prefix; anything else it names is left alone.
pub(crate) fn owned_segments(manifest: &[u8], bucket: &str, key: &str, upload_id: &str) -> Vec<String> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(manifest) else {
        return Vec::new();
    };
    let container_prefix = format!("/{}/", segments_container(bucket));
    let upload_prefix = format!("{key}/{upload_id}/");
    let mut out: Vec<String> = items
        .iter()
        .filter_map(|item| item.get("name").and_then(Value::as_str))
        .filter_map(|name| name.strip_prefix(&container_prefix))
        .filter(|obj| obj.strip_prefix(&upload_prefix).is_some_and(|rest| !rest.is_empty() && !rest.contains('/')))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// After the write that replaced `old` succeeded: deletes its segments, unless the bucket
/// keeps old versions.
pub(crate) async fn after_write(ctx: &S3Ctx<'_>, old: Option<Replaced>) {
    let Some(old) = old else { return };
    match head_container(ctx).await {
        Ok(h) if versioning_status(&h).is_none() => {}
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, upload = %old.upload_id, "not deleting replaced segments: bucket unreadable");
            return;
        }
    }
    tracing::debug!(upload = %old.upload_id, count = old.segments.len(), "deleting a replaced object's segments");
    delete_segments(ctx, old.segments).await;
}

/// Deletes the named objects of `<bucket>+segments`, a few at a time; failures are only
/// logged (the data is garbage either way).
pub(crate) async fn delete_segments(ctx: &S3Ctx<'_>, names: Vec<String>) {
    for batch in names.chunks(PARALLEL_DELETES) {
        futures::future::join_all(batch.iter().map(|name| delete_segment(ctx, name))).await;
    }
}

async fn delete_segment(ctx: &S3Ctx<'_>, name: &str) {
    let seg = segments_container(ctx.bucket());
    match ctx.swift.small(Method::DELETE, Some(&seg), Some(name), &[], HeaderMap::new()).await {
        Ok(r) if r.status.is_success() || r.status == StatusCode::NOT_FOUND => {}
        Ok(r) => tracing::warn!(segment = %name, status = %r.status, "could not delete a segment"),
        Err(e) => tracing::warn!(segment = %name, error = %e, "could not delete a segment"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_uploads_own_segments() {
        let up = "0123456789abcdef0123456789abcdef";
        let manifest = serde_json::json!([
            {"name": format!("/b+segments/k/x/{up}/1"), "bytes": 5},
            {"name": format!("/b+segments/k/x/{up}/2"), "bytes": 5},
            {"name": "/b+segments/k/x/ffffffffffffffffffffffffffffffff/1", "bytes": 5},
            {"name": format!("/other+segments/k/x/{up}/3"), "bytes": 5},
            {"name": format!("/b/k/x/{up}/4"), "bytes": 5},
            {"name": format!("/b+segments/k/x/{up}/5/deeper"), "bytes": 5},
            {"data": "aGVsbG8="},
        ])
        .to_string();
        let got = owned_segments(manifest.as_bytes(), "b", "k/x", up);
        assert_eq!(got, vec![format!("k/x/{up}/1"), format!("k/x/{up}/2")]);
        assert!(owned_segments(b"not json", "b", "k", up).is_empty());
        assert!(owned_segments(b"{}", "b", "k", up).is_empty());
    }
}
