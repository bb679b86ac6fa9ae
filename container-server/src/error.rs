//! The container server's error type: the one the account and container servers share
//! (statuses chosen in `swiftlet_broker::server_error`).

pub use swiftlet_broker::server_error::DbServerError as ContainerError;

pub type Result<T, E = ContainerError> = std::result::Result<T, E>;
