//! Quotas: the container's and the account's, and the refusal they share.

pub(crate) mod account;
pub(crate) mod container;
pub(crate) mod refusal;
