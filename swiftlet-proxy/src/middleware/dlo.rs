//! Dynamic Large Objects: an object with `X-Object-Manifest: <container>/<prefix>` reads
//! as the concatenation of the objects listed under that prefix, in listing order. Its
//! ETag is the MD5 of the segments' ETags; a single byte range is served across the
//! segments (several ranges get the whole object, as in Swift).

use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::middleware::large_object::pump::{self as lo, Piece, Segments};
use crate::middleware::large_object::ranges::{self, parse_ranges, Ranges};
use crate::pipeline::step::{Next, Reply, Step};
use crate::pipeline::subrequest::{self as sub, query_param};
use crate::request::ProxyRequest;
use crate::route::Route;
use common::constraints::CONTAINER_LISTING_LIMIT;
use common::headers::{get, set};
use common::http::Body;
use futures::future::BoxFuture;
use http::{HeaderMap, Method, Response, StatusCode};
use md5::{Digest, Md5};
use serde_json::Value;

pub(crate) struct Dlo;

impl Step for Dlo {
    fn name(&self) -> &'static str {
        "dlo"
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let Route::Object { account, .. } = &req.route else { return next.run(req).await };
            let manifest_get = query_param(req.query(), "multipart-manifest").as_deref() == Some("get");
            match *req.method() {
                Method::GET | Method::HEAD if !manifest_get => {
                    let account = account.clone();
                    get_or_head(req, next, account).await
                }
                Method::PUT => {
                    if req.headers().contains_key("x-object-manifest") {
                        validate(get(req.headers(), "x-object-manifest").unwrap_or("?"))?;
                    }
                    next.run(req).await
                }
                _ => next.run(req).await,
            }
        })
    }
}

/// `container/prefix`: both present, no query characters, prefix not rooted.
fn validate(value: &str) -> Result<()> {
    let ok = match value.split_once('/') {
        Some((c, p)) => !c.is_empty() && !p.is_empty() && !p.starts_with('/') && !value.contains(['?', '&']),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ProxyError::BadRequest("X-Object-Manifest must be in the format container/prefix".into()))
    }
}

/// One page of a segment container's listing: `(name, bytes, hash)`.
type Page = Vec<(String, u64, String)>;

/// The request headers a DLO answer is computed from (the object server only saw the
/// manifest's).
const READ_HEADERS: [&str; 5] = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];

async fn get_or_head(mut req: ProxyRequest, next: Next, account: String) -> Result<Response<Body>> {
    crate::headers::append_csv(req.headers_mut(), "x-backend-ignore-range-if-metadata-present", "x-object-manifest");
    let mut client = HeaderMap::new();
    for name in READ_HEADERS {
        if let Some(v) = req.headers().get(name) {
            client.insert(name, v.clone());
        }
    }
    let method = req.method().clone();
    let ctx = req.ctx.sub("DLO");
    req.body = common::http::empty();
    let first = next.run(req).await?;
    let Some(manifest) = get(first.headers(), "x-object-manifest").map(str::to_string) else {
        return Ok(first);
    };
    let manifest = common::path::decode(&manifest).unwrap_or(manifest);
    let Some((container, prefix)) = manifest.split_once('/').map(|(c, p)| (c.to_string(), p.to_string())) else {
        return Ok(first);
    };
    let segments = match list(&next, &ctx, &account, &container, &prefix, None).await? {
        Ok(page) => page,
        Err(error_response) => return Ok(error_response),
    };
    let complete = segments.len() < CONTAINER_LISTING_LIMIT;
    let total: u64 = segments.iter().map(|s| s.1).sum();
    let mut headers = ranges::response_headers(first.headers());
    set(&mut headers, "accept-ranges", "bytes");
    let etag = complete.then(|| {
        let mut h = Md5::new();
        for (_, _, hash) in &segments {
            h.update(hash.trim_matches('"').as_bytes());
        }
        hex::encode(h.finalize())
    });
    if let Some(e) = &etag {
        set(&mut headers, "etag", &format!("\"{e}\""));
    }
    if let Some(status) = ranges::conditional(&client, etag.as_deref(), get(&headers, "last-modified")) {
        let mut r = sub::status_only(status);
        *r.headers_mut() = headers;
        return Ok(r);
    }
    // Several ranges (or a range past an incomplete listing) get the whole object.
    let range_header = get(&client, "range");
    let ranges = match parse_ranges(range_header, total) {
        Ranges::Some(r) if r.len() > 1 => Ranges::Whole,
        Ranges::Some(r) if !complete && r[0].1 + 1 >= total => Ranges::Whole,
        other => other,
    };
    let (status, first_byte, last_byte) = match ranges {
        Ranges::Unsatisfiable => {
            if complete {
                set(&mut headers, "content-range", &format!("bytes */{total}"));
            }
            let mut r = sub::status_only(StatusCode::RANGE_NOT_SATISFIABLE);
            set(&mut headers, "content-length", "0");
            *r.headers_mut() = headers;
            return Ok(r);
        }
        Ranges::Some(r) => {
            let (s, e) = r[0];
            set(&mut headers, "content-range", &format!("bytes {s}-{e}/{total}"));
            (StatusCode::PARTIAL_CONTENT, s, Some(e))
        }
        _ => (StatusCode::OK, 0, None),
    };
    let length = match last_byte {
        Some(e) => Some(e - first_byte + 1),
        None if complete => Some(total),
        None => None,
    };
    if let Some(l) = length {
        set(&mut headers, "content-length", &l.to_string());
    }
    if method == Method::HEAD || length == Some(0) {
        let mut r = sub::status_only(status);
        *r.headers_mut() = headers;
        return Ok(r);
    }
    let source = Listing {
        next: next.clone(),
        ctx: ctx.clone(),
        account,
        container,
        prefix,
        page: segments,
        idx: 0,
        first: first_byte as i64,
        last: last_byte.map(|l| l as i64).unwrap_or(i64::MAX),
    };
    let body = lo::stream(next, ctx, source, length).await.map_err(ProxyError::Conflict)?;
    let mut r = Response::new(body);
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    Ok(r)
}

