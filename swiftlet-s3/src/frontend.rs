//! The S3 frontend of the proxy: it claims S3 requests at the pipeline's frontends step,
//! authenticates them first ([`crate::signature`]), parses each into one
//! [`crate::router::Endpoint`] and dispatches it with one `match`; each handler runs Swift
//! requests through the proxy's pipeline as the S3 user ([`crate::swift`]). Every error is
//! one [`crate::error::S3Error`], answered as S3's XML here.

use crate::access::{self, Caller};
use crate::checksum::{self, Algorithm, Declared};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::key_locks::KeyLocks;
use crate::paths::{bucket_and_key, host_bucket, is_s3_request};
use crate::router::{Endpoint, Query};
use crate::signature::{self, BodyFailure, Payload, S3User, SignedRequest};
use crate::swift::Swift;
use crate::{
    acl, bucket, cors, delete, get, lifecycle, list, multipart, multipart_list, object, policy, post_object, tagging,
};
use common::http::Body;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method, Response};
use std::sync::Arc;
use swiftlet_proxy::request::ProxyRequest;
use swiftlet_proxy::{Frontend, SwiftApi};

/// The S3 REST API on the proxy's port, over the same accounts, containers (buckets) and
/// objects as the Swift API.
#[derive(Default)]
pub struct S3 {
    /// Keys with a conditional write in flight through this proxy.
    write_locks: Arc<KeyLocks>,
}

impl Frontend for S3 {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn claims(&self, req: &ProxyRequest) -> bool {
        is_s3_request(req.headers(), &req.head.uri)
    }

    fn serve<'a>(&'a self, req: ProxyRequest, swift: SwiftApi) -> BoxFuture<'a, Response<Body>> {
        handle(swift, req, self.write_locks.clone())
    }

    /// Listed as Swift's s3api lists itself, with the keys Swift's functional tests read.
    fn info(&self) -> Option<(&'static str, serde_json::Value)> {
        Some((
            "s3api",
            serde_json::json!({
                "max_bucket_listing": crate::list::DEFAULT_MAX_KEYS,
                "max_parts_listing": crate::multipart_list::DEFAULT_MAX_PARTS,
                "max_upload_part_num": crate::router::MAX_PART_NUMBER,
                "max_multi_delete_objects": crate::delete::MAX_DELETE_KEYS,
                "allow_multipart_uploads": true,
                "min_segment_size": crate::multipart::MIN_PART_SIZE,
                // Bucket ACLs are the container's Swift ACLs, not S3's own per-object ACLs.
                "s3_acl": false,
            }),
        ))
    }
}

