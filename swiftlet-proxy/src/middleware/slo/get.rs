//! SLO reads: GET and HEAD of a manifest answer for the whole large object (its size,
//! its MD5-of-MD5s ETag, ranges and part numbers across segments); `multipart-manifest=get`
//! returns the manifest itself (`format=raw` in the form a PUT accepts back).

use super::manifest::{self as manifest, StoredSegment};
use crate::context::Ctx;
use crate::controllers::object_headers::clean_content_type;
use crate::error::{ProxyError, Result};
use crate::headers::append_csv;
use crate::middleware::large_object::pump::{self as lo, Chain, Piece, Segments};
use crate::middleware::large_object::ranges::{self, Ranges};
use crate::pipeline::step::Next;
use crate::pipeline::subrequest::{self as sub, query_param};
use crate::request::ProxyRequest;
use crate::route::Route;
use bytes::Bytes;
use common::headers::{get, set};
use common::http::Body;
use futures::future::BoxFuture;
use http::{HeaderMap, Method, Response, StatusCode};
use md5::{Digest, Md5};
use std::collections::VecDeque;
use std::sync::Arc;

pub(crate) const SYSMETA_ETAG: &str = "x-object-sysmeta-slo-etag";
pub(crate) const SYSMETA_SIZE: &str = "x-object-sysmeta-slo-size";
/// Nested manifests deeper than this are refused (Swift's limit).
const MAX_DEPTH: usize = 10;
/// A stored manifest is at most `max_manifest_size` of JSON; leave room for what we add.
const MANIFEST_READ_LIMIT: usize = 32 << 20;

pub(crate) fn is_slo(h: &HeaderMap) -> bool {
    get(h, "x-static-large-object").is_some_and(common::headers::is_true)
}

/// GET or HEAD of an object through SLO: a manifest answers for the whole large object.
pub(crate) async fn get_or_head(mut req: ProxyRequest, next: Next) -> Result<Response<Body>> {
    let query = req.query().map(str::to_string);
    let manifest_get = query_param(query.as_deref(), "multipart-manifest").as_deref() == Some("get");
    let raw = manifest_get && query_param(query.as_deref(), "format").as_deref() == Some("raw");
    if !manifest_get {
        // The object server answers conditionals against the SLO's ETag and ignores a
        // Range on a manifest (we apply it across the segments).
        append_csv(req.headers_mut(), "x-backend-etag-is-at", SYSMETA_ETAG);
        append_csv(req.headers_mut(), "x-backend-ignore-range-if-metadata-present", "x-static-large-object");
    }
    // What the large-object answer needs of the request, kept as it goes down.
    let (method, uri, range) = (req.method().clone(), req.head.uri.clone(), req.headers().get("range").cloned());
    let ctx = req.ctx.sub("SLO");
    let account = req.route.account().map(str::to_string);
    let is_object = matches!(req.route, Route::Object { .. });
    req.body = common::http::empty();
    let first = next.run(req).await?;
    if !is_slo(first.headers()) {
        return Ok(first);
    }
    if manifest_get {
        return manifest_response(first, raw).await;
    }
    let account = match account {
        Some(account) if is_object => account,
        _ => return Err(ProxyError::NotFound),
    };
    let part_num = match query_param(query.as_deref(), "part-number") {
        None => None,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ if method == Method::HEAD => return Ok(sub::status_only(StatusCode::BAD_REQUEST)),
            _ => return Err(ProxyError::BadRequest("Part number must be an integer greater than 0".into())),
        },
    };
    let (fparts, fbody) = first.into_parts();
    let status = fparts.status;
    let mut headers = ranges::response_headers(&fparts.headers);
    clean_content_type(&mut headers);
    if let Some(e) = fparts.headers.get("etag") {
        headers.insert("x-manifest-etag", e.clone());
    }
    let sys_etag = get(&fparts.headers, SYSMETA_ETAG).map(str::to_string);
    let sys_size = get(&fparts.headers, SYSMETA_SIZE).and_then(|s| s.parse::<u64>().ok());
    if status == StatusCode::NOT_MODIFIED || status == StatusCode::PRECONDITION_FAILED {
        if let Some(e) = &sys_etag {
            set(&mut headers, "etag", &format!("\"{e}\""));
        }
        let mut r = sub::status_only(status);
        *r.headers_mut() = headers;
        set(r.headers_mut(), "content-length", "0");
        return Ok(r);
    }
    if !status.is_success() {
        let mut r = Response::new(fbody);
        *r.status_mut() = status;
        *r.headers_mut() = fparts.headers;
        return Ok(r);
    }
    let legacy = sys_etag.is_none() || sys_size.is_none();
    let need_segments = method == Method::GET || part_num.is_some() || legacy;
    let segments = if !need_segments {
        None
    } else if method == Method::GET {
        Some(Arc::new(parse(sub::read_response(Response::new(fbody), MANIFEST_READ_LIMIT).await?)?))
    } else {
        let q = "multipart-manifest=get";
        let refetch = next.run(sub::new(Method::GET, uri.path(), Some(q), &ctx, common::http::empty())).await?;
        if !refetch.status().is_success() {
            return Err(ProxyError::ServiceUnavailable("SLO manifest vanished while reading it".into()));
        }
        Some(Arc::new(parse(sub::read_response(refetch, MANIFEST_READ_LIMIT).await?)?))
    };
    let etag = match (&sys_etag, &segments) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => manifest::slo_etag(s),
        (None, None) => String::new(),
    };
    let size =
        sys_size.unwrap_or_else(|| segments.as_ref().map(|s| s.iter().map(StoredSegment::length).sum()).unwrap_or(0));
    set(&mut headers, "etag", &format!("\"{etag}\""));
    set(&mut headers, "content-length", &size.to_string());
    set(&mut headers, "accept-ranges", "bytes");
    let head = method == Method::HEAD;
    let Some(segments) = segments else {
        let mut r = sub::status_only(StatusCode::OK);
        *r.headers_mut() = headers;
        return Ok(r);
    };
    let ranges = match part_num {
        Some(n) => {
            set(&mut headers, "x-parts-count", &segments.len().to_string());
            if n > segments.len() {
                let body = if head { "" } else { "The requested part number is not satisfiable" };
                set(&mut headers, "content-range", &format!("bytes */{size}"));
                set(&mut headers, "content-length", &body.len().to_string());
                let mut r = Response::new(common::http::full(body));
                *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                *r.headers_mut() = headers;
                return Ok(r);
            }
            let start: u64 = segments[..n - 1].iter().map(StoredSegment::length).sum();
            let len = segments[n - 1].length();
            Ranges::Some(vec![(start, (start + len).saturating_sub(1))])
        }
        None if head => Ranges::Whole,
        None => ranges::parse_ranges(range.as_ref().and_then(|r| r.to_str().ok()), size),
    };
    respond(next, ctx, account, segments, headers, ranges, size, head).await
}

