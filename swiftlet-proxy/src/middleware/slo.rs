//! Static Large Objects: `PUT ?multipart-manifest=put` checks every segment (HEAD: it
//! exists, and matches the ETag and size the client gave) and stores Swift's manifest
//! with the SLO's size and MD5-of-MD5s ETag as system metadata; GET/HEAD (in
//! [`super::slo_get`]) serve the concatenation; `DELETE ?multipart-manifest=delete`
//! deletes the segments too. Container listings show the SLO ETag as `slo_etag`.

use super::bulk::{heartbeat_response, wants_heartbeat, Deleter, Target};
use super::large_object::{parse_ranges, Ranges};
use super::report::{self, Format, Report};
use super::slo_get::{get_or_head, is_slo, segment_path, SYSMETA_ETAG, SYSMETA_SIZE};
use super::slo_manifest::{self as manifest, InputSegment, StoredSegment};
use super::subrequest::{self as sub, header, query_param, set};
use super::{Middleware, Next, Reply};
use crate::config::SloConfig;
use crate::error::{ProxyError, Result};
use crate::router::Route;
use crate::server::Ctx;
use common::http::Body;
use futures::future::BoxFuture;
use futures::StreamExt;
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::collections::HashMap;

pub struct Slo {
    cfg: SloConfig,
}

impl Slo {
    pub fn new(cfg: &SloConfig) -> Self {
        Slo { cfg: cfg.clone() }
    }
}

impl Middleware for Slo {
    fn name(&self) -> &'static str {
        "slo"
    }

    fn info(&self) -> Option<Value> {
        Some(json!({
            "max_manifest_segments": self.cfg.max_manifest_segments,
            "max_manifest_size": self.cfg.max_manifest_size,
            "yield_frequency": 10,
            "min_segment_size": 1,
            "allow_async_delete": false,
        }))
    }

    fn call<'a>(&'a self, req: Request<Body>, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let query = req.uri().query().map(str::to_string);
            let mm = query_param(query.as_deref(), "multipart-manifest");
            match Route::parse(req.uri().path()) {
                Ok(Route::Container { .. }) if req.method() == Method::GET => listing(next.run(req).await?).await,
                Ok(Route::Object { account, container, object }) => {
                    let m = req.method().clone();
                    if m == Method::PUT && mm.as_deref() == Some("put") {
                        self.put(req, next, &account, &container, &object).await
                    } else if m == Method::DELETE && mm.as_deref() == Some("delete") {
                        delete(req, next, &account, &container, &object, &self.cfg).await
                    } else if m == Method::GET || m == Method::HEAD {
                        get_or_head(req, next).await
                    } else if req.headers().contains_key("x-static-large-object") {
                        Err(ProxyError::BadRequest(
                            "X-Static-Large-Object is a reserved header. To create a static large object add query \
                             param multipart-manifest=put."
                                .into(),
                        ))
                    } else {
                        next.run(req).await
                    }
                }
                _ => next.run(req).await,
            }
        })
    }
}

