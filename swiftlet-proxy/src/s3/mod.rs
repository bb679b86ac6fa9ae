//! The S3 REST API on the proxy's port, over the same accounts, containers (buckets) and
//! objects as the Swift API.
//!
//! A request is authenticated first ([`signature`]), then parsed into one
//! [`router::Endpoint`] and dispatched by one `match`; each handler runs Swift requests
//! through the proxy's own pipeline as the S3 user ([`swift`]). Every error is one
//! [`error::S3Error`], answered as S3's XML in one place.

pub mod acl;
pub mod bucket;
pub mod cors;
pub mod delete;
pub mod error;
pub mod get;
pub mod headers;
pub mod lifecycle;
pub mod list;
pub mod multipart;
pub mod multipart_list;
pub mod object;
pub mod replaced;
pub mod router;
pub mod signature;
pub mod swift;
pub mod tagging;
pub mod xml;

use crate::auth::Identity;
use crate::server::Proxy;
use common::http::{Body, BodyError};
use error::{Result, S3Error};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use router::{Endpoint, Query};
use signature::{BodyFailure, Payload, S3User, SignedRequest};
use std::sync::Arc;
use swift::Swift;

/// The region S3 clients are told their buckets live in.
pub const LOCATION: &str = "us-east-1";
/// Longest object name (Swift's limit, which S3's 1024 bytes matches).
pub const MAX_KEY_BYTES: usize = 1024;

/// Whether a request is for the S3 API: it carries AWS credentials (header or presigned
/// query), or its path is not one of the Swift API's.
pub fn is_s3_request<B>(req: &Request<B>) -> bool {
    let auth = req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth.starts_with("AWS4-HMAC-SHA256 ") || auth.starts_with("AWS ") {
        return true;
    }
    let query = req.uri().query().unwrap_or("");
    if query.split('&').any(|p| {
        p.starts_with("X-Amz-Algorithm=") || p.starts_with("X-Amz-Credential=") || p.starts_with("AWSAccessKeyId=")
    }) {
        return true;
    }
    // A Swift token says Swift, whatever the path (`//v1/...` is then a bad Swift path).
    let swift_token = req.headers().contains_key("x-auth-token") || req.headers().contains_key("x-storage-token");
    !swift_token && !is_swift_path(req.uri().path())
}

fn is_swift_path(path: &str) -> bool {
    matches!(path, "/healthcheck" | "/info" | "/auth/v1.0" | "/v1.0" | "/auth/v1/auth" | "/v1")
        || path.starts_with("/v1/")
        || path.starts_with("/v1.0/")
}

/// One S3 request, verified and parsed, as handlers see it.
pub struct S3Ctx<'a> {
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
    pub request_id: String,
}

impl S3Ctx<'_> {
    /// The bucket of a bucket or object operation (the router only sends those here).
    pub fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The owner shown in listings and ACLs: the access key (`account:user`).
    pub fn owner(&self) -> String {
        self.user.access_key()
    }

    /// A body check's error (signature, hash) wins over whatever storage made of it.
    pub fn body_error_or(&self, e: S3Error) -> S3Error {
        self.failure.take().unwrap_or(e)
    }
}

/// Serves one S3 request; errors become S3's XML here. Boxed with an explicit `Send`
/// bound, so the proxy's accept loop need not prove it through every S3 handler.
/// `OPTIONS` is a CORS preflight (no credentials); other requests with an `Origin` get
/// the CORS headers their bucket's rules grant.
pub fn handle<'a>(p: &'a Arc<Proxy>, trans_id: &'a str, req: Request<Incoming>) -> BoxFuture<'a, Response<Body>> {
    Box::pin(async move {
        let method = req.method().clone();
        let head = method == Method::HEAD;
        let resource = req.uri().path().to_string();
        let origin = req.headers().get("origin").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut seen = Seen::default();
        let result = if method == Method::OPTIONS {
            let (parts, _) = req.into_parts();
            cors::preflight(p, trans_id, &parts).await
        } else {
            serve(p, trans_id, req, &mut seen).await
        };
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => e.to_s3_response(trans_id, &resource, head),
        };
        if let (Some(origin), Some(bucket)) = (origin.filter(|_| method != Method::OPTIONS), &seen.bucket) {
            cors::decorate(p, trans_id, &origin, &method, seen.account.as_deref(), bucket, &mut resp).await;
        }
        if let Ok(v) = HeaderValue::from_str(trans_id) {
            resp.headers_mut().insert("x-amz-request-id", v.clone());
            resp.headers_mut().insert("x-amz-id-2", v);
        }
        resp
    })
}

/// What serving a request learnt about it, for the CORS headers of its answer: the
/// authenticated user's storage account and the bucket.
#[derive(Default)]
struct Seen {
    account: Option<String>,
    bucket: Option<String>,
}

