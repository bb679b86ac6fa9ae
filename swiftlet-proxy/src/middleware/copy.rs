//! Server-side copy: `COPY` with `Destination` (and `Destination-Account`), and `PUT` with
//! `X-Copy-From` (and `X-Copy-From-Account`). The source is read with a GET sub-request
//! and streamed into a PUT sub-request, both through the rest of the pipeline, so copying
//! a large object or a symlink copies its content (or, with `multipart-manifest=get` /
//! `symlink=get`, the manifest or link itself) and quotas see the copy.

use crate::error::{ProxyError, Result};
use crate::pipeline::step::{Next, Reply, Step};
use crate::pipeline::subrequest::{self as sub, query_param};
use crate::request::ProxyRequest;
use crate::route::Route;
use common::constraints::MAX_FILE_SIZE;
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};

pub(crate) struct Copy;

impl Step for Copy {
    fn name(&self) -> &'static str {
        "copy"
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let Route::Object { account, container, object } = &req.route else { return next.run(req).await };
            if req.method() == Method::PUT && req.headers().contains_key("x-copy-from") {
                let account = account.clone();
                put_copy(req, &account, next).await
            } else if req.method().as_str() == "COPY" {
                let (account, container, object) = (account.clone(), container.clone(), object.clone());
                copy_verb(req, &account, &container, &object, next).await
            } else {
                next.run(req).await
            }
        })
    }
}

/// `<container>/<object>` from a header (leading slash optional), decoded.
pub(crate) fn path_header(h: &HeaderMap, name: &str) -> Result<(String, String)> {
    let form =
        || ProxyError::PreconditionFailed(format!("{name} header must be of the form <container name>/<object name>"));
    let raw = get(h, name).ok_or_else(form)?;
    let decoded = common::path::decode(raw)?;
    let (c, o) = decoded.strip_prefix('/').unwrap_or(&decoded).split_once('/').ok_or_else(form)?;
    if c.is_empty() || o.is_empty() {
        return Err(form());
    }
    common::path::validate_names("a", Some(c), Some(o))?;
    Ok((c.to_string(), o.to_string()))
}

fn account_header(h: &HeaderMap, name: &str) -> Result<Option<String>> {
    match get(h, name) {
        None => Ok(None),
        Some(raw) => {
            let a = common::path::decode(raw)?;
            if a.is_empty() || a.contains('/') {
                return Err(ProxyError::PreconditionFailed(format!("{name} must be a valid account name")));
            }
            common::path::validate_names(&a, None, None)?;
            Ok(Some(a))
        }
    }
}

/// `COPY /a/c/o` with `Destination: c2/o2` is `PUT /a2/c2/o2` with `X-Copy-From: /c/o`.
async fn copy_verb(
    req: ProxyRequest,
    account: &str,
    container: &str,
    object: &str,
    next: Next,
) -> Result<Response<Body>> {
    if !req.headers().contains_key("destination") {
        return Err(ProxyError::PreconditionFailed("Destination header required".into()));
    }
    let (dc, dobj) = path_header(req.headers(), "destination")?;
    let dest_account = account_header(req.headers(), "destination-account")?;
    let mut req = req;
    let parts = &mut req.head;
    if dest_account.is_some() {
        set(&mut parts.headers, "x-copy-from-account", &crate::quote::quote(account));
        parts.headers.remove("destination-account");
    }
    let dest_account = dest_account.unwrap_or_else(|| account.to_string());
    let target = crate::quote::swift_path(&dest_account, Some(&dc), Some(&dobj));
    let uri = match parts.uri.query() {
        Some(q) => format!("{target}?{q}"),
        None => target.clone(),
    };
    parts.uri = uri.parse().map_err(|_| ProxyError::PreconditionFailed("Invalid Destination".into()))?;
    parts.method = Method::PUT;
    parts.headers.remove("destination");
    set(&mut parts.headers, "content-length", "0");
    set(&mut parts.headers, "x-copy-from", &crate::quote::quote(&format!("/{container}/{object}")));
    req.route = Route::of_subrequest(&target);
    put_copy(req, &dest_account, next).await
}

/// Headers of the source that a copy never carries over.
const NOT_COPIED: &[&str] =
    &["x-static-large-object", "x-object-manifest", "etag", "content-type", "x-timestamp", "content-length"];