impl Slo {
    async fn put(
        &self,
        req: Request<Body>,
        next: Next,
        account: &str,
        container: &str,
        object: &str,
    ) -> Result<Response<Body>> {
        if req.headers().contains_key("x-copy-from") {
            return Err(ProxyError::MethodNotAllowed);
        }
        let max = self.cfg.max_manifest_size;
        let too_big = || ProxyError::EntityTooLarge(format!("Manifest File > {max} bytes"));
        match header(req.headers(), "content-length").map(|l| l.parse::<usize>()) {
            Some(Ok(l)) if l > max => return Err(too_big()),
            Some(Ok(_)) => {}
            Some(Err(_)) => return Err(ProxyError::BadRequest("Invalid Content-Length".into())),
            None if header(req.headers(), "transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) => {}
            None => return Err(ProxyError::LengthRequired),
        }
        let (parts, body) = req.into_parts();
        let body = sub::read_body(body, max).await.map_err(|e| match e {
            ProxyError::TooLarge => too_big(),
            other => other,
        })?;
        let input = manifest::parse_input(&body, (container, object)).map_err(ProxyError::BadRequest)?;
        let objects = input.iter().filter(|s| matches!(s, InputSegment::Object { .. })).count();
        if objects > self.cfg.max_manifest_segments {
            return Err(ProxyError::EntityTooLarge(format!(
                "Number of object-backed segments must be <= {}",
                self.cfg.max_manifest_segments
            )));
        }
        let format = report::negotiate(&parts.headers).unwrap_or(Format::Plain);
        let work = Upload { next, account: account.to_string(), parts, input, concurrency: self.cfg.concurrency };
        if wants_heartbeat(work.parts.uri.query()) {
            let job = async move {
                let mut report = Report::default();
                match work.run().await {
                    Ok(resp) => {
                        let status = resp.status();
                        report.set("Response Status", report::status_line(status));
                        if status.is_success() {
                            for (k, h) in [("Etag", "etag"), ("Last Modified", "last-modified")] {
                                report.set(k, header(resp.headers(), h).unwrap_or(""));
                            }
                        }
                        let body = sub::read_response(resp, 64 << 10).await.unwrap_or_default();
                        report.set("Response Body", String::from_utf8_lossy(&body).to_string());
                    }
                    Err(Failure::Segments(problems)) => {
                        report.set("Response Status", report::status_line(StatusCode::BAD_REQUEST));
                        report.set("Response Body", reason_body(StatusCode::BAD_REQUEST));
                        report.errors = problems;
                    }
                    Err(Failure::Other(e)) => {
                        use common::http::HttpError;
                        report.set("Response Status", report::status_line(e.status()));
                        report.set("Response Body", reason_body(e.status()));
                    }
                }
                report
            };
            return Ok(heartbeat_response(StatusCode::ACCEPTED, format, job, "upload", true).await);
        }
        match work.run().await {
            Ok(resp) => Ok(resp),
            Err(Failure::Segments(problems)) => {
                let report = Report { fields: vec![], errors: problems };
                let mut r = Response::new(common::http::full(report.render(format, "upload")));
                *r.status_mut() = StatusCode::BAD_REQUEST;
                set(r.headers_mut(), "content-type", format.content_type());
                Ok(r)
            }
            Err(Failure::Other(e)) => Err(e),
        }
    }
}

/// Swift's default body for an error status: the reason, then its explanation.
fn reason_body(status: StatusCode) -> String {
    let explanation = match status.as_u16() {
        400 => "The server could not comply with the request since it is either malformed or otherwise incorrect.",
        422 => "Unable to process the contained instructions",
        _ => "",
    };
    let reason = status.canonical_reason().unwrap_or("");
    if explanation.is_empty() {
        reason.to_string()
    } else {
        format!("{reason}\n{explanation}")
    }
}

enum Failure {
    /// `(quoted path, problem)` per bad segment: a 400 with a report.
    Segments(Vec<(String, String)>),
    Other(ProxyError),
}

impl From<ProxyError> for Failure {
    fn from(e: ProxyError) -> Self {
        Failure::Other(e)
    }
}

/// A manifest upload: check the segments, then store the manifest.
struct Upload {
    next: Next,
    account: String,
    parts: Parts,
    input: Vec<InputSegment>,
    concurrency: usize,
}

impl Upload {
    fn run(self) -> BoxFuture<'static, std::result::Result<Response<Body>, Failure>> {
        Box::pin(self.check_and_store())
    }

