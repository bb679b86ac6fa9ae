//! Bucket policies (a subset of S3's): Put/Get/DeleteBucketPolicy and
//! GetBucketPolicyStatus keep one JSON document per bucket in the container's system
//! metadata; [`crate::access`] evaluates it for every S3 request on the bucket. Swift API
//! requests never see it: they keep Swift's ACL semantics.

pub(crate) mod cidr;
pub(crate) mod document;
pub(crate) mod evaluate;

use crate::buckets::{ascii_json, empty_response, head_container, read_body, xml_response};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use common::headers::get;
use common::http::Body;
pub(crate) use document::{Action, Policy};
pub(crate) use evaluate::{Decision, PolicyRequest};
use http::{HeaderMap, Response, StatusCode};

/// Where a bucket's policy is kept: the document as compact ASCII JSON.
pub(crate) const SYSMETA_POLICY: &str = "x-container-sysmeta-s3api-policy";

/// The stored policy of a bucket's container headers; an unreadable one (it was valid
/// when stored, so only a changed parser makes one) denies every action it could touch.
pub(crate) fn stored(h: &HeaderMap, bucket: &str) -> Option<std::result::Result<Policy, document::Malformed>> {
    let text = get(h, SYSMETA_POLICY).filter(|v| !v.is_empty())?;
    Some(document::parse(text.as_bytes(), bucket))
}

/// Only the bucket's owner (an admin of its account) reads or changes its policy, as
/// S3 lets only the bucket owner's account do.
fn owner_only(ctx: &S3Ctx<'_>) -> Result<()> {
    let owner = ctx.swift.ctx.identity.as_ref().is_some_and(|id| id.is_owner(&ctx.swift.account));
    if owner && ctx.swift.ctx.temp_url.is_none() {
        Ok(())
    } else {
        Err(S3Error::AccessDenied)
    }
}

pub(crate) async fn put(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    owner_only(ctx)?;
    let doc = read_body(ctx, body, document::MAX_POLICY_BYTES).await.map_err(|e| match e {
        S3Error::InvalidRequest(_) => {
            S3Error::MalformedPolicy(format!("Policies must be at most {} bytes", document::MAX_POLICY_BYTES))
        }
        e => e,
    })?;
    document::parse(&doc, ctx.bucket()).map_err(|m| S3Error::MalformedPolicy(m.0))?;
    let value: serde_json::Value = serde_json::from_slice(&doc).map_err(|e| S3Error::MalformedPolicy(e.to_string()))?;
    head_container(ctx).await?;
    crate::buckets::post_bucket_sysmeta(ctx, SYSMETA_POLICY, &ascii_json(&value)?).await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub(crate) async fn get_policy(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    owner_only(ctx)?;
    let h = head_container(ctx).await?;
    let text = get(&h, SYSMETA_POLICY).filter(|v| !v.is_empty()).ok_or(S3Error::NoSuchBucketPolicy)?;
    let mut resp = Response::new(common::http::full(text.to_string()));
    common::headers::set(resp.headers_mut(), "content-type", "application/json");
    common::headers::set(resp.headers_mut(), "content-length", &text.len().to_string());
    Ok(resp)
}

pub(crate) async fn delete(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    owner_only(ctx)?;
    head_container(ctx).await?;
    crate::buckets::post_bucket_sysmeta(ctx, SYSMETA_POLICY, "").await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub(crate) async fn status(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    owner_only(ctx)?;
    let h = head_container(ctx).await?;
    let policy = stored(&h, ctx.bucket()).ok_or(S3Error::NoSuchBucketPolicy)?;
    // An unreadable stored policy is treated as public: the status must not reassure.
    let public = policy.map(|p| p.is_public()).unwrap_or(true);
    let mut x = crate::xml::XmlWriter::new();
    x.root("PolicyStatus");
    x.elem("IsPublic", if public { "true" } else { "false" });
    x.close("PolicyStatus");
    Ok(xml_response(StatusCode::OK, x.finish()))
}
