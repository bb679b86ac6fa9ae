//! PutObject and CopyObject: Swift PUTs (a copy is a PUT with `X-Copy-From`, so the
//! pipeline reads the source as the same user and copies large objects' content).

use crate::buckets::{empty_response, xml_response};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::headers::{object_put_headers, s3_etag, SYSMETA_ETAG, SYSMETA_UPLOAD_ID};
use crate::objects::missing_object_error;
use crate::objects::version_object;
use crate::signature::format_iso8601;
use crate::swift::{error_for, read_small};
use crate::xml::XmlWriter;
use common::constraints::MAX_FILE_SIZE;
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};

pub(crate) async fn put_object(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    let len = ctx.body_len.ok_or(S3Error::MissingContentLength)?;
    if len > MAX_FILE_SIZE {
        return Err(S3Error::EntityTooLarge);
    }
    let mut headers = object_put_headers(&ctx.headers)?;
    crate::checksum::keep(&ctx.checksum, &mut headers);
    set(&mut headers, "content-length", &len.to_string());
    let expiry = crate::lifecycle::apply(ctx, None, &mut headers).await?;
    // If-None-Match: * also goes down to the object servers (object_put_headers).
    let checked = crate::conditional::check(ctx).await?;
    let replaced = crate::replaced::before_write(ctx, None).await;
    let resp = ctx.swift.call(Method::PUT, Some(ctx.bucket()), Some(ctx.key()), &[], headers, body).await;
    let status = resp.status();
    let r = read_small(resp).await?;
    if status != StatusCode::CREATED {
        if let Some(e) = ctx.failure.take() {
            return Err(e);
        }
        let e = error_for(status, &r.body, S3Error::NoSuchBucket);
        return Err(match &checked {
            Some(c) => c.refused(e),
            None => e,
        });
    }
    crate::replaced::after_write(ctx, replaced).await;
    let mut out = empty_response(StatusCode::OK);
    if let Some(etag) = s3_etag(&r.headers) {
        set(out.headers_mut(), "etag", &etag);
    }
    if let Some(e) = expiry {
        set(out.headers_mut(), "x-amz-expiration", &e.header);
    }
    if let Some((name, value)) = crate::checksum::echoed(&ctx.checksum) {
        set(out.headers_mut(), name, &value);
    }
    Ok(out)
}

/// The source of a copy: `x-amz-copy-source: [/]bucket/key[?versionId=v]`, URL-encoded.
pub(crate) struct CopySource {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
}

impl CopySource {
    pub(crate) fn parse(v: &str) -> Result<CopySource> {
        let bad = || S3Error::InvalidArgument("x-amz-copy-source must be <bucket>/<key>, URL-encoded".into());
        let (path, query) = v.split_once('?').unwrap_or((v, ""));
        let version_id = crate::router::Query::parse(Some(query)).get("versionId").map(str::to_string);
        let path = percent_encoding::percent_decode_str(path).decode_utf8().map_err(|_| bad())?;
        let path = path.strip_prefix('/').unwrap_or(&path);
        let (bucket, key) = path.split_once('/').filter(|(b, k)| !b.is_empty() && !k.is_empty()).ok_or_else(bad)?;
        if key.len() > crate::paths::MAX_KEY_BYTES {
            return Err(S3Error::KeyTooLongError);
        }
        Ok(CopySource { bucket: bucket.into(), key: key.into(), version_id: version_id.filter(|v| v != "null") })
    }

    /// Its Swift container and object.
    pub(crate) fn location(&self) -> (String, String) {
        match &self.version_id {
            Some(v) => version_object(&self.bucket, &self.key, v),
            None => (self.bucket.clone(), self.key.clone()),
        }
    }

    /// The `X-Copy-From` value.
    pub(crate) fn copy_from(&self) -> String {
        let (c, o) = self.location();
        swiftlet_proxy::quote(&format!("/{c}/{o}"))
    }
}

/// Checks `x-amz-copy-source-if-*` against the source's headers.
pub(crate) fn check_copy_conditions(ctx: &S3Ctx<'_>, src: &HeaderMap) -> Result<()> {
    let etag = get(src, "etag").unwrap_or("").trim_matches('"').to_string();
    let s3etag = s3_etag(src).unwrap_or_default().trim_matches('"').to_string();
    let matches =
        |list: &str| list.split(',').map(|e| e.trim().trim_matches('"')).any(|e| e == "*" || e == etag || e == s3etag);
    let modified = get(src, "last-modified").and_then(|d| httpdate::parse_http_date(d).ok());
    let date = |n: &str| ctx.header(n).and_then(|d| httpdate::parse_http_date(d).ok());
    if let Some(m) = ctx.header("x-amz-copy-source-if-match") {
        if !matches(m) {
            return Err(S3Error::PreconditionFailed);
        }
    }
    if let Some(m) = ctx.header("x-amz-copy-source-if-none-match") {
        if matches(m) {
            return Err(S3Error::PreconditionFailed);
        }
    }
    if let (Some(since), Some(m)) = (date("x-amz-copy-source-if-unmodified-since"), modified) {
        if m > since && !ctx.headers.contains_key("x-amz-copy-source-if-match") {
            return Err(S3Error::PreconditionFailed);
        }
    }
    if let (Some(since), Some(m)) = (date("x-amz-copy-source-if-modified-since"), modified) {
        if m <= since && !ctx.headers.contains_key("x-amz-copy-source-if-none-match") {
            return Err(S3Error::PreconditionFailed);
        }
    }
    Ok(())
}

