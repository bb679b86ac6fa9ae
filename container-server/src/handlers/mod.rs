//! Request handlers, one module per verb family.

pub mod container;
pub mod listing;
pub mod object;
pub mod replicate;

use common::http::{full, Body};
use http::{HeaderMap, Response, StatusCode};

/// A response with `headers` and `body` (Content-Length set).
pub(crate) fn respond(status: StatusCode, mut headers: HeaderMap, body: Vec<u8>) -> Response<Body> {
    headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(body.len()));
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

/// Whether a header holds one of Swift's true values.
pub(crate) fn header_true(headers: &HeaderMap, name: &str) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(common::headers::is_true)
}
