//! Bulk delete: `POST|DELETE ...?bulk-delete` with a body of newline-separated, quoted
//! `/container/object` (and `/container`) names. Objects go first, then containers; the
//! answer is a report (Swift's format) with whitespace sent while it works, so clients
//! do not time out. SLO's `multipart-manifest=delete` uses the same deleter.

use super::heartbeat::heartbeat_response;
use super::report::{self, Format, Report};
use crate::config::BulkConfig;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::pipeline::step::{Next, Reply, Step};
use crate::pipeline::subrequest::{self as sub};
use crate::request::ProxyRequest;
use crate::state::cluster::Cluster;
use common::headers::get;
use futures::future::BoxFuture;
use futures::StreamExt;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};

pub(crate) struct BulkDelete {
    max_deletes: usize,
    max_failed: usize,
    concurrency: usize,
}

impl BulkDelete {
    pub(crate) fn new(cfg: &BulkConfig) -> Self {
        BulkDelete {
            max_deletes: cfg.max_deletes_per_request,
            max_failed: cfg.max_failed_deletes,
            concurrency: cfg.delete_concurrency.max(1),
        }
    }
}

impl Step for BulkDelete {
    fn name(&self) -> &'static str {
        "bulk_delete"
    }

    fn info(&self) -> Option<Value> {
        Some(json!({"max_deletes_per_request": self.max_deletes, "max_failed_deletes": self.max_failed}))
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let wanted = matches!(*req.method(), Method::POST | Method::DELETE)
                && req.query().is_some_and(|q| q.split('&').any(|kv| kv.split('=').next() == Some("bulk-delete")));
            if !wanted {
                return next.run(req).await;
            }
            // No container's write ACL admits an anonymous caller (write ACLs take no
            // referrers, and `*` names authenticated users), so one is refused before its
            // body is read or the answer starts.
            if req.ctx.identity.is_none() && req.ctx.temp_url.is_none() {
                return Err(ProxyError::Unauthorized);
            }
            let format = report::negotiate(req.headers());
            let account = req.route.account().map(str::to_string).ok_or(ProxyError::NotFound)?;
            let ctx = req.ctx.clone().sub("BD");
            let deleter = Deleter { next, ctx, account, concurrency: self.concurrency, max_failed: self.max_failed };
            let max = self.max_deletes;
            let work = async move {
                let mut report = Report::for_delete();
                let names = match read_names(deleter.next.cluster(), req, max, format).await {
                    Ok(n) => n,
                    Err(e) => {
                        use common::http::HttpError;
                        report.set("Response Status", report::status_line(e.status()));
                        report.set("Response Body", e.to_string());
                        return report;
                    }
                };
                deleter.delete(names, &mut report).await;
                report
            };
            Ok(heartbeat_response(StatusCode::OK, format.unwrap_or(Format::Plain), work, "delete", false).await)
        })
    }
}

/// The names in a bulk-delete body, decoded as each line arrives (never the whole body
/// at once), each client chunk within `client_timeout`.
async fn read_names(p: &Cluster, req: ProxyRequest, max: usize, format: Option<Format>) -> Result<Vec<Target>> {
    if format.is_none() {
        return Err(ProxyError::NotAcceptable("Not Acceptable".into()));
    }
    if get(req.headers(), "content-type").is_some_and(|ct| !ct.starts_with("text/plain")) {
        return Err(ProxyError::NotAcceptable("Not Acceptable".into()));
    }
    let chunked = get(req.headers(), "transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    if req.headers().get("content-length").is_none() && !chunked {
        return Err(ProxyError::LengthRequired);
    }
    let max_line = common::constraints::MAX_OBJECT_NAME_LENGTH + common::constraints::MAX_CONTAINER_NAME_LENGTH + 2;
    let too_many = || ProxyError::EntityTooLarge(format!("Maximum Bulk Deletes: {max} per request"));
    let limit = (max + 1) * (max_line * 3 + 1);
    let declared = get(req.headers(), "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    if declared.is_some_and(|l| l > limit as u64) {
        return Err(too_many());
    }
    let idle = p.config.client_timeout();
    let mut names = Names { out: Vec::new(), max, max_line };
    let mut read = 0;
    let mut partial: Vec<u8> = Vec::new();
    let mut body = req.body;
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Ok(Some(frame)) => frame.map_err(|e| ProxyError::ClientDisconnect(e.to_string()))?,
            Ok(None) => break,
            Err(_) => return Err(ProxyError::ClientDisconnect(format!("no body byte for {} s", idle.as_secs_f64()))),
        };
        let Ok(data) = frame.into_data() else { continue };
        read += data.len();
        if read > limit {
            return Err(too_many());
        }
        let mut rest: &[u8] = &data;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            partial.extend_from_slice(&rest[..nl]);
            rest = &rest[nl + 1..];
            names.push(&std::mem::take(&mut partial))?;
        }
        partial.extend_from_slice(rest);
        if partial.len() > max_line * 3 {
            return Err(ProxyError::BadRequest("Invalid File Name".into()));
        }
    }
    names.push(&partial)?;
    Ok(names.out)
}