/// HEADs the copy source as the requesting user.
pub(crate) async fn head_source(ctx: &S3Ctx<'_>, src: &CopySource) -> Result<HeaderMap> {
    let (c, o) = src.location();
    let r = ctx.swift.small(Method::HEAD, Some(&c), Some(&o), &[], HeaderMap::new()).await?;
    if r.status.is_success() {
        return Ok(r.headers);
    }
    Err(match r.status {
        StatusCode::NOT_FOUND if src.version_id.is_some() => S3Error::NoSuchVersion,
        s => error_for(s, &r.body, S3Error::NoSuchKey),
    })
}

/// An HTTP date (`Last-Modified`) as S3's ISO 8601.
pub(crate) fn iso_of_http_date(v: Option<&str>) -> String {
    let secs = v
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
        });
    format_iso8601(secs, 0)
}

pub(crate) async fn copy_object(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let src = CopySource::parse(ctx.header("x-amz-copy-source").unwrap_or(""))?;
    let replace = match ctx.header("x-amz-metadata-directive").unwrap_or("COPY") {
        "COPY" => false,
        "REPLACE" => true,
        _ => return Err(S3Error::InvalidArgument("x-amz-metadata-directive must be COPY or REPLACE".into())),
    };
    if !replace && src.bucket == ctx.bucket() && src.key == ctx.key() && src.version_id.is_none() {
        return Err(S3Error::InvalidRequest(
            "This copy request is illegal: it copies an object onto itself without changing its metadata.".into(),
        ));
    }
    let src_headers = head_source(ctx, &src).await?;
    check_copy_conditions(ctx, &src_headers)?;
    let mut headers = if replace {
        let mut h = object_put_headers(&ctx.headers)?;
        // The destination's conditions are checked here; the copy would apply them to
        // the source.
        h.remove("if-none-match");
        h.remove("if-match");
        set(&mut h, "x-fresh-metadata", "true");
        h
    } else {
        crate::headers::check_write_headers(&ctx.headers)?;
        HeaderMap::new()
    };
    set(&mut headers, "x-copy-from", &src.copy_from());
    set(&mut headers, "content-length", "0");
    // The copy is a plain object: it does not inherit a multipart ETag.
    set(&mut headers, SYSMETA_ETAG, "");
    set(&mut headers, SYSMETA_UPLOAD_ID, "");
    let expiry = crate::lifecycle::apply(ctx, None, &mut headers).await?;
    let _checked = crate::conditional::check(ctx).await?;
    let replaced = crate::replaced::before_write(ctx, None).await;
    let r = ctx
        .swift
        .small_with(Method::PUT, Some(ctx.bucket()), Some(ctx.key()), &[], headers, bytes::Bytes::new())
        .await?;
    if r.status != StatusCode::CREATED {
        if r.status == StatusCode::NOT_FOUND {
            return Err(missing_object_error(ctx, r.status, &r.body).await);
        }
        return Err(error_for(r.status, &r.body, S3Error::NoSuchKey));
    }
    crate::replaced::after_write(ctx, replaced).await;
    let mut x = XmlWriter::new();
    x.root("CopyObjectResult");
    x.elem("LastModified", &iso_of_http_date(get(&r.headers, "last-modified")));
    x.elem("ETag", &s3_etag(&r.headers).unwrap_or_default());
    x.close("CopyObjectResult");
    let mut resp = xml_response(StatusCode::OK, x.finish());
    if let Some(v) = &src.version_id {
        set(resp.headers_mut(), "x-amz-copy-source-version-id", v);
    }
    if let Some(e) = expiry {
        set(resp.headers_mut(), "x-amz-expiration", &e.header);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources() {
        let s = CopySource::parse("/b/a%20key/x?versionId=123").unwrap();
        assert_eq!((s.bucket.as_str(), s.key.as_str(), s.version_id.as_deref()), ("b", "a key/x", Some("123")));
        assert_eq!(s.copy_from(), "/b%2Bversions/007a%20key/x/123");
        assert_eq!(CopySource::parse("b/k").unwrap().copy_from(), "/b/k");
        for bad in ["", "b", "/b/", "b%FF/k"] {
            assert!(CopySource::parse(bad).is_err(), "{bad}");
        }
    }
}
