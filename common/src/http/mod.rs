//! The HTTP scaffold every server uses: one body type, one error-to-status trait, the
//! accept loop with graceful shutdown, a pooled client, and transaction ids.

mod body;
mod client;
mod error;
mod idle;
mod per_ip;
mod server;
mod tls;
mod trans_id;

pub use body::{empty, frame_body, full, stream_body, text, Body, BodyError};
pub use client::{HttpClient, HttpClientError};
pub use error::HttpError;
pub use server::{serve, PeerAddr, ServerOptions};
pub use tls::{reload_on_sighup, write_self_signed, Tls, TlsError, TlsFiles};
pub use trans_id::{new_trans_id, TRANS_ID_HEADER};

/// The trailer field in which the proxy sends a streamed object's ETag (MD5 hex) after its
/// body, so only the proxy hashes the body with MD5, once, instead of every replica again.
/// An object PUT announces it with `Trailer: x-backend-obj-etag`.
pub const ETAG_TRAILER: &str = "x-backend-obj-etag";
/// Names the system metadata an object PUT's body carries in its trailer (comma-separated),
/// known only once the body is read: the S3 API's trailing checksum. Set in the proxy only.
pub const FOOTERS_HEADER: &str = "x-backend-footers";
