//! `DELETE ?multipart-manifest=delete`: an SLO's segments, nested manifests' too, then the
//! manifest itself, reported like a bulk delete.

use super::get::{is_slo, segment_path};
use super::manifest::{self as manifest, StoredSegment};
use crate::config::SloConfig;
use crate::context::Ctx;
use crate::error::Result;
use crate::middleware::bulk::delete::{Deleter, Target};
use crate::middleware::bulk::heartbeat::heartbeat_response;
use crate::middleware::bulk::report::{self, Format, Report};
use crate::pipeline::step::Next;
use crate::pipeline::subrequest::{self as sub};
use crate::request::ProxyRequest;
use common::http::Body;
use futures::future::BoxFuture;
use http::{Method, Response, StatusCode};

/// `DELETE ?multipart-manifest=delete`: the segments (and nested manifests' segments),
/// then the manifest, reported like a bulk delete.
pub(crate) async fn delete(
    req: ProxyRequest,
    next: Next,
    account: &str,
    container: &str,
    object: &str,
    cfg: &SloConfig,
) -> Result<Response<Body>> {
    let format = report::negotiate(req.headers());
    let ctx = req.ctx.sub("SLO");
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
        let mut report = Report::for_delete();
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
