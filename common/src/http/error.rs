//! The one place a server turns an error into a status: each crate's error enum implements
//! `HttpError`, and handlers return `Result<Response<Body>, E>`.

use super::body::{text, Body};
use http::{Response, StatusCode};

pub trait HttpError: std::error::Error {
    fn status(&self) -> StatusCode;

    /// The response for this error: the status and the message as a text body.
    /// 5xx details are logged here, not sent to the client.
    fn to_response(&self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, %status, "request failed");
            text(status, status.canonical_reason().unwrap_or("Server Error"))
        } else {
            text(status, self.to_string())
        }
    }
}
