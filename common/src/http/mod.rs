//! The HTTP scaffold every server uses: one body type, one error-to-status trait, the
//! accept loop with graceful shutdown, a pooled client, and transaction ids.

mod body;
mod client;
mod error;
mod server;
mod trans_id;

pub use body::{empty, full, stream_body, text, Body, BodyError};
pub use client::{HttpClient, HttpClientError};
pub use error::HttpError;
pub use server::{serve, ServerOptions};
pub use trans_id::{new_trans_id, TRANS_ID_HEADER};
