//! The crate's one error type and the one place it becomes a status and an error body.

use common::http::{Body, HttpClientError, HttpError};
use http::{HeaderValue, Response, StatusCode};

#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    #[error("{0}")]
    BadRequest(String),
    #[error("The request you have made requires authentication.")]
    Unauthorized,
    #[error("{0}")]
    LoginFailed(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("The method is not allowed for this resource.")]
    MethodNotAllowed,
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Client disconnected or timed out: {0}")]
    ClientGone(String),
    #[error("Requested range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("object store: {0}")]
    Store(String),
    #[error("{0}")]
    Unavailable(String),
    /// Too much expensive work (password hashing) at once; the client may retry.
    #[error("Too many authentication requests at once; retry in {retry_after} s.")]
    Busy { retry_after: u64 },
    /// The services cannot start with this config.
    #[error("config: {0}")]
    Config(String),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Http(#[from] HttpClientError),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = ShimError> = std::result::Result<T, E>;

impl HttpError for ShimError {
    fn status(&self) -> StatusCode {
        match self {
            ShimError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ShimError::Unauthorized | ShimError::LoginFailed(_) => StatusCode::UNAUTHORIZED,
            ShimError::Forbidden(_) => StatusCode::FORBIDDEN,
            ShimError::NotFound(_) => StatusCode::NOT_FOUND,
            ShimError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ShimError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ShimError::Conflict(_) => StatusCode::CONFLICT,
            ShimError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ShimError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ShimError::ClientGone(_) => StatusCode::REQUEST_TIMEOUT,
            ShimError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ShimError::Store(_) | ShimError::Http(_) => StatusCode::BAD_GATEWAY,
            ShimError::Unavailable(_) | ShimError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ShimError::Db(_) | ShimError::Io(_) | ShimError::Internal(_) | ShimError::Config(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// How a service spells its error bodies: Keystone and Glance use `{"error": {...}}`,
/// Nova names the fault (`{"itemNotFound": {...}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    Keystone,
    Nova,
}

impl ShimError {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ShimError::NotFound(format!("Could not find {what}."))
    }

    pub fn render(&self, style: ErrorStyle) -> Response<Body> {
        let status = self.status();
        // A flood is answered Busy many times a second: no error log for each.
        let message = if let ShimError::Busy { .. } = self {
            self.to_string()
        } else if status.is_server_error() {
            tracing::error!(error = %self, %status, "request failed");
            status.canonical_reason().unwrap_or("Server Error").to_string()
        } else {
            self.to_string()
        };
        let title = status.canonical_reason().unwrap_or("Error");
        let body = match style {
            ErrorStyle::Keystone => {
                serde_json::json!({"error": {"code": status.as_u16(), "title": title, "message": message}})
            }
            ErrorStyle::Nova => {
                let key = match status {
                    StatusCode::BAD_REQUEST => "badRequest",
                    StatusCode::UNAUTHORIZED => "unauthorized",
                    StatusCode::FORBIDDEN => "forbidden",
                    StatusCode::NOT_FOUND => "itemNotFound",
                    StatusCode::CONFLICT => "conflictingRequest",
                    StatusCode::PAYLOAD_TOO_LARGE => "overLimit",
                    StatusCode::NOT_ACCEPTABLE => "notAcceptable",
                    s if s.is_server_error() => "computeFault",
                    _ => "error",
                };
                serde_json::json!({key: {"code": status.as_u16(), "message": message}})
            }
        };
        let mut resp = crate::web::json(status, &body);
        if let ShimError::RangeNotSatisfiable { size } = self {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(http::header::CONTENT_RANGE, v);
            }
        }
        if let ShimError::Busy { retry_after } = self {
            resp.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        resp
    }
}
