//! The proxy's own endpoints: `/healthcheck`, `/info` and tempauth's `/auth/v1.0`.

pub mod info;
pub mod login;
pub mod step;
