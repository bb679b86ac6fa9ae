//! The account server's one error type, and the one place its statuses are chosen.

use common::http::HttpError;
use common::path::PathError;
use http::StatusCode;
use swiftlet_broker::listing::ListingError;
use swiftlet_broker::BrokerError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Listing(#[from] ListingError),
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("Not Found")]
    NotFound,
    #[error("Conflict")]
    Conflict,
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    #[error("server I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl HttpError for AccountError {
    fn status(&self) -> StatusCode {
        match self {
            AccountError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AccountError::Path(PathError::BadEncoding) => StatusCode::PRECONDITION_FAILED,
            AccountError::Path(_) => StatusCode::BAD_REQUEST,
            AccountError::Listing(ListingError::LimitTooLarge(_)) => StatusCode::PRECONDITION_FAILED,
            AccountError::Listing(ListingError::NotAcceptable) => StatusCode::NOT_ACCEPTABLE,
            AccountError::Listing(_) => StatusCode::BAD_REQUEST,
            AccountError::Broker(e) => match e {
                BrokerError::NotFound(_) => StatusCode::NOT_FOUND,
                BrokerError::Unmounted(_) => StatusCode::INSUFFICIENT_STORAGE,
                BrokerError::BadDevice(_) | BrokerError::BadInput(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            AccountError::NotFound => StatusCode::NOT_FOUND,
            AccountError::Conflict => StatusCode::CONFLICT,
            AccountError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AccountError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub type Result<T, E = AccountError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(AccountError::Listing(ListingError::NotAcceptable).status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(AccountError::Broker(BrokerError::Unmounted("d".into())).status(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(AccountError::Path(PathError::BadEncoding).status(), StatusCode::PRECONDITION_FAILED);
    }
}
