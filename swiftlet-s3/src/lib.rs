//! The S3 REST API on the proxy's port, over the same accounts, containers (buckets) and
//! objects as the Swift API.
//!
//! A request is authenticated first ([`signature`]), then parsed into one
//! [`router::Endpoint`] and dispatched by one `match`; each handler runs Swift requests
//! through the proxy's own pipeline as the S3 user ([`swift`]). Every error is one
//! [`error::S3Error`], answered as S3's XML in one place.

#![warn(unreachable_pub)]

pub(crate) mod access;
pub(crate) mod acl;
pub(crate) mod bucket;
pub(crate) mod buckets;
pub mod checksum;
pub(crate) mod conditional;
pub(crate) mod context;
pub(crate) mod cors;
pub(crate) mod delete;
pub(crate) mod error;
pub(crate) mod error_response;
pub(crate) mod frontend;
/// What the fuzz targets (`fuzz/`) drive: signatures, aws-chunked bodies, XML bodies.
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod get;
pub(crate) mod headers;
mod key_locks;
pub(crate) mod lifecycle;
pub(crate) mod lifecycle_rules;
pub(crate) mod list;
pub(crate) mod multipart;
pub(crate) mod multipart_list;
pub(crate) mod object;
pub(crate) mod objects;
pub(crate) mod paths;
pub(crate) mod policy;
pub(crate) mod post_object;
pub(crate) mod replaced;
pub(crate) mod request_body;
pub(crate) mod router;
pub mod signature;
pub(crate) mod swift;
pub(crate) mod tagging;
pub(crate) mod tags;
pub(crate) mod uploads;
pub(crate) mod xml;

pub use frontend::{front_door, S3};
