//! Request handlers, one module per verb family.

pub mod account;
pub mod container;
pub mod listing;

use common::http::{full, Body};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

/// A response with `headers` and `body` (Content-Length set).
pub(crate) fn respond(status: StatusCode, mut headers: HeaderMap, body: Vec<u8>) -> Response<Body> {
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

/// The answer for a missing or deleted account: `X-Account-Status: Deleted` when the DB
/// exists and was deleted (so proxies can tell "deleted" from "never existed").
pub(crate) fn deleted(status: StatusCode, status_deleted: bool, body: &str) -> Response<Body> {
    let mut h = HeaderMap::new();
    if status_deleted {
        h.insert("x-account-status", HeaderValue::from_static("Deleted"));
    }
    respond(status, h, body.as_bytes().to_vec())
}
