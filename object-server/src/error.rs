//! The object server's one error type and the one place it becomes an HTTP status.

use common::http::{text, Body, HttpError};
use common::Timestamp;
use http::{HeaderValue, Response, StatusCode};

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// The stored name differs from the requested one under the same hash.
    #[error("Client path does not match path stored in object metadata")]
    Collision,
    #[error("{device} is not available: {reason}")]
    DeviceUnavailable { device: String, reason: String },
    #[error("{0}: the filesystem does not support user xattrs")]
    XattrNotSupported(String),
    #[error("no space left on device")]
    NoSpace,
    #[error("object quarantined: {0}")]
    Quarantined(String),
    #[error("device pool of {0} is shut down")]
    PoolClosed(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("device database error: {0}")]
    Db(#[from] rocksdb::Error),
    #[error("{0}")]
    Config(#[from] common::config::ConfigError),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// Maps a write-side I/O error: a full disk (or quota) is `NoSpace`, so it answers 507.
    pub fn from_write(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => Error::NoSpace,
            _ => Error::Io(e),
        }
    }

    /// True for errors that mean "this device cannot take writes" (507).
    pub fn is_insufficient_storage(&self) -> bool {
        matches!(self, Error::DeviceUnavailable { .. } | Error::XattrNotSupported(_) | Error::NoSpace)
    }
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
            NotFound { .. } | Quarantined(_) => StatusCode::NOT_FOUND,
            Conflict { .. } => StatusCode::CONFLICT,
            PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            // Swift's HTTPClientDisconnect.
            ClientDisconnect => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Collision => StatusCode::FORBIDDEN,
            DeviceUnavailable { .. } | XattrNotSupported(_) | NoSpace => StatusCode::INSUFFICIENT_STORAGE,
            PoolClosed(_) => StatusCode::SERVICE_UNAVAILABLE,
            Io(_) | Db(_) | Config(_) | Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        assert_eq!(Error::NoSpace.status(), 507);
        let r = Error::RangeNotSatisfiable { length: 10 }.to_response();
        assert_eq!(r.headers()["content-range"], "bytes */10");
        let enospc = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(matches!(Error::from_write(enospc), Error::NoSpace));
        assert_eq!(Error::Path(common::path::PathError::BadEncoding).status(), 412);
    }
}
