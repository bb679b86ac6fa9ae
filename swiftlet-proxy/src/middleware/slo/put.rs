//! SLO manifest uploads (`PUT ?multipart-manifest=put`): every segment is checked with
//! a HEAD (it exists, and matches the ETag and size the client gave), then Swift's
//! manifest is stored with the SLO's size and MD5-of-MD5s ETag as system metadata.

use super::get::{get_or_head, is_slo, segment_path, SYSMETA_ETAG, SYSMETA_SIZE};
use super::manifest::{self as manifest, InputSegment, StoredSegment};
use crate::config::SloConfig;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::middleware::bulk::heartbeat::{heartbeat_response, wants_heartbeat};
use crate::middleware::bulk::report::{self, Format, Report};
use crate::middleware::large_object::ranges::{parse_ranges, Ranges};
use crate::pipeline::step::Next;
use crate::pipeline::subrequest::{self as sub};
use crate::request::ProxyRequest;
use crate::route::Route;
use common::headers::{get, set};
use common::http::Body;
use futures::future::BoxFuture;
use futures::StreamExt;
use http::request::Parts;
use http::{Method, Response, StatusCode};
use md5::{Digest, Md5};
use std::collections::HashMap;

/// `PUT ?multipart-manifest=put` of `account/container/object`.
pub(crate) async fn put(
    cfg: &SloConfig,
    req: ProxyRequest,
    next: Next,
    account: &str,
    container: &str,
    object: &str,
) -> Result<Response<Body>> {
    if req.headers().contains_key("x-copy-from") {
        return Err(ProxyError::MethodNotAllowed);
    }
    let max = cfg.max_manifest_size;
    let too_big = || ProxyError::EntityTooLarge(format!("Manifest File > {max} bytes"));
    match get(req.headers(), "content-length").map(|l| l.parse::<usize>()) {
        Some(Ok(l)) if l > max => return Err(too_big()),
        Some(Ok(_)) => {}
        Some(Err(_)) => return Err(ProxyError::BadRequest("Invalid Content-Length".into())),
        None if get(req.headers(), "transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) => {}
        None => return Err(ProxyError::LengthRequired),
    }
    let ProxyRequest { head: parts, body, route, ctx } = req;
    let body = crate::body::read_body(body, max).await.map_err(|e| match e {
        ProxyError::TooLarge => too_big(),
        other => other,
    })?;
    let input = manifest::parse_input(&body, (container, object)).map_err(ProxyError::BadRequest)?;
    let objects = input.iter().filter(|s| matches!(s, InputSegment::Object { .. })).count();
    if objects > cfg.max_manifest_segments {
        return Err(ProxyError::EntityTooLarge(format!(
            "Number of object-backed segments must be <= {}",
            cfg.max_manifest_segments
        )));
    }
    let format = report::negotiate(&parts.headers).unwrap_or(Format::Plain);
    let work = Upload { next, account: account.to_string(), parts, route, ctx, input, concurrency: cfg.concurrency };
    if wants_heartbeat(work.parts.uri.query()) {
        let job = async move {
            let mut report = Report::default();
            match work.run().await {
                Ok(resp) => {
                    let status = resp.status();
                    report.set("Response Status", report::status_line(status));
                    if status.is_success() {
                        for (k, h) in [("Etag", "etag"), ("Last Modified", "last-modified")] {
                            report.set(k, get(resp.headers(), h).unwrap_or(""));
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
    route: Route,
    ctx: Ctx,
    input: Vec<InputSegment>,
    concurrency: usize,
}

impl Upload {
    fn run(self) -> BoxFuture<'static, std::result::Result<Response<Body>, Failure>> {
        Box::pin(self.check_and_store())
    }

    async fn check_and_store(self) -> std::result::Result<Response<Body>, Failure> {
        let ctx = self.ctx.sub("SLO");
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
        if let Some(client) = get(&self.parts.headers, "etag") {
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
        let ctype = match get(&h, "content-type") {
            Some(ct) if !ct.is_empty() => ct.to_string(),
            _ => {
                let name = self.parts.uri.path().rsplit('/').next().unwrap_or("");
                crate::controllers::object_headers::guess_content_type(name).to_string()
            }
        };
        set(&mut h, "content-type", &format!("{ctype};swift_bytes={total}"));
        let query = sub::query_without(self.parts.uri.query(), &["multipart-manifest", "heartbeat"]);
        let body = common::http::full(json);
        let mut put =
            sub::with_route(Method::PUT, self.parts.uri.path(), query.as_deref(), self.route, &self.ctx, body);
        *put.headers_mut() = h;
        let mut resp = self.next.run(put).await?;
        if resp.status().is_success() {
            set(resp.headers_mut(), "etag", &format!("\"{slo_etag}\""));
        }
        Ok(resp)
    }
}

/// Runs a segment HEAD through SLO's own read path (then the rest of the pipeline).
fn head_segment(path: String, req: ProxyRequest, next: Next) -> BoxFuture<'static, (String, Response<Body>)> {
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
    let quoted = crate::quote::quote(path);
    if !head.status().is_success() {
        problems.push((quoted, report::status_line(head.status())));
        return None;
    }
    let h = head.headers();
    let length = get(h, "content-length").and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
    let got_etag = get(h, "etag").map(|e| e.trim_matches('"').to_string()).unwrap_or_default();
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
    let last_modified = get(h, "last-modified")
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
        content_type: get(h, "content-type").unwrap_or("").to_string(),
        last_modified,
        range: seg_range,
        sub_slo: is_slo(h),
    })
}
