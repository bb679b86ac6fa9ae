//! Lifecycle expiration: PutBucketLifecycleConfiguration/Get/DeleteBucketLifecycle keep
//! the rules (compact JSON) in the bucket container's system metadata. Rules are applied
//! on the write path: an object written while an enabled rule matches its key gets
//! `X-Delete-At` (Swift's object expirer deletes it then) and the write's answer carries
//! `x-amz-expiration`. Objects written before a rule existed are not changed by it.
//!
//! Supported: `Expiration` with `Days` or `Date`, filtered by key prefix (`<Filter><Prefix>`
//! or the older bare `<Prefix>`), `Status` Enabled or Disabled. Other actions and filters
//! are refused with NotImplemented rather than stored and silently ignored.

use crate::buckets::{ascii_json, post_bucket_sysmeta};
use crate::buckets::{empty_response, head_container, read_body, segments_container, xml_response, MAX_CONFIG_BODY};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::lifecycle_rules::{
    expiration_header, expiry, now, parse_config, rules_of, to_xml, DAY, SYSMETA_EXPIRATION_RULE, SYSMETA_LIFECYCLE,
};
use common::headers::set;
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};

/// Seconds after now that objects under an already-past expiration Date expire.
const PAST_DATE_GRACE_SECS: u64 = 3;
/// Segments of an expiring multipart object outlive its manifest by this much, so the
/// manifest never points at segments already gone.
const SEGMENT_GRACE: u64 = DAY;

/// An object write's expiry: the time it will be deleted at and the `x-amz-expiration`
/// value to answer with.
#[derive(Debug, Clone)]
pub(crate) struct Expiry {
    pub delete_at: u64,
    pub header: String,
}

/// Adds `X-Delete-At` to the Swift headers of a write to the request's key when a rule
/// expires it. `bucket` is the container's headers when the caller has them; otherwise
/// they come from the proxy's container cache (a missing bucket expires nothing: the
/// write itself answers NoSuchBucket).
pub(crate) async fn apply(ctx: &S3Ctx<'_>, bucket: Option<&HeaderMap>, out: &mut HeaderMap) -> Result<Option<Expiry>> {
    let rules = match bucket {
        Some(h) => rules_of(h),
        None => match ctx.swift.api.container_info(&ctx.swift.ctx, &ctx.swift.account, ctx.bucket()).await {
            Ok(Some(info)) => rules_of(&info.headers),
            Ok(None) => None,
            Err(e) => return Err(S3Error::ServiceUnavailable(e.to_string())),
        },
    };
    let Some(rules) = rules else { return Ok(None) };
    let now = now();
    let Some((at, rule)) = expiry(&rules, ctx.key(), now) else { return Ok(None) };
    // A Date already past expires new objects at once. Swift refuses an X-Delete-At that is
    // past by the time the write is stamped, which may be a moment later on a busy proxy.
    let delete_at = at.max(now + PAST_DATE_GRACE_SECS);
    set(out, "x-delete-at", &delete_at.to_string());
    set(out, SYSMETA_EXPIRATION_RULE, &rule.id);
    Ok(Some(Expiry { delete_at, header: expiration_header(at, &rule.id) }))
}

/// Gives the segments of an expiring multipart object an expiry a little after its own.
pub(crate) async fn expire_segments(ctx: &S3Ctx<'_>, names: &[String], delete_at: u64) {
    let seg = segments_container(ctx.bucket());
    let at = (delete_at + SEGMENT_GRACE).to_string();
    for batch in names.chunks(8) {
        let posts = batch.iter().map(|name| {
            let mut h = HeaderMap::new();
            set(&mut h, "x-delete-at", &at);
            let seg = seg.as_str();
            async move {
                match ctx.swift.small(Method::POST, Some(seg), Some(name), &[], h).await {
                    Ok(r) if r.status.is_success() => {}
                    Ok(r) => tracing::warn!(segment = %name, status = %r.status, "could not set a segment's expiry"),
                    Err(e) => tracing::warn!(segment = %name, error = %e, "could not set a segment's expiry"),
                }
            }
        });
        futures::future::join_all(posts).await;
    }
}

pub(crate) async fn put(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    let doc = read_body(ctx, body, MAX_CONFIG_BODY).await?;
    let rules = parse_config(&doc)?;
    post_bucket_sysmeta(ctx, SYSMETA_LIFECYCLE, &ascii_json(&rules)?).await?;
    Ok(empty_response(StatusCode::OK))
}

pub(crate) async fn get_config(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let h = head_container(ctx).await?;
    let rules = rules_of(&h).ok_or(S3Error::NoSuchLifecycleConfiguration)?;
    Ok(xml_response(StatusCode::OK, to_xml(&rules)))
}

pub(crate) async fn delete(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    head_container(ctx).await?;
    post_bucket_sysmeta(ctx, SYSMETA_LIFECYCLE, "").await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}
