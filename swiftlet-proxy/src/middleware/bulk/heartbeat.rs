//! Long bulk operations answer with a heartbeat: whitespace while they work, so clients do
//! not time out, then the report (Swift's `heartbeat`).

use super::report::{Format, Report};
use crate::pipeline::subrequest::query_param;
use bytes::Bytes;
use common::headers::set;
use common::http::{Body, BodyError};
use http::{Response, StatusCode};
use std::future::Future;
use std::time::Duration;

/// A response whose body is `work`'s report. Work that finishes within the heartbeat
/// interval is answered whole; longer work streams whitespace every interval until the
/// report is ready (Swift's heartbeat), so clients do not time out. `eager` streams at
/// once (`heartbeat=on`).
pub(crate) async fn heartbeat_response(
    status: StatusCode,
    format: Format,
    work: impl Future<Output = Report> + Send + 'static,
    root: &'static str,
    eager: bool,
) -> Response<Body> {
    let mut work = Box::pin(work);
    if !eager {
        if let Ok(report) = tokio::time::timeout(HEARTBEAT, &mut work).await {
            let mut resp = Response::new(common::http::full(report.render(format, root)));
            *resp.status_mut() = status;
            set(resp.headers_mut(), "content-type", format.content_type());
            return resp;
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, BodyError>>(4);
    tokio::spawn(async move {
        let first = if format == Format::Xml && !eager { "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" } else { " " };
        if tx.send(Ok(Bytes::from(first))).await.is_err() {
            return;
        }
        let report = loop {
            tokio::select! {
                r = &mut work => break r,
                _ = tokio::time::sleep(HEARTBEAT) => {
                    if tx.send(Ok(Bytes::from_static(b" "))).await.is_err() {
                        return;
                    }
                }
            }
        };
        let _ = tx.send(Ok(Bytes::from(format!("\r\n\r\n{}", report.render(format, root))))).await;
    });
    let mut resp = Response::new(crate::body::channel_body(rx));
    *resp.status_mut() = status;
    set(resp.headers_mut(), "content-type", format.content_type());
    resp
}

const HEARTBEAT: Duration = Duration::from_secs(10);

/// `?heartbeat=on`.
pub(crate) fn wants_heartbeat(query: Option<&str>) -> bool {
    query_param(query, "heartbeat").is_some_and(|v| common::headers::is_true(&v))
}