fn parse(body: Bytes) -> Result<Vec<StoredSegment>> {
    manifest::parse_stored(&body).map_err(ProxyError::Internal)
}

/// `multipart-manifest=get`: the manifest as stored, or converted back to the PUT form.
async fn manifest_response(resp: Response<Body>, raw: bool) -> Result<Response<Body>> {
    let (mut parts, body) = resp.into_parts();
    clean_content_type(&mut parts.headers);
    if !raw {
        set(&mut parts.headers, "content-type", "application/json; charset=utf-8");
        return Ok(Response::from_parts(parts, body));
    }
    if parts.status != StatusCode::OK {
        return Ok(Response::from_parts(parts, body));
    }
    let segments = parse(sub::read_response(Response::new(body), MANIFEST_READ_LIMIT).await?)?;
    let json = manifest::to_body(&segments, true);
    set(&mut parts.headers, "content-length", &json.len().to_string());
    set(&mut parts.headers, "etag", &hex::encode(Md5::digest(&json)));
    Ok(Response::from_parts(parts, common::http::full(json)))
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    next: Next,
    ctx: Ctx,
    account: String,
    segments: Arc<Vec<StoredSegment>>,
    mut headers: HeaderMap,
    ranges: Ranges,
    size: u64,
    head: bool,
) -> Result<Response<Body>> {
    let walker = |first: u64, last: u64| Walker {
        next: next.clone(),
        ctx: ctx.clone(),
        account: account.clone(),
        stack: vec![Frame { segs: segments.clone(), idx: 0, first: first as i64, last: last as i64, depth: 1 }],
    };
    let (status, source, len): (StatusCode, Box<dyn Segments>, u64) = match ranges {
        Ranges::Unsatisfiable => {
            set(&mut headers, "content-range", &format!("bytes */{size}"));
            set(&mut headers, "content-length", "0");
            let mut r = sub::status_only(StatusCode::RANGE_NOT_SATISFIABLE);
            *r.headers_mut() = headers;
            return Ok(r);
        }
        Ranges::Whole => (StatusCode::OK, Box::new(walker(0, size.saturating_sub(1))), size),
        Ranges::Some(r) if r.len() == 1 => {
            let (s, e) = r[0];
            set(&mut headers, "content-range", &format!("bytes {s}-{e}/{size}"));
            (StatusCode::PARTIAL_CONTENT, Box::new(walker(s, e)), e - s + 1)
        }
        Ranges::Some(r) => {
            let boundary = ranges::new_boundary();
            let ct = get(&headers, "content-type").unwrap_or("application/octet-stream").to_string();
            let mut chain: VecDeque<Box<dyn Segments>> = VecDeque::new();
            for (i, range) in r.iter().enumerate() {
                let head = ranges::part_head(&boundary, &ct, *range, size, i == 0);
                chain.push_back(Box::new(lo::Fixed(VecDeque::from([Piece::Data(head)]))));
                chain.push_back(Box::new(walker(range.0, range.1)));
            }
            chain.push_back(Box::new(lo::Fixed(VecDeque::from([Piece::Data(ranges::closing(&boundary))]))));
            let len = ranges::multipart_length(&boundary, &ct, &r, size);
            set(&mut headers, "content-type", &format!("multipart/byteranges;boundary={boundary}"));
            (StatusCode::PARTIAL_CONTENT, Box::new(Chain(chain)), len)
        }
    };
    set(&mut headers, "content-length", &len.to_string());
    if head || size == 0 {
        let mut r = sub::status_only(status);
        *r.headers_mut() = headers;
        return Ok(r);
    }
    let body = match lo::stream(next.clone(), ctx.clone(), source, Some(len)).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "SLO first segment invalid");
            return Err(ProxyError::Conflict(e));
        }
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    Ok(r)
}