async fn serve(p: &Arc<Proxy>, trans_id: &str, req: Request<Incoming>, seen: &mut Seen) -> Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    let host_bucket = host_bucket(&parts.headers);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let signed = SignedRequest {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        host_bucket: host_bucket.as_deref(),
        now,
    };
    let verified = signature::verify(&p.config.tempauth.users, &signed)?;
    // Paths name no account, so anonymous requests have nothing to act on (as Swift's s3api).
    let user = verified.user.ok_or(S3Error::AccessDenied)?;
    let (bucket, key) = bucket_and_key(host_bucket, parts.uri.path())?;
    seen.bucket = bucket.clone();
    let query = Query::parse(parts.uri.query());
    let copy_source = parts.headers.contains_key("x-amz-copy-source");
    let endpoint = Endpoint::parse(&parts.method, bucket.as_deref(), key.as_deref(), &query, copy_source)?;
    let failure = BodyFailure::default();
    let body = body.map_err(|e| Box::new(e) as BodyError).boxed_unsync();
    let (body, body_len) = verified_body(body, &parts.headers, verified.payload, &failure)?;
    let identity = identity_of(p, &user);
    seen.account = Some(identity.storage_account.clone());
    tracing::debug!(op = endpoint.name(), user = %user.access_key(), bucket = ?bucket, key = ?key, "S3 request");
    let ctx = S3Ctx {
        swift: Swift::new(p, trans_id, identity),
        user,
        bucket,
        key,
        method: parts.method,
        headers: parts.headers,
        query,
        body_len,
        failure,
        request_id: trans_id.to_string(),
    };
    dispatch(&ctx, endpoint, body).await
}

async fn dispatch(ctx: &S3Ctx<'_>, endpoint: Endpoint, body: Body) -> Result<Response<Body>> {
    use Endpoint::*;
    match endpoint {
        ListBuckets => bucket::list_buckets(ctx).await,
        CreateBucket => bucket::create(ctx, body).await,
        DeleteBucket => bucket::delete(ctx).await,
        HeadBucket => bucket::head(ctx).await,
        GetBucketLocation => bucket::location(ctx).await,
        GetBucketVersioning => bucket::get_versioning(ctx).await,
        PutBucketVersioning => bucket::put_versioning(ctx, body).await,
        GetBucketCors => cors::get_config(ctx).await,
        PutBucketCors => cors::put(ctx, body).await,
        DeleteBucketCors => cors::delete(ctx).await,
        GetBucketLifecycle => lifecycle::get_config(ctx).await,
        PutBucketLifecycle => lifecycle::put(ctx, body).await,
        DeleteBucketLifecycle => lifecycle::delete(ctx).await,
        ListObjects => list::list_objects(ctx, false).await,
        ListObjectsV2 => list::list_objects(ctx, true).await,
        ListObjectVersions => list::list_versions(ctx).await,
        ListMultipartUploads => multipart_list::list_uploads(ctx).await,
        GetBucketAcl => acl::get_bucket_acl(ctx).await,
        PutBucketAcl => acl::put_bucket_acl(ctx, body).await,
        GetObjectAcl => acl::get_object_acl(ctx).await,
        PutObjectAcl => acl::put_object_acl(ctx, body).await,
        DeleteObjects => delete::delete_objects(ctx, body).await,
        GetObject | HeadObject => get::get_object(ctx).await,
        PutObject => object::put_object(ctx, body).await,
        CopyObject => object::copy_object(ctx).await,
        DeleteObject => delete::delete_object(ctx).await,
        GetObjectTagging => tagging::get_tags(ctx).await,
        PutObjectTagging => tagging::put_tags(ctx, body).await,
        DeleteObjectTagging => tagging::delete_tags(ctx).await,
        CreateMultipartUpload => multipart::create(ctx).await,
        UploadPart { upload_id, part_number } => multipart::upload_part(ctx, &upload_id, part_number, body).await,
        UploadPartCopy { upload_id, part_number } => multipart::upload_part_copy(ctx, &upload_id, part_number).await,
        CompleteMultipartUpload { upload_id } => multipart::complete(ctx, &upload_id, body).await,
        AbortMultipartUpload { upload_id } => multipart::abort(ctx, &upload_id).await,
        ListParts { upload_id } => multipart_list::list_parts(ctx, &upload_id).await,
    }
}

/// The Swift identity of an S3 user: the same rights as the user's tempauth token.
fn identity_of(p: &Proxy, u: &S3User) -> Identity {
    Identity {
        account: u.account.clone(),
        user: u.user.clone(),
        admin: u.groups.iter().any(|g| g == ".admin"),
        reseller_admin: u.groups.iter().any(|g| g == ".reseller_admin"),
        storage_account: format!("{}{}", p.auth.reseller_prefix(), u.account),
    }
}

