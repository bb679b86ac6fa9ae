//! One S3 request as handlers see it: verified, parsed, with its Swift side.

use crate::error::S3Error;
use crate::router::Query;
use crate::signature::{BodyFailure, S3User};
use crate::swift::Swift;
use http::{HeaderMap, Method};

/// The region S3 clients are told their buckets live in.
pub(crate) const LOCATION: &str = "us-east-1";

/// One S3 request, verified and parsed, as handlers see it.
pub(crate) struct S3Ctx<'a> {
    pub swift: Swift<'a>,
    pub user: S3User,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub method: Method,
    pub headers: HeaderMap,
    pub query: Query,
    /// The body's length once decoded (Content-Length, or x-amz-decoded-content-length).
    pub body_len: Option<u64>,
    pub failure: BodyFailure,
    /// The checksum the request declared, parsed once (`frontend::verified_body`).
    pub checksum: Option<crate::checksum::Declared>,
    /// This proxy's locks of keys with a conditional write in flight.
    pub write_locks: std::sync::Arc<crate::key_locks::KeyLocks>,
}

impl S3Ctx<'_> {
    /// The bucket of a bucket or object operation (the router only sends those here).
    pub(crate) fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    pub(crate) fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        common::headers::get(&self.headers, name)
    }

    /// The owner shown in listings and ACLs: the access key (`account:user`).
    pub(crate) fn owner(&self) -> String {
        self.user.access_key()
    }

    /// A body check's error (signature, hash) wins over whatever storage made of it.
    pub(crate) fn body_error_or(&self, e: S3Error) -> S3Error {
        self.failure.take().unwrap_or(e)
    }
}
