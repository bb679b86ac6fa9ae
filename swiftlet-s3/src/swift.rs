//! S3 operations run as Swift requests through the proxy's own pipeline, in process: a
//! sub-request for `/v1/AUTH_<account>/<container>/<object>` carrying the S3 user's
//! identity, so S3 and Swift share one set of rights (ACLs, admins), large objects,
//! quotas and versioning. Statuses that come back are turned into S3 errors here.

use crate::error::S3Error;
use bytes::Bytes;
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::BodyExt;
use swiftlet_proxy::context::Ctx;
use swiftlet_proxy::Identity;
use swiftlet_proxy::SwiftApi;

/// Listings, manifests and error texts read whole are at most this big.
pub(crate) const SMALL_BODY_LIMIT: usize = 8 << 20;

/// The Swift side of one S3 request: who asks, in which account.
pub(crate) struct Swift<'a> {
    pub api: &'a SwiftApi,
    pub ctx: Ctx,
    /// The storage account (`AUTH_test`).
    pub account: String,
}

/// A Swift answer read whole.
pub(crate) struct Small {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl<'a> Swift<'a> {
    /// The Swift side of a request acting in `account` (the bucket's, which need not be
    /// the caller's), as `identity` (`None`: anonymous), within `scope` when the policy or
    /// an everyone-writes ACL granted what Swift's ACLs cannot express.
    pub(crate) fn acting(
        api: &'a SwiftApi,
        mut ctx: Ctx,
        identity: Option<Identity>,
        account: String,
        scope: Option<swiftlet_proxy::TempUrlScope>,
    ) -> Self {
        ctx.identity = identity;
        ctx.temp_url = scope;
        Swift { api, ctx, account }
    }

    /// Sends one request down the pipeline; errors come back as their responses.
    pub(crate) async fn call(
        &self,
        method: Method,
        container: Option<&str>,
        object: Option<&str>,
        query: &[(&str, &str)],
        headers: HeaderMap,
        body: Body,
    ) -> Response<Body> {
        let path = swiftlet_proxy::swift_path(&self.account, container, object);
        let query = (!query.is_empty()).then(|| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                s.append_pair(k, v);
            }
            s.finish()
        });
        self.api.call(&self.ctx, method, &path, query.as_deref(), headers, body).await
    }

    /// A request with no body whose answer is read whole (HEADs, listings, small writes).
    pub(crate) async fn small(
        &self,
        method: Method,
        container: Option<&str>,
        object: Option<&str>,
        query: &[(&str, &str)],
        headers: HeaderMap,
    ) -> Result<Small, S3Error> {
        let head = method == Method::HEAD;
        let resp = self.call(method, container, object, query, headers, common::http::empty()).await;
        if head {
            // A HEAD answer has no body to read.
            let (parts, _) = resp.into_parts();
            return Ok(Small { status: parts.status, headers: parts.headers, body: Bytes::new() });
        }
        read_small(resp).await
    }

    /// Like [`small`](Self::small) with a body (manifests, markers).
    pub(crate) async fn small_with(
        &self,
        method: Method,
        container: Option<&str>,
        object: Option<&str>,
        query: &[(&str, &str)],
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Small, S3Error> {
        let resp = self.call(method, container, object, query, headers, common::http::full(body)).await;
        read_small(resp).await
    }
}

pub(crate) async fn read_small(resp: Response<Body>) -> Result<Small, S3Error> {
    let (parts, body) = resp.into_parts();
    let body = read_limited(body, SMALL_BODY_LIMIT)
        .await
        .map_err(|e| S3Error::InternalError(format!("reading a storage answer: {e}")))?;
    Ok(Small { status: parts.status, headers: parts.headers, body })
}

/// Why [`read_limited`] stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("the body is longer than {0} bytes")]
    TooLong(usize),
    #[error("{0}")]
    Body(String),
}

/// Reads a body whole, up to `limit` bytes.
pub(crate) async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, ReadError> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadError::Body(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ReadError::TooLong(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// What a Swift failure status means in S3 terms; `not_found` is the 404 of the resource
/// asked for (NoSuchBucket, NoSuchKey, NoSuchUpload...).
pub(crate) fn error_for(status: StatusCode, body: &[u8], not_found: S3Error) -> S3Error {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
    match status.as_u16() {
        401 | 403 => S3Error::AccessDenied,
        404 => not_found,
        408 | 499 => S3Error::RequestTimeout,
        411 => S3Error::MissingContentLength,
        412 => S3Error::PreconditionFailed,
        413 => S3Error::EntityTooLarge,
        416 => S3Error::InvalidRange,
        422 => S3Error::BadDigest,
        429 | 498 => S3Error::SlowDown,
        400 if text.contains("etadata") => S3Error::MetadataTooLarge,
        400 if text.to_ascii_lowercase().contains("too long") => S3Error::KeyTooLongError,
        400 => S3Error::InvalidArgument(text),
        503 | 507 => S3Error::ServiceUnavailable(text),
        _ => S3Error::InternalError(format!("storage answered {status}: {text}")),
    }
}

/// Reads a failed response's text and maps it with [`error_for`].
pub(crate) async fn error_from(resp: Response<Body>, not_found: S3Error) -> S3Error {
    let status = resp.status();
    match read_small(resp).await {
        Ok(s) => error_for(status, &s.body, not_found),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert!(matches!(error_for(StatusCode::NOT_FOUND, b"", S3Error::NoSuchKey), S3Error::NoSuchKey));
        assert!(matches!(error_for(StatusCode::UNAUTHORIZED, b"", S3Error::NoSuchKey), S3Error::AccessDenied));
        assert!(matches!(error_for(StatusCode::UNPROCESSABLE_ENTITY, b"", S3Error::NoSuchKey), S3Error::BadDigest));
        assert!(matches!(
            error_for(StatusCode::BAD_REQUEST, b"Metadata value too long", S3Error::NoSuchKey),
            S3Error::MetadataTooLarge
        ));
        assert!(matches!(error_for(StatusCode::BAD_GATEWAY, b"", S3Error::NoSuchKey), S3Error::InternalError(_)));
    }
}