/// The bucket of a virtual-hosted-style request: `<bucket>.localhost` or
/// `<bucket>.s3.<domain>` (an IP address or a bare host name names none).
fn host_bucket(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST)?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    if name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
        return None;
    }
    let name = name.to_ascii_lowercase();
    let bucket = name.strip_suffix(".localhost").or_else(|| name.rfind(".s3.").map(|i| &name[..i]))?;
    (!bucket.is_empty()).then(|| bucket.to_string())
}

/// Splits the path into bucket and key (decoded); the bucket comes from the host in
/// virtual-hosted style.
fn bucket_and_key(host_bucket: Option<String>, raw_path: &str) -> Result<(Option<String>, Option<String>)> {
    let path = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| S3Error::InvalidArgument("the request path is not valid UTF-8".into()))?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    let (bucket, key) = match host_bucket {
        Some(b) => (Some(b), Some(path.to_string())),
        None => match path.split_once('/') {
            Some((b, k)) => (Some(b.to_string()), Some(k.to_string())),
            None => (Some(path.to_string()), None),
        },
    };
    let bucket = bucket.filter(|b| !b.is_empty());
    let key = key.filter(|k| !k.is_empty());
    if let Some(b) = &bucket {
        bucket::check_name_loosely(b)?;
    }
    if let Some(k) = &key {
        if k.len() > MAX_KEY_BYTES {
            return Err(S3Error::KeyTooLongError);
        }
        if k.contains('\0') {
            return Err(S3Error::InvalidArgument("object keys cannot contain NUL".into()));
        }
    }
    if bucket.is_none() && key.is_some() {
        return Err(S3Error::InvalidBucketName(String::new()));
    }
    Ok((bucket, key))
}

/// Wraps the body in the check its signature asks for; returns it with its decoded length.
fn verified_body(body: Body, h: &HeaderMap, payload: Payload, failure: &BodyFailure) -> Result<(Body, Option<u64>)> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    let len = |n: &str| -> Result<Option<u64>> {
        get(n)
            .map(|v| v.trim().parse::<u64>().map_err(|_| S3Error::InvalidArgument(format!("invalid {n}"))))
            .transpose()
    };
    let chunked = get("content-encoding").is_some_and(|v| v.split(',').any(|e| e.trim() == "aws-chunked"));
    Ok(match payload {
        Payload::Streaming(signer) => {
            let decoded = len("x-amz-decoded-content-length")?.ok_or(S3Error::MissingContentLength)?;
            (signature::streaming::decode(body, Some(signer), decoded, failure.clone()), Some(decoded))
        }
        _ if chunked => {
            return Err(S3Error::InvalidRequest("aws-chunked bodies need a streaming x-amz-content-sha256".into()))
        }
        Payload::Sha256(hash) => {
            (signature::payload::sha256_checked(body, hash, failure.clone()), len("content-length")?)
        }
        Payload::Unsigned => (body, len("content-length")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str) -> Option<String> {
        let mut m = HeaderMap::new();
        m.insert(http::header::HOST, HeaderValue::from_str(h).unwrap());
        host_bucket(&m)
    }

    #[test]
    fn virtual_hosts() {
        assert_eq!(host("127.0.0.1:8080"), None);
        assert_eq!(host("localhost:8080"), None);
        assert_eq!(host("[::1]:8080"), None);
        assert_eq!(host("photos.localhost:8080").as_deref(), Some("photos"));
        assert_eq!(host("my.bucket.s3.example.com").as_deref(), Some("my.bucket"));
        assert_eq!(host("s3.example.com"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(bucket_and_key(None, "/").unwrap(), (None, None));
        assert_eq!(bucket_and_key(None, "/b").unwrap(), (Some("b".into()), None));
        assert_eq!(bucket_and_key(None, "/b/").unwrap(), (Some("b".into()), None));
        assert_eq!(bucket_and_key(None, "/b/a%20b/c").unwrap(), (Some("b".into()), Some("a b/c".into())));
        assert_eq!(bucket_and_key(Some("vb".into()), "/k/x").unwrap(), (Some("vb".into()), Some("k/x".into())));
        assert!(matches!(bucket_and_key(None, &format!("/b/{}", "k".repeat(1025))), Err(S3Error::KeyTooLongError)));
        assert!(bucket_and_key(None, "/b/%FF").is_err());
        assert!(swift_paths_stay_swift());
    }

    fn swift_paths_stay_swift() -> bool {
        let r = |p: &str| Request::builder().uri(p).body(()).unwrap();
        !is_s3_request(&r("/v1/AUTH_test/c/o"))
            && !is_s3_request(&r("/auth/v1.0"))
            && !is_s3_request(&r("/info"))
            && is_s3_request(&r("/bucket/key"))
            && is_s3_request(&r("/"))
            && is_s3_request(&r("/v1/AUTH_x?X-Amz-Algorithm=AWS4-HMAC-SHA256"))
    }
}
