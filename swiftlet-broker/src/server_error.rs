//! The one error type of the account and container servers (the HTTP face of a broker), and
//! the one place their statuses are chosen.

use crate::listing::ListingError;
use crate::BrokerError;
use common::http::HttpError;
use common::path::PathError;
use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum DbServerError {
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
    #[error("request body: {0}")]
    Body(String),
    #[error("server I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl HttpError for DbServerError {
    fn status(&self) -> StatusCode {
        match self {
            DbServerError::BadRequest(_) | DbServerError::Body(_) => StatusCode::BAD_REQUEST,
            DbServerError::Path(PathError::BadEncoding) => StatusCode::PRECONDITION_FAILED,
            DbServerError::Path(_) => StatusCode::BAD_REQUEST,
            DbServerError::Listing(ListingError::LimitTooLarge(_)) => StatusCode::PRECONDITION_FAILED,
            DbServerError::Listing(ListingError::NotAcceptable) => StatusCode::NOT_ACCEPTABLE,
            DbServerError::Listing(_) => StatusCode::BAD_REQUEST,
            DbServerError::Broker(e) => match e {
                BrokerError::NotFound(_) => StatusCode::NOT_FOUND,
                BrokerError::Unmounted(_) => StatusCode::INSUFFICIENT_STORAGE,
                BrokerError::BadDevice(_) | BrokerError::BadInput(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            DbServerError::NotFound => StatusCode::NOT_FOUND,
            DbServerError::Conflict => StatusCode::CONFLICT,
            DbServerError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            DbServerError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(DbServerError::Path(PathError::BadEncoding).status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(DbServerError::Listing(ListingError::LimitTooLarge(1)).status(), StatusCode::PRECONDITION_FAILED);
        let unmounted = DbServerError::Broker(BrokerError::Unmounted("sda".into()));
        assert_eq!(unmounted.status(), StatusCode::INSUFFICIENT_STORAGE);
        let q = BrokerError::Quarantined { path: "a".into(), to: "b".into(), reason: "r".into() };
        assert_eq!(DbServerError::Broker(q).status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(DbServerError::Listing(ListingError::NotAcceptable).status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(
            DbServerError::Broker(BrokerError::Unmounted("d".into())).status(),
            StatusCode::INSUFFICIENT_STORAGE
        );
    }
}
