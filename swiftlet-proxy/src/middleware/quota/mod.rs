//! Quotas: the container's and the account's, and the refusal they share.

pub mod account;
pub mod container;
pub mod refusal;
