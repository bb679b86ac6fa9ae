//! The proxy's errors and the one place they become statuses.

use common::http::HttpError;
use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("{0}")]
    BadRequest(String),
    #[error(
        "Unauthorized: this server could not verify that you are authorized to access the document you requested."
    )]
    Unauthorized,
    #[error("401 Unauthorized: Temp URL invalid\n")]
    TempUrlInvalid,
    #[error("Forbidden: access was denied to this resource.")]
    Forbidden,
    #[error("The resource could not be found.")]
    NotFound,
    #[error("The method is not allowed for this resource.")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("Length Required: missing Content-Length or Transfer-Encoding header")]
    LengthRequired,
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("Your request is too large.")]
    TooLarge,
    #[error("{0}")]
    EntityTooLarge(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    UnprocessableEntity(String),
    #[error("Client disconnected or timed out: {0}")]
    ClientDisconnect(String),
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Path(#[from] common::path::PathError),
    #[error(transparent)]
    Metadata(#[from] common::constraints::MetadataError),
}

impl HttpError for ProxyError {
    fn status(&self) -> StatusCode {
        match self {
            ProxyError::BadRequest(_) | ProxyError::Metadata(_) => StatusCode::BAD_REQUEST,
            ProxyError::Path(common::path::PathError::TooLong { .. }) => StatusCode::BAD_REQUEST,
            ProxyError::Path(_) => StatusCode::PRECONDITION_FAILED,
            ProxyError::Unauthorized | ProxyError::TempUrlInvalid => StatusCode::UNAUTHORIZED,
            ProxyError::Forbidden => StatusCode::FORBIDDEN,
            ProxyError::NotFound => StatusCode::NOT_FOUND,
            ProxyError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProxyError::Conflict(_) => StatusCode::CONFLICT,
            ProxyError::LengthRequired => StatusCode::LENGTH_REQUIRED,
            ProxyError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ProxyError::TooLarge | ProxyError::EntityTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ProxyError::UnprocessableEntity(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ProxyError::ClientDisconnect(_) => StatusCode::REQUEST_TIMEOUT,
            ProxyError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ProxyError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ProxyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub type Result<T, E = ProxyError> = std::result::Result<T, E>;
