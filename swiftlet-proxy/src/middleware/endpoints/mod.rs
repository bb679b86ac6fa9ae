//! The proxy's own endpoints: `/healthcheck`, `/info` and tempauth's `/auth/v1.0`.

pub(crate) mod info;
pub(crate) mod login;
pub(crate) mod step;
