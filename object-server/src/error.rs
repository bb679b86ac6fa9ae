//! The object server's one error type and the one place it becomes an HTTP status: its
//! own variants and every [`StoreError`] variant are mapped here.

use common::http::{text, Body, HttpError};
use common::Timestamp;
use http::{HeaderValue, Response, StatusCode};
use swiftlet_object_store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong serving a request: the request's own faults, the verbs' outcomes,
/// and whatever the store reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Path(#[from] common::path::PathError),
    #[error("{0}")]
    Metadata(#[from] common::constraints::MetadataError),
    #[error("Missing Content-Length header.")]
    LengthRequired,
    #[error("Your request is too large.")]
    TooLarge,
    #[error("Unsupported Transfer-Encoding: {0}")]
    NotImplemented(String),
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    /// 404; `timestamp` is the tombstone's (or expired object's) time, sent as X-Backend-Timestamp.
    #[error("Not Found")]
    NotFound { timestamp: Option<Timestamp> },
    /// 409: what is on disk is as new or newer.
    #[error("Conflict")]
    Conflict { timestamp: Option<Timestamp> },
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("Requested Range Not Satisfiable")]
    RangeNotSatisfiable { length: u64 },
    #[error("{0}")]
    Unprocessable(String),
    #[error("Client Disconnect")]
    ClientDisconnect,
    #[error("Request Timeout")]
    RequestTimeout,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The container ring could not be loaded (at start-up).
    #[error("container ring: {0}")]
    Ring(#[from] swiftlet_ring::RingError),
    #[error("{0}")]
    Internal(String),
}

/// The status of a store error.
fn store_status(e: &StoreError) -> StatusCode {
    use StoreError::*;
    match e {
        // Swift answers 412 for a path that is not UTF-8 or holds NUL.
        Path(common::path::PathError::BadEncoding) => StatusCode::PRECONDITION_FAILED,
        Path(_) | BadFrame(_) => StatusCode::BAD_REQUEST,
        Quarantined(_) => StatusCode::NOT_FOUND,
        Collision => StatusCode::FORBIDDEN,
        // The SSYNC sender went away mid-frame: Swift's HTTPClientDisconnect.
        Truncated => client_disconnect(),
        DeviceUnavailable { .. } | XattrNotSupported(_) | NoSpace => StatusCode::INSUFFICIENT_STORAGE,
        PoolClosed(_) => StatusCode::SERVICE_UNAVAILABLE,
        Remote(_) | Io(_) | Db(_) | Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Swift's HTTPClientDisconnect.
fn client_disconnect() -> StatusCode {
    StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST)
}

impl HttpError for Error {
    fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            BadRequest(_) | Metadata(_) => StatusCode::BAD_REQUEST,
            // Swift answers 412 for a path that is not UTF-8 or holds NUL.
            Path(common::path::PathError::BadEncoding) => StatusCode::PRECONDITION_FAILED,
            Path(_) => StatusCode::BAD_REQUEST,
            LengthRequired => StatusCode::LENGTH_REQUIRED,
            TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            NotFound { .. } => StatusCode::NOT_FOUND,
            Conflict { .. } => StatusCode::CONFLICT,
            PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ClientDisconnect => client_disconnect(),
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Store(e) => store_status(e),
            Io(_) | Ring(_) | Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn to_response(&self) -> Response<Body> {
        let status = self.status();
        let mut resp = if status.is_server_error() {
            if status == StatusCode::INSUFFICIENT_STORAGE {
                tracing::warn!(error = %self, "insufficient storage");
            } else {
                tracing::error!(error = %self, %status, "request failed");
            }
            text(status, status.canonical_reason().unwrap_or("Server Error"))
        } else {
            text(status, self.to_string())
        };
        let headers = resp.headers_mut();
        match self {
            Error::NotFound { timestamp: Some(ts) } | Error::Conflict { timestamp: Some(ts) } => {
                if let Ok(v) = HeaderValue::from_str(&ts.internal()) {
                    headers.insert("x-backend-timestamp", v);
                }
            }
            Error::RangeNotSatisfiable { length } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{length}")) {
                    headers.insert(http::header::CONTENT_RANGE, v);
                }
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_headers() {
        let ts: Timestamp = "1700000000.00000".parse().unwrap();
        let r = Error::NotFound { timestamp: Some(ts) }.to_response();
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-backend-timestamp"], "1700000000.00000");
        assert_eq!(Error::ClientDisconnect.status().as_u16(), 499);
        assert_eq!(Error::from(StoreError::NoSpace).status(), 507);
        let r = Error::RangeNotSatisfiable { length: 10 }.to_response();
        assert_eq!(r.headers()["content-range"], "bytes */10");
        let enospc = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(Error::from(StoreError::from_write(enospc)).status(), 507);
        assert_eq!(Error::Path(common::path::PathError::BadEncoding).status(), 412);
        assert_eq!(Error::from(StoreError::Path(common::path::PathError::BadEncoding)).status(), 412);
        assert_eq!(Error::from(StoreError::Truncated).status().as_u16(), 499);
        assert_eq!(Error::from(StoreError::Quarantined("x".into())).status(), 404);
    }
}