    async fn check_and_store(self) -> std::result::Result<Response<Body>, Failure> {
        let ctx = self.parts.extensions.get::<Ctx>().cloned().unwrap_or_default().sub("SLO");
        // HEAD each distinct segment once, a few at a time; through SLO itself, so a
        // nested manifest reports its whole size and SLO ETag.
        let mut paths: Vec<String> = Vec::new();
        for seg in &self.input {
            if let InputSegment::Object { path, .. } = seg {
                if !paths.contains(path) {
                    paths.push(path.clone());
                }
            }
        }
        let heads: HashMap<String, Response<Body>> = futures::stream::iter(paths.into_iter().map(|path| {
            let req = sub::new(Method::HEAD, &segment_path(&self.account, &path), None, &ctx, common::http::empty());
            head_segment(path, req, self.next.clone())
        }))
        .buffer_unordered(self.concurrency.max(1))
        .collect()
        .await;
        let mut problems = Vec::new();
        let mut stored = Vec::with_capacity(self.input.len());
        let last = self.input.len().saturating_sub(1);
        for (i, seg) in self.input.iter().enumerate() {
            match seg {
                InputSegment::Data(d) => stored.push(StoredSegment::Data(d.clone())),
                InputSegment::Object { path, etag, size, range } => {
                    let Some(head) = heads.get(path) else { continue };
                    if let Some(s) = check_segment(path, etag, *size, range, head, i == last, &mut problems) {
                        stored.push(s);
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Segments(problems));
        }
        let slo_etag = manifest::slo_etag(&stored);
        let total: u64 = stored.iter().map(StoredSegment::length).sum();
        if let Some(client) = header(&self.parts.headers, "etag") {
            if client.trim_matches('"') != slo_etag {
                return Err(Failure::Other(ProxyError::UnprocessableEntity(
                    "Unable to process the contained instructions".into(),
                )));
            }
        }
        let json = manifest::to_body(&stored, false);
        let json_md5 = hex::encode(Md5::digest(&json));
        let mut h = self.parts.headers.clone();
        for n in ["transfer-encoding", "etag", "content-length"] {
            h.remove(n);
        }
        set(&mut h, "content-length", &json.len().to_string());
        set(&mut h, "etag", &json_md5);
        set(&mut h, SYSMETA_ETAG, &slo_etag);
        set(&mut h, SYSMETA_SIZE, &total.to_string());
        set(&mut h, "x-static-large-object", "True");
        set(&mut h, "x-object-sysmeta-container-update-override-etag", &format!("{json_md5}; slo_etag={slo_etag}"));
        let ctype = match header(&h, "content-type") {
            Some(ct) if !ct.is_empty() => ct.to_string(),
            _ => {
                let name = self.parts.uri.path().rsplit('/').next().unwrap_or("");
                crate::controllers::object_put::guess_content_type(name).to_string()
            }
        };
        set(&mut h, "content-type", &format!("{ctype};swift_bytes={total}"));
        let orig = self.parts.extensions.get::<Ctx>().cloned().unwrap_or_default();
        let query = sub::query_without(self.parts.uri.query(), &["multipart-manifest", "heartbeat"]);
        let mut put = sub::new(Method::PUT, self.parts.uri.path(), query.as_deref(), &orig, common::http::full(json));
        *put.headers_mut() = h;
        let mut resp = self.next.run(put).await?;
        if resp.status().is_success() {
            set(resp.headers_mut(), "etag", &format!("\"{slo_etag}\""));
        }
        Ok(resp)
    }
}

/// Runs a segment HEAD through SLO's own read path (then the rest of the pipeline).
fn head_segment(path: String, req: Request<Body>, next: Next) -> BoxFuture<'static, (String, Response<Body>)> {
    Box::pin(async move {
        use common::http::HttpError;
        let resp = match get_or_head(req, next).await {
            Ok(r) => r,
            Err(e) => e.to_response(),
        };
        (path, resp)
    })
}

/// Checks one segment's HEAD against what the client claimed; the stored form when good.
fn check_segment(
    path: &str,
    etag: &Option<String>,
    size: Option<u64>,
    range: &Option<String>,
    head: &Response<Body>,
    last: bool,
    problems: &mut Vec<(String, String)>,
) -> Option<StoredSegment> {
    let quoted = sub::quote_path(path);
    if !head.status().is_success() {
        problems.push((quoted, report::status_line(head.status())));
        return None;
    }
    let h = head.headers();
    let length = header(h, "content-length").and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
    let got_etag = header(h, "etag").map(|e| e.trim_matches('"').to_string()).unwrap_or_default();
    let mut seg_range = None;
    let mut seg_len = length;
    if let Some(r) = range {
        match parse_ranges(Some(&format!("bytes={r}")), length) {
            Ranges::Some(rs) if rs[0] == (0, length.saturating_sub(1)) && length > 0 => {}
            Ranges::Some(rs) => {
                seg_range = Some(rs[0]);
                seg_len = rs[0].1 - rs[0].0 + 1;
            }
            _ => problems.push((quoted.clone(), "Unsatisfiable Range".into())),
        }
    }
    if seg_len < 1 && !last {
        problems.push((quoted.clone(), "Too small; each segment must be at least 1 byte.".into()));
    }
    if size.is_some_and(|s| s != length) {
        problems.push((quoted.clone(), "Size Mismatch".into()));
    }
    if etag.as_ref().is_some_and(|e| e.trim_matches('"') != got_etag) {
        problems.push((quoted, "Etag Mismatch".into()));
    }
    let last_modified = header(h, "last-modified")
        .and_then(|lm| httpdate::parse_http_date(lm).ok())
        .map(|t| {
            common::timestamp::iso8601(common::Timestamp::from_secs_f64(
                t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0),
            ))
        })
        .unwrap_or_default();
    Some(StoredSegment::Object {
        name: format!("/{}", path.trim_start_matches('/')),
        bytes: length,
        hash: got_etag,
        content_type: header(h, "content-type").unwrap_or("").to_string(),
        last_modified,
        range: seg_range,
        sub_slo: is_slo(h),
    })
}

