//! The S3 REST API on the proxy's port, over the same accounts, containers (buckets) and
//! objects as the Swift API.
//!
//! A request is authenticated first ([`signature`]), then parsed into one
//! [`router::Endpoint`] and dispatched by one `match`; each handler runs Swift requests
//! through the proxy's own pipeline as the S3 user ([`swift`]). Every error is one
//! [`error::S3Error`], answered as S3's XML in one place.

pub mod acl;
pub mod bucket;
pub mod buckets;
pub mod context;
pub mod cors;
pub mod delete;
pub mod error;
pub mod error_response;
pub mod frontend;
pub mod get;
pub mod headers;
pub mod lifecycle;
pub mod lifecycle_rules;
pub mod list;
pub mod multipart;
pub mod multipart_list;
pub mod object;
pub mod objects;
pub mod paths;
pub mod replaced;
pub mod router;
pub mod signature;
pub mod swift;
pub mod tagging;
pub mod tags;
pub mod uploads;
pub mod xml;

pub use frontend::{front_door, S3};