/// Serves one S3 request; errors become S3's XML here. Boxed with an explicit `Send`
/// bound, so the proxy's accept loop need not prove it through every S3 handler.
/// `OPTIONS` is a CORS preflight (no credentials); other requests with an `Origin` get
/// the CORS headers their bucket's rules grant.
fn handle(api: SwiftApi, req: ProxyRequest, write_locks: Arc<KeyLocks>) -> BoxFuture<'static, Response<Body>> {
    Box::pin(async move {
        let method = req.method().clone();
        let head = method == Method::HEAD;
        let resource = req.path().to_string();
        let origin = common::headers::get(req.headers(), "origin").map(str::to_string);
        let trans_id = req.ctx.trans_id.clone();
        let trans_id = trans_id.as_str();
        let mut seen = Seen::default();
        let result = if method == Method::OPTIONS {
            cors::preflight(&api, trans_id, &req.head).await
        } else {
            serve(&api, req, &mut seen, write_locks).await
        };
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => e.to_s3_response(trans_id, &resource, head),
        };
        if let (Some(origin), Some(account), Some(bucket)) =
            (origin.filter(|_| method != Method::OPTIONS), &seen.account, &seen.bucket)
        {
            cors::decorate(&api, trans_id, &origin, &method, account, bucket, &mut resp).await;
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

async fn serve(
    api: &SwiftApi,
    req: ProxyRequest,
    seen: &mut Seen,
    write_locks: Arc<KeyLocks>,
) -> Result<Response<Body>> {
    let ProxyRequest { head: parts, body, ctx, .. } = req;
    let host_bucket = host_bucket(&parts.headers);
    let peer = parts.extensions.get::<common::http::PeerAddr>().map(|p| p.0.ip());
    if let Some(upload) = browser_upload(&parts, host_bucket.clone())? {
        // A browser upload's credentials are in its form, not its headers.
        seen.bucket = Some(upload.clone());
        let mut placed = post_object::Placed { account: None };
        let result = post_object::serve(api, parts, body, ctx, upload, peer, &mut placed).await;
        seen.account = placed.account;
        return result;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let signed = SignedRequest {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        host_bucket: host_bucket.as_deref(),
        now,
    };
    let verified = signature::verify(api.users(), &signed)?;
    let user = verified.user;
    let identity = user.as_ref().map(|u| api.identity(&u.account, &u.user, &u.groups));
    let (bucket, key) = bucket_and_key(host_bucket, parts.uri.path())?;
    let query = Query::parse(parts.uri.query());
    let copy_source = parts.headers.contains_key("x-amz-copy-source");
    let endpoint = Endpoint::parse(&parts.method, bucket.as_deref(), key.as_deref(), &query, copy_source)?;
    // The bucket's account, from the one namespace, and what its policy and ACLs grant
    // the caller (anonymous callers included) from its TCP peer address.
    let caller = Caller { user: user.as_ref(), identity: identity.as_ref(), peer };
    let (account, grant) =
        access::place(api, &ctx.trans_id, &endpoint, bucket.as_deref(), key.as_deref(), caller).await?;
    // Known only once the bucket is placed, so CORS headers come from the bucket this
    // request acts on (a refusal before here has none).
    seen.account = Some(account.clone());
    seen.bucket = bucket.clone();
    let failure = BodyFailure::default();
    let (body, body_len, checksum) = verified_body(body, &parts.headers, verified.payload, &failure)?;
    let user = user.unwrap_or_else(S3User::anonymous);
    tracing::debug!(op = endpoint.name(), user = %user.access_key(), bucket = ?bucket, key = ?key, ?grant, "S3 request");
    let scope = bucket.as_deref().and_then(|b| grant.scope(&account, b));
    let ctx = S3Ctx {
        swift: Swift::acting(api, ctx, identity, account, scope),
        user,
        bucket,
        key,
        method: parts.method,
        headers: parts.headers,
        query,
        body_len,
        failure,
        checksum,
        write_locks,
    };
    dispatch(&ctx, endpoint, body).await
}

/// The bucket of a browser upload (POST Object) without an Authorization header.
fn browser_upload(parts: &http::request::Parts, host_bucket: Option<String>) -> Result<Option<String>> {
    if parts.method != Method::POST || parts.headers.contains_key(http::header::AUTHORIZATION) {
        return Ok(None);
    }
    let (bucket, key) = bucket_and_key(host_bucket, parts.uri.path())?;
    Ok(bucket.filter(|b| post_object::is_form_upload(parts, Some(b), key.as_deref())))
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
        GetBucketPolicy => policy::get_policy(ctx).await,
        PutBucketPolicy => policy::put(ctx, body).await,
        DeleteBucketPolicy => policy::delete(ctx).await,
        GetBucketPolicyStatus => policy::status(ctx).await,
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

/// Wraps the body in the checks its signature and its declared checksum ask for; returns
/// it with its decoded length and that checksum.
fn verified_body(
    body: Body,
    h: &HeaderMap,
    payload: Payload,
    failure: &BodyFailure,
) -> Result<(Body, Option<u64>, Option<Declared>)> {
    let declared = checksum::declared(h)?;
    let trailer = match &declared {
        Some(Declared::Trailer(alg)) => Some(*alg),
        _ => None,
    };
    let (body, len) = signed_body(body, h, payload, trailer, failure)?;
    let body = match &declared {
        Some(Declared::Header(alg, expected)) => {
            signature::payload::checksum_checked(body, *alg, expected.clone(), failure.clone())
        }
        _ => body,
    };
    Ok((body, len, declared))
}

/// Wraps the body in the check its signature asks for (and decodes aws-chunked, checking
/// a `trailer` checksum).
fn signed_body(
    body: Body,
    h: &HeaderMap,
    payload: Payload,
    trailer: Option<Algorithm>,
    failure: &BodyFailure,
) -> Result<(Body, Option<u64>)> {
    let get = |n: &str| common::headers::get(h, n);
    let len = |n: &str| -> Result<Option<u64>> {
        get(n)
            .map(|v| v.trim().parse::<u64>().map_err(|_| S3Error::InvalidArgument(format!("invalid {n}"))))
            .transpose()
    };
    // Whatever signed the request (SigV2, or nothing), x-amz-content-sha256 holds.
    let payload = match (payload, get("x-amz-content-sha256")) {
        (Payload::Unsigned, Some(v)) => signature::unsigned_payload_of(v)?,
        (p, _) => p,
    };
    // `Content-Encoding: aws-chunked` on a body that is not (a plain SHA-256 or unsigned
    // payload) is only a label, as in S3: the body is taken as it is.
    Ok(match payload {
        // A -TRAILER body may come without a trailer; a trailer needs a -TRAILER body.
        Payload::Chunked { trailer: false, .. } if trailer.is_some() => return Err(S3Error::MalformedTrailer),
        Payload::Chunked { signer, .. } => {
            let decoded = len("x-amz-decoded-content-length")?.ok_or(S3Error::MissingContentLength)?;
            let framing = signature::streaming::Framing { signer, decoded_length: decoded, trailer };
            (signature::streaming::decode(body, framing, failure.clone()), Some(decoded))
        }
        _ if trailer.is_some() => return Err(S3Error::MalformedTrailer),
        Payload::Sha256(hash) => {
            (signature::payload::sha256_checked(body, hash, failure.clone()), len("content-length")?)
        }
        Payload::Unsigned => (body, len("content-length")?),
    })
}

/// The proxy's front door as Swiftlet runs it (`proxy-server`, `saio`): the Swift API over
/// the cluster, with the S3 API as a frontend on the same listener.
pub fn front_door(
    config: swiftlet_proxy::ProxyConfig,
    rings: swiftlet_proxy::Rings,
    secrets: &common::secrets::Secrets,
) -> swiftlet_proxy::FrontDoor {
    swiftlet_proxy::FrontDoor::new(swiftlet_proxy::Cluster::new(config, rings, secrets), vec![Box::new(S3::default())])
}