/// `DELETE ?multipart-manifest=delete`: the segments (and nested manifests' segments),
/// then the manifest, reported like a bulk delete.
async fn delete(
    req: Request<Body>,
    next: Next,
    account: &str,
    container: &str,
    object: &str,
    cfg: &SloConfig,
) -> Result<Response<Body>> {
    let format = report::negotiate(req.headers());
    let ctx = sub::ctx_of(&req).sub("SLO");
    let deleter = Deleter {
        next: next.clone(),
        ctx: ctx.clone(),
        account: account.to_string(),
        concurrency: cfg.concurrency.max(1),
        max_failed: 1000,
    };
    let (account, limit) = (account.to_string(), cfg.max_manifest_segments * 10);
    let top = format!("/{container}/{object}");
    let work = async move {
        let mut report = Report::default();
        report.set("Response Status", report::status_line(StatusCode::OK));
        report.set("Response Body", "");
        report.set("Number Deleted", 0);
        report.set("Number Not Found", 0);
        if format.is_none() {
            report.set("Response Status", report::status_line(StatusCode::NOT_ACCEPTABLE));
            return report;
        }
        let mut queue: std::collections::VecDeque<(String, bool)> = [(top, true)].into();
        let mut targets = Vec::new();
        while let Some((name, manifest)) = queue.pop_front() {
            if queue.len() > limit {
                report.set("Response Status", report::status_line(StatusCode::BAD_REQUEST));
                report.set("Response Body", "Too many buffered slo segments to delete.");
                return report;
            }
            if !manifest {
                targets.push(Target { name, error: None });
                continue;
            }
            match manifest_segments(next.clone(), ctx.clone(), segment_path(&account, &name)).await {
                Ok(segs) => {
                    for s in segs {
                        if let StoredSegment::Object { name, sub_slo, .. } = s {
                            queue.push_back((name, sub_slo));
                        }
                    }
                    queue.push_back((name, false));
                }
                Err(e) => targets.push(Target { name, error: Some(e) }),
            }
        }
        deleter.delete(targets, &mut report).await;
        report
    };
    Ok(heartbeat_response(StatusCode::OK, format.unwrap_or(Format::Plain), work, "delete", false).await)
}

/// The segments of the manifest `/container/object`, or why they cannot be had.
fn manifest_segments(
    next: Next,
    ctx: Ctx,
    path: String,
) -> BoxFuture<'static, std::result::Result<Vec<StoredSegment>, (StatusCode, String)>> {
    Box::pin(async move { read_manifest(next, ctx, path).await })
}

async fn read_manifest(
    next: Next,
    ctx: Ctx,
    path: String,
) -> std::result::Result<Vec<StoredSegment>, (StatusCode, String)> {
    let req = sub::new(Method::GET, &path, Some("multipart-manifest=get"), &ctx, common::http::empty());
    let resp = next.call(req).await;
    let status = resp.status();
    if status.is_success() {
        if !is_slo(resp.headers()) {
            return Err((StatusCode::BAD_REQUEST, "Not an SLO manifest".into()));
        }
        let body =
            sub::read_response(resp, 32 << 20).await.map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        return manifest::parse_stored(&body).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e));
    }
    Err(match status {
        StatusCode::NOT_FOUND => (status, "SLO manifest not found".into()),
        StatusCode::UNAUTHORIZED => (status, "401 Unauthorized".into()),
        _ => (status, "Unable to load SLO manifest or segment.".into()),
    })
}

const SLO_ETAG_PARAM: &[u8] = b"slo_etag=";

/// Container listings in JSON: split `; slo_etag=` out of `hash` into its own key.
async fn listing(resp: Response<Body>) -> Result<Response<Body>> {
    let json = header(resp.headers(), "content-type").is_some_and(|ct| ct.starts_with("application/json"));
    if !resp.status().is_success() || !json {
        return Ok(resp);
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = sub::read_body(body, 64 << 20).await?;
    // Most listings hold no manifest: skip parsing them.
    if memchr::memmem::find(&bytes, SLO_ETAG_PARAM).is_none() {
        return Ok(Response::from_parts(parts, common::http::full(bytes)));
    }
    let Ok(Value::Array(mut items)) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(Response::from_parts(parts, common::http::full(bytes)));
    };
    let mut changed = false;
    for item in items.iter_mut() {
        let Some(hash) = item.get("hash").and_then(Value::as_str).map(str::to_string) else { continue };
        let mut base = String::new();
        let mut slo_etag = None;
        for (i, piece) in hash.split(';').enumerate() {
            match piece.trim().strip_prefix("slo_etag=") {
                Some(e) if i > 0 => slo_etag = Some(e.to_string()),
                _ if i == 0 => base.push_str(piece.trim()),
                _ => base.push_str(&format!("; {}", piece.trim())),
            }
        }
        if let (Some(e), Value::Object(m)) = (slo_etag, item) {
            m.insert("hash".into(), Value::String(base));
            m.insert("slo_etag".into(), Value::String(format!("\"{e}\"")));
            changed = true;
        }
    }
    if !changed {
        return Ok(Response::from_parts(parts, common::http::full(bytes)));
    }
    let out = Value::Array(items).to_string();
    set(&mut parts.headers, "content-length", &out.len().to_string());
    Ok(Response::from_parts(parts, common::http::full(out)))
}