async fn put_copy(req: ProxyRequest, account: &str, next: Next) -> Result<Response<Body>> {
    let length = get(req.headers(), "content-length").and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
    if length > 0 {
        return Err(ProxyError::BadRequest("Copy requests require a zero byte body".into()));
    }
    let src_account = account_header(req.headers(), "x-copy-from-account")?.unwrap_or_else(|| account.to_string());
    let (sc, so) = path_header(req.headers(), "x-copy-from")?;
    let ctx = req.ctx.sub("SSC");
    let query = req.query().map(str::to_string);
    let manifest_get = query_param(query.as_deref(), "multipart-manifest").as_deref() == Some("get");
    // The source GET takes the request's query (part-number, symlink=get, ...), as Swift's.
    let mut src_query: Vec<String> = query.iter().map(|q| q.to_string()).collect();
    if manifest_get {
        src_query.push("format=raw".to_string());
    }
    let src_path = crate::quote::swift_path(&src_account, Some(&sc), Some(&so));
    let mut src_get = sub::new(Method::GET, &src_path, Some(&src_query.join("&")), &ctx, common::http::empty());
    for name in ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"] {
        if let Some(v) = req.headers().get(name) {
            src_get.headers_mut().insert(name, v.clone());
        }
    }
    set(src_get.headers_mut(), "x-newest", "true");
    let source = next.call(src_get).await;
    if source.status().as_u16() >= 300 {
        return Ok(source);
    }
    let src_len = match get(source.headers(), "content-length").and_then(|l| l.parse::<u64>().ok()) {
        Some(l) if l <= MAX_FILE_SIZE => l,
        _ => return Err(ProxyError::TooLarge),
    };
    let (src_parts, src_body) = source.into_parts();
    let src_h = &src_parts.headers;
    let ProxyRequest { head: parts, route, .. } = req;
    let mut sink_h = HeaderMap::new();
    let fresh = get(&parts.headers, "x-fresh-metadata").is_some_and(common::headers::is_true);
    for (name, value) in src_h {
        let n = name.as_str();
        let keep = if fresh { n.starts_with("x-object-sysmeta-") } else { !NOT_COPIED.contains(&n) };
        if keep {
            sink_h.insert(name.clone(), value.clone());
        }
    }
    for (name, value) in &parts.headers {
        sink_h.insert(name.clone(), value.clone());
    }
    for n in ["x-copy-from", "x-copy-from-account", "x-fresh-metadata"] {
        sink_h.remove(n);
    }
    let is_slo = src_h.contains_key("x-static-large-object");
    let is_dlo = src_h.contains_key("x-object-manifest");
    let mut sink_query: Vec<String> = query
        .as_deref()
        .map(|q| {
            q.split('&')
                .filter(|kv| !kv.is_empty() && !kv.starts_with("multipart-manifest") && !kv.starts_with("version-id"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if manifest_get && is_slo {
        sink_query.push("multipart-manifest=put".into());
    }
    if manifest_get && is_dlo {
        if let Some(m) = src_h.get("x-object-manifest") {
            sink_h.insert("x-object-manifest", m.clone());
        }
    }
    if src_parts.status == StatusCode::OK && !is_slo && (!is_dlo || manifest_get) {
        if let Some(e) = src_h.get("etag") {
            sink_h.insert("etag", e.clone());
        }
    }
    if !parts.headers.contains_key("content-type") {
        if let Some(ct) = src_h.get("content-type") {
            sink_h.insert("content-type", ct.clone());
        }
    }
    set(&mut sink_h, "content-length", &src_len.to_string());
    sink_h.remove("transfer-encoding");
    let sink_query = sink_query.join("&");
    let mut sink = sub::with_route(Method::PUT, parts.uri.path(), Some(&sink_query), route, &ctx, src_body);
    *sink.headers_mut() = sink_h;
    let mut resp = next.run(sink).await?;
    if resp.status().is_success() {
        let h = resp.headers_mut();
        set(h, "x-copied-from-account", &crate::quote::quote(&src_account));
        set(h, "x-copied-from", &crate::quote::quote(&format!("{sc}/{so}")));
        if let Some(lm) = src_h.get("last-modified") {
            h.insert("x-copied-from-last-modified", lm.clone());
        }
        if let Some(v) = src_h.get("x-object-version-id") {
            h.insert("x-copied-from-version-id", v.clone());
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_paths() {
        let mut h = HeaderMap::new();
        set(&mut h, "x-copy-from", "/c/o%20x/y");
        assert_eq!(path_header(&h, "x-copy-from").unwrap(), ("c".into(), "o x/y".into()));
        set(&mut h, "x-copy-from", "c/o");
        assert_eq!(path_header(&h, "x-copy-from").unwrap(), ("c".into(), "o".into()));
        for bad in ["nocontainer", "/c/", "//o"] {
            set(&mut h, "x-copy-from", bad);
            assert!(matches!(path_header(&h, "x-copy-from"), Err(ProxyError::PreconditionFailed(_))), "{bad}");
        }
    }
}
