//! The container server's one error type, and the one place its statuses are chosen.

use common::http::HttpError;
use common::path::PathError;
use http::StatusCode;
use swiftlet_broker::listing::ListingError;
use swiftlet_broker::BrokerError;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
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

impl HttpError for ContainerError {
    fn status(&self) -> StatusCode {
        match self {
            ContainerError::BadRequest(_) | ContainerError::Body(_) => StatusCode::BAD_REQUEST,
            ContainerError::Path(PathError::BadEncoding) => StatusCode::PRECONDITION_FAILED,
            ContainerError::Path(_) => StatusCode::BAD_REQUEST,
            ContainerError::Listing(ListingError::LimitTooLarge(_)) => StatusCode::PRECONDITION_FAILED,
            ContainerError::Listing(ListingError::NotAcceptable) => StatusCode::NOT_ACCEPTABLE,
            ContainerError::Listing(_) => StatusCode::BAD_REQUEST,
            ContainerError::Broker(e) => match e {
                BrokerError::NotFound(_) => StatusCode::NOT_FOUND,
                BrokerError::Unmounted(_) => StatusCode::INSUFFICIENT_STORAGE,
                BrokerError::BadDevice(_) | BrokerError::BadInput(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ContainerError::NotFound => StatusCode::NOT_FOUND,
            ContainerError::Conflict => StatusCode::CONFLICT,
            ContainerError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ContainerError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub type Result<T, E = ContainerError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(ContainerError::Path(PathError::BadEncoding).status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(ContainerError::Listing(ListingError::LimitTooLarge(1)).status(), StatusCode::PRECONDITION_FAILED);
        let unmounted = ContainerError::Broker(BrokerError::Unmounted("sda".into()));
        assert_eq!(unmounted.status(), StatusCode::INSUFFICIENT_STORAGE);
        let q = BrokerError::Quarantined { path: "a".into(), to: "b".into(), reason: "r".into() };
        assert_eq!(ContainerError::Broker(q).status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