/// Walks a manifest tree for one byte range, fetching sub-manifests as it reaches them
/// (Swift's `_byterange_listing_iterator`).
struct Walker {
    next: Next,
    ctx: Ctx,
    account: String,
    stack: Vec<Frame>,
}

struct Frame {
    segs: Arc<Vec<StoredSegment>>,
    idx: usize,
    /// Offsets of the wanted range relative to the segment at `idx` (may go negative).
    first: i64,
    last: i64,
    depth: usize,
}

impl Segments for Walker {
    fn next_piece(&mut self) -> BoxFuture<'_, Result<Option<Piece>, String>> {
        Box::pin(async move {
            loop {
                let Some(frame) = self.stack.last_mut() else { return Ok(None) };
                if frame.idx >= frame.segs.len() || frame.last < 0 {
                    self.stack.pop();
                    continue;
                }
                let segs = frame.segs.clone();
                let seg = &segs[frame.idx];
                frame.idx += 1;
                let len = seg.length() as i64;
                let (f, l) = (frame.first, frame.last);
                frame.first -= len;
                frame.last -= len;
                if f >= len {
                    continue;
                }
                let depth = frame.depth;
                match seg {
                    StoredSegment::Data(d) => {
                        let (a, b) = (f.max(0) as usize, (l.min(len - 1)) as usize);
                        return Ok(Some(Piece::Data(Bytes::copy_from_slice(&d[a..=b]))));
                    }
                    StoredSegment::Object { name, bytes, hash, range, sub_slo, .. } => {
                        let (rs, re) = range.map(|(s, e)| (s as i64, e as i64)).unwrap_or((0, len - 1));
                        let (first, last) = (rs + f.max(0), re.min(rs + l));
                        if *sub_slo {
                            if depth >= MAX_DEPTH {
                                return Err("While processing manifest, max recursion depth was exceeded".into());
                            }
                            let sub = fetch_sub_manifest(
                                self.next.clone(),
                                self.ctx.clone(),
                                segment_path(&self.account, name),
                            )
                            .await?;
                            self.stack.push(Frame { segs: Arc::new(sub), idx: 0, first, last, depth: depth + 1 });
                            continue;
                        }
                        return Ok(Some(Piece::Object {
                            path: segment_path(&self.account, name),
                            first: first as u64,
                            last: last as u64,
                            whole: first == 0 && last + 1 == *bytes as i64,
                            etag: Some(hash.clone()).filter(|h| !h.is_empty()),
                            size: Some(*bytes),
                        }));
                    }
                }
            }
        })
    }
}

fn fetch_sub_manifest(next: Next, ctx: Ctx, path: String) -> BoxFuture<'static, Result<Vec<StoredSegment>, String>> {
    Box::pin(async move {
        let req = sub::new(Method::GET, &path, Some("multipart-manifest=get"), &ctx, common::http::empty());
        let resp = next.call(req).await;
        if !resp.status().is_success() {
            return Err(format!("GET of submanifest {path} failed with status {}", resp.status()));
        }
        let body = sub::read_response(resp, MANIFEST_READ_LIMIT).await.map_err(|e| e.to_string())?;
        manifest::parse_stored(&body)
    })
}

/// `/container/object` of a manifest entry -> quoted `/v1/<account>/container/object`.
pub(crate) fn segment_path(account: &str, name: &str) -> String {
    let name = name.trim_start_matches('/');
    match name.split_once('/') {
        Some((c, o)) => crate::quote::swift_path(account, Some(c), Some(o)),
        None => crate::quote::swift_path(account, Some(name), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_types() {
        assert_eq!(segment_path("AUTH_t", "/segs/a b/1"), "/v1/AUTH_t/segs/a%20b/1");
        let mut h = HeaderMap::new();
        set(&mut h, "content-type", "text/plain;swift_bytes=12");
        clean_content_type(&mut h);
        assert_eq!(get(&h, "content-type"), Some("text/plain"));
    }
}
