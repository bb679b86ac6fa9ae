//! Buckets are containers: list, create, delete, head, location and versioning.

use crate::acl;
use crate::buckets::check_name_strictly;
use crate::buckets::empty_response;
use crate::buckets::head_container;
use crate::buckets::read_body;
use crate::buckets::s3_time;
use crate::buckets::segments_container;
use crate::buckets::versioning_status;
use crate::buckets::versions_container;
use crate::buckets::xml_response;
use crate::buckets::MAX_CONFIG_BODY;
use crate::context::{S3Ctx, LOCATION};
use crate::error::{Result, S3Error};
use crate::swift::error_for;
use crate::xml::{self, XmlWriter};
use common::headers::set;
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};
use serde::Deserialize;

#[derive(Deserialize)]
struct ContainerRow {
    name: String,
    #[serde(default)]
    last_modified: String,
}

pub(crate) async fn list_buckets(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let mut rows: Vec<ContainerRow> = Vec::new();
    let mut marker = String::new();
    loop {
        let q = [("format", "json"), ("marker", marker.as_str())];
        let r = ctx.swift.small(Method::GET, None, None, &q, HeaderMap::new()).await?;
        if !r.status.is_success() {
            return Err(error_for(r.status, &r.body, S3Error::AccessDenied));
        }
        if r.status == StatusCode::NO_CONTENT || r.body.is_empty() {
            break;
        }
        let page: Vec<ContainerRow> =
            serde_json::from_slice(&r.body).map_err(|e| S3Error::InternalError(format!("bad account listing: {e}")))?;
        let Some(last) = page.last() else { break };
        marker = last.name.clone();
        rows.extend(page);
    }
    let owner = ctx.owner();
    let mut x = XmlWriter::new();
    x.root("ListAllMyBucketsResult");
    x.open("Owner");
    x.elem("ID", &owner);
    x.elem("DisplayName", &owner);
    x.close("Owner");
    x.open("Buckets");
    for row in rows.iter().filter(|r| !r.name.ends_with("+segments") && !r.name.ends_with("+versions")) {
        x.open("Bucket");
        x.elem("Name", &row.name);
        x.elem("CreationDate", &s3_time(&row.last_modified));
        x.close("Bucket");
    }
    x.close("Buckets");
    x.close("ListAllMyBucketsResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

pub(crate) async fn create(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    check_name_strictly(ctx.bucket())?;
    let config = read_body(ctx, body, MAX_CONFIG_BODY).await?;
    if !config.iter().all(u8::is_ascii_whitespace) {
        let root = xml::parse(&config)?;
        if root.name != "CreateBucketConfiguration" {
            return Err(S3Error::MalformedXML);
        }
        let loc = root.child_text("LocationConstraint").unwrap_or("").trim();
        if !loc.is_empty() && loc != LOCATION && loc != "US" {
            return Err(S3Error::InvalidLocationConstraint);
        }
    }
    let headers = acl::acl_headers_from_request(ctx)?;
    let r = ctx.swift.small(Method::PUT, Some(ctx.bucket()), None, &[], headers).await?;
    match r.status {
        StatusCode::CREATED => {
            let mut resp = empty_response(StatusCode::OK);
            set(resp.headers_mut(), "location", &format!("/{}", ctx.bucket()));
            Ok(resp)
        }
        StatusCode::ACCEPTED => Err(S3Error::BucketAlreadyOwnedByYou),
        s => Err(error_for(s, &r.body, S3Error::NoSuchBucket)),
    }
}

pub(crate) async fn delete(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let r = ctx.swift.small(Method::DELETE, Some(ctx.bucket()), None, &[], HeaderMap::new()).await?;
    match r.status {
        s if s.is_success() => {
            // Leftovers of aborted uploads and old versions go with the bucket, if empty.
            for c in [segments_container(ctx.bucket()), versions_container(ctx.bucket())] {
                let _ = ctx.swift.small(Method::DELETE, Some(&c), None, &[], HeaderMap::new()).await;
            }
            Ok(empty_response(StatusCode::NO_CONTENT))
        }
        StatusCode::CONFLICT => Err(S3Error::BucketNotEmpty),
        s => Err(error_for(s, &r.body, S3Error::NoSuchBucket)),
    }
}

pub(crate) async fn head(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    head_container(ctx).await?;
    let mut resp = empty_response(StatusCode::OK);
    set(resp.headers_mut(), "x-amz-bucket-region", LOCATION);
    Ok(resp)
}

pub(crate) async fn location(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    head_container(ctx).await?;
    // us-east-1 is written as an empty constraint, as S3 does.
    let mut x = XmlWriter::new();
    x.open_with("LocationConstraint", &format!("xmlns=\"{}\"", xml::S3_NS));
    x.close("LocationConstraint");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

pub(crate) async fn get_versioning(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let h = head_container(ctx).await?;
    let status = match versioning_status(&h) {
        Some(s) => Some(s),
        // Once enabled, a bucket never goes back to unversioned: an archive container
        // without history being kept means Suspended.
        None => {
            let archive = versions_container(ctx.bucket());
            let r = ctx.swift.small(Method::HEAD, Some(&archive), None, &[], HeaderMap::new()).await?;
            r.status.is_success().then_some("Suspended")
        }
    };
    let mut x = XmlWriter::new();
    x.root("VersioningConfiguration");
    if let Some(status) = status {
        x.elem("Status", status);
    }
    x.close("VersioningConfiguration");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

/// Versioning keeps each overwritten or deleted object in `<bucket>+versions`, through
/// Swift's versioned writes (`X-History-Location`).
pub(crate) async fn put_versioning(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    let doc = read_body(ctx, body, MAX_CONFIG_BODY).await?;
    let root = xml::parse(&doc)?;
    if root.name != "VersioningConfiguration" {
        return Err(S3Error::MalformedXML);
    }
    if root.child_text("MfaDelete").is_some_and(|m| m == "Enabled") {
        return Err(S3Error::NotImplemented("MFA delete".into()));
    }
    let status = root.child_text("Status").unwrap_or("");
    let existing = head_container(ctx).await?;
    let mut headers = HeaderMap::new();
    match status {
        "Enabled" => {
            let archive = versions_container(ctx.bucket());
            let mut ch = HeaderMap::new();
            for name in ["x-container-read", "x-container-write"] {
                if let Some(v) = existing.get(name) {
                    ch.insert(name, v.clone());
                }
            }
            let r = ctx.swift.small(Method::PUT, Some(&archive), None, &[], ch).await?;
            if !r.status.is_success() {
                return Err(error_for(r.status, &r.body, S3Error::NoSuchBucket));
            }
            set(&mut headers, "x-history-location", &archive);
        }
        "Suspended" => {
            set(&mut headers, "x-remove-history-location", "x");
            set(&mut headers, "x-remove-versions-location", "x");
        }
        _ => return Err(S3Error::MalformedXML),
    }
    let r = ctx.swift.small(Method::POST, Some(ctx.bucket()), None, &[], headers).await?;
    if !r.status.is_success() {
        return Err(error_for(r.status, &r.body, S3Error::NoSuchBucket));
    }
    Ok(empty_response(StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.1", "a".repeat(63).as_str()] {
            assert!(check_name_strictly(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Abc", "a_b", "-ab", "ab-", "a..b", "192.168.1.1", "a.-b", &"a".repeat(64), "a b"] {
            assert!(matches!(check_name_strictly(bad), Err(S3Error::InvalidBucketName(_))), "{bad}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(s3_time("2023-11-14T22:13:20.123456"), "2023-11-14T22:13:20.123Z");
        assert_eq!(s3_time("2023-11-14T22:13:20"), "2023-11-14T22:13:20.000Z");
    }
}