/// One listing page of `container` under `prefix` after `marker`; a failed listing is
/// the response to give the client.
async fn list(
    next: &Next,
    ctx: &Ctx,
    account: &str,
    container: &str,
    prefix: &str,
    marker: Option<&str>,
) -> Result<std::result::Result<Page, Response<Body>>> {
    let mut q: Vec<(&str, &str)> = vec![("format", "json"), ("prefix", prefix)];
    if let Some(m) = marker {
        q.push(("marker", m));
    }
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish();
    let path = crate::quote::swift_path(account, Some(container), None);
    let resp = next.call(sub::new(Method::GET, &path, Some(&query), ctx, common::http::empty())).await;
    if !resp.status().is_success() {
        return Ok(Err(resp));
    }
    let body = sub::read_response(resp, 64 << 20).await?;
    let items: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
    Ok(Ok(items
        .iter()
        .filter_map(|i| {
            Some((
                i.get("name")?.as_str()?.to_string(),
                i.get("bytes")?.as_u64()?,
                i.get("hash").and_then(Value::as_str).unwrap_or("").to_string(),
            ))
        })
        .collect()))
}

/// The segments of a byte range, paging through the listing as Swift's DLO does.
struct Listing {
    next: Next,
    ctx: Ctx,
    account: String,
    container: String,
    prefix: String,
    page: Page,
    idx: usize,
    first: i64,
    last: i64,
}

impl Segments for Listing {
    fn next_piece(&mut self) -> BoxFuture<'_, std::result::Result<Option<Piece>, String>> {
        Box::pin(async move {
            loop {
                if self.idx >= self.page.len() {
                    if self.page.len() < CONTAINER_LISTING_LIMIT || self.last < 0 {
                        return Ok(None);
                    }
                    let marker = self.page.last().map(|s| s.0.clone());
                    let page =
                        list(&self.next, &self.ctx, &self.account, &self.container, &self.prefix, marker.as_deref())
                            .await
                            .map_err(|e| e.to_string())?;
                    self.page = page.map_err(|r| format!("got {} listing the segment container", r.status()))?;
                    self.idx = 0;
                    if self.page.is_empty() {
                        return Ok(None);
                    }
                    continue;
                }
                let (name, bytes, _) = self.page[self.idx].clone();
                self.idx += 1;
                let len = bytes as i64;
                let (f, l) = (self.first, self.last);
                self.first = (self.first - len).max(-1);
                self.last = if self.last == i64::MAX { i64::MAX } else { (self.last - len).max(-1) };
                if f >= len {
                    continue;
                }
                if l < 0 {
                    return Ok(None);
                }
                if len == 0 {
                    continue;
                }
                return Ok(Some(Piece::Object {
                    path: crate::quote::swift_path(&self.account, Some(&self.container), Some(&name)),
                    first: f.max(0) as u64,
                    last: l.min(len - 1) as u64,
                    whole: f <= 0 && l >= len - 1,
                    etag: None,
                    size: None,
                }));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_header_format() {
        assert!(validate("c/p").is_ok());
        assert!(validate("c/p/q").is_ok());
        for bad in ["c", "/p", "c/", "c//p", "c/p?x", "c/p&x"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
