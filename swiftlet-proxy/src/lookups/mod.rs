//! Account and container info, cached in the cluster's info caches: what the controllers,
//! the middleware and the S3 frontend ask about accounts and containers.

pub(crate) mod account;
pub(crate) mod container;