/// The names decoded so far.
struct Names {
    out: Vec<Target>,
    max: usize,
    max_line: usize,
}

impl Names {
    /// Decodes one line (blank ones are skipped); refuses the one past `max`.
    fn push(&mut self, line: &[u8]) -> Result<()> {
        let line = String::from_utf8_lossy(line);
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        if line.len() > self.max_line * 3 {
            return Err(ProxyError::BadRequest("Invalid File Name".into()));
        }
        let name = percent_encoding::percent_decode_str(line).decode_utf8_lossy().into_owned();
        self.out.push(Target { name, error: None });
        if self.out.len() > self.max {
            return Err(ProxyError::EntityTooLarge(format!("Maximum Bulk Deletes: {} per request", self.max)));
        }
        Ok(())
    }
}

/// Something to delete: `/container/object` or `/container`, or an error found earlier.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub name: String,
    pub error: Option<(StatusCode, String)>,
}

/// Deletes names of one account with a few DELETE sub-requests in flight.
pub(crate) struct Deleter {
    pub next: Next,
    pub ctx: Ctx,
    pub account: String,
    pub concurrency: usize,
    pub max_failed: usize,
}

impl Deleter {
    /// Deletes objects, then containers, and fills the report's counts and errors.
    pub(crate) fn delete<'a>(&'a self, targets: Vec<Target>, report: &'a mut Report) -> BoxFuture<'a, ()> {
        Box::pin(self.delete_all(targets, report))
    }

    async fn delete_all(&self, targets: Vec<Target>, report: &mut Report) {
        let (objects, containers): (Vec<Target>, Vec<Target>) = targets
            .into_iter()
            .filter(|t| !t.name.trim_matches('/').is_empty())
            .partition(|t| t.name.trim_matches('/').contains('/'));
        let (mut deleted, mut not_found) = (0u64, 0u64);
        let mut server_error = false;
        for batch in [objects, containers] {
            let mut todo = Vec::new();
            for t in batch {
                match &t.error {
                    Some((StatusCode::NOT_FOUND, _)) => not_found += 1,
                    Some((_, msg)) => report.errors.push((crate::quote::quote(&t.name), msg.clone())),
                    None => todo.push(t.name),
                }
            }
            let mut results = futures::stream::iter(todo.into_iter().map(|name| self.delete_one(name)))
                .buffer_unordered(self.concurrency);
            while let Some((name, status)) = results.next().await {
                match status {
                    s if s.is_success() => deleted += 1,
                    StatusCode::NOT_FOUND => not_found += 1,
                    s => {
                        server_error |= s.is_server_error();
                        report.errors.push((crate::quote::quote(&name), report::status_line(s)));
                    }
                }
                if report.errors.len() >= self.max_failed {
                    break;
                }
            }
            if report.errors.len() >= self.max_failed {
                report.set("Response Body", "Max delete failures exceeded");
                break;
            }
        }
        report.set("Number Deleted", deleted);
        report.set("Number Not Found", not_found);
        if !report.errors.is_empty() {
            let s = if server_error { StatusCode::BAD_GATEWAY } else { StatusCode::BAD_REQUEST };
            report.set("Response Status", report::status_line(s));
        } else if deleted == 0 && not_found == 0 {
            report.set("Response Status", report::status_line(StatusCode::BAD_REQUEST));
            report.set("Response Body", "Invalid bulk delete.");
        }
    }

    /// One DELETE; an owned future, so many can be in flight.
    fn delete_one(&self, name: String) -> BoxFuture<'static, (String, StatusCode)> {
        let trimmed = name.trim_start_matches('/');
        let path = match trimmed.split_once('/') {
            Some((c, o)) => crate::quote::swift_path(&self.account, Some(c), Some(o)),
            None => crate::quote::swift_path(&self.account, Some(trimmed.trim_end_matches('/')), None),
        };
        let req = sub::new(Method::DELETE, &path, None, &self.ctx, common::http::empty());
        let next = self.next.clone();
        Box::pin(async move {
            let status = next.call(req).await.status();
            (name, status)
        })
    }
}
