//! Multipart uploads, stored as Swift's s3api stores them: in `<bucket>+segments`, an
//! upload marker `<key>/<upload id>` (holding the final object's metadata) and one
//! segment per part, `<key>/<upload id>/<part number>`. Complete writes a Static Large
//! Object manifest of the parts at `<bucket>/<key>`, so Swift clients read the whole
//! object too; its S3 ETag (`<md5 of the parts' md5s>-<count>`) is kept in sysmeta.

use crate::buckets::{empty_response, head_container, read_body, segments_container, xml_response};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::headers::{object_put_headers, s3_etag, SYSMETA_ETAG, SYSMETA_TAGGING, SYSMETA_UPLOAD_ID};
use crate::list::{swift_page, Row};
use crate::object::{check_copy_conditions, head_source, iso_of_http_date, CopySource};
use crate::replaced::delete_segments;
use crate::swift::{error_for, error_from, read_small};
use crate::uploads::is_upload_id;
use crate::uploads::new_upload_id;
use crate::xml::{self, XmlWriter};
use common::constraints::MAX_FILE_SIZE;
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};
use md5::{Digest, Md5};

/// Every part but the last must be at least this big (S3's 5 MiB).
pub(crate) const MIN_PART_SIZE: u64 = 5 << 20;
/// A CompleteMultipartUpload document lists at most 10000 parts.
const MAX_COMPLETE_BODY: usize = 2 << 20;

pub(crate) fn marker_name(key: &str, upload_id: &str) -> String {
    format!("{key}/{upload_id}")
}

pub(crate) fn part_name(key: &str, upload_id: &str, part: u32) -> String {
    format!("{key}/{upload_id}/{part}")
}

/// The upload marker's headers, or NoSuchUpload.
pub(crate) async fn head_marker(ctx: &S3Ctx<'_>, upload_id: &str) -> Result<HeaderMap> {
    if !is_upload_id(upload_id) {
        return Err(S3Error::NoSuchUpload);
    }
    let seg = segments_container(ctx.bucket());
    let marker = marker_name(ctx.key(), upload_id);
    let r = ctx.swift.small(Method::HEAD, Some(&seg), Some(&marker), &[], HeaderMap::new()).await?;
    match r.status {
        s if s.is_success() => Ok(r.headers),
        StatusCode::NOT_FOUND => Err(S3Error::NoSuchUpload),
        s => Err(error_for(s, &r.body, S3Error::NoSuchUpload)),
    }
}

pub(crate) async fn create(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let mut headers = object_put_headers(&ctx.headers)?;
    let bucket_headers = head_container(ctx).await?;
    let seg = segments_container(ctx.bucket());
    // The segments container shares the bucket's ACLs, so whoever may write the bucket
    // may upload parts.
    let mut ch = HeaderMap::new();
    for name in ["x-container-read", "x-container-write"] {
        if let Some(v) = bucket_headers.get(name) {
            ch.insert(name, v.clone());
        }
    }
    let r = ctx.swift.small(Method::PUT, Some(&seg), None, &[], ch).await?;
    if !r.status.is_success() {
        return Err(error_for(r.status, &r.body, S3Error::NoSuchBucket));
    }
    let upload_id = new_upload_id();
    headers.remove("etag");
    headers.remove("if-none-match");
    headers.remove("if-match");
    if !headers.contains_key("content-type") {
        // Remember that the client chose none, so Swift guesses from the final key.
        set(&mut headers, "x-object-meta-s3api-no-content-type", "1");
    }
    set(&mut headers, "content-length", "0");
    let marker = marker_name(ctx.key(), &upload_id);
    let r = ctx.swift.small_with(Method::PUT, Some(&seg), Some(&marker), &[], headers, bytes::Bytes::new()).await?;
    if r.status != StatusCode::CREATED {
        return Err(error_for(r.status, &r.body, S3Error::NoSuchBucket));
    }
    let mut x = XmlWriter::new();
    x.root("InitiateMultipartUploadResult");
    x.elem("Bucket", ctx.bucket());
    x.elem("Key", ctx.key());
    x.elem("UploadId", &upload_id);
    x.close("InitiateMultipartUploadResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

pub(crate) async fn upload_part(ctx: &S3Ctx<'_>, upload_id: &str, part: u32, body: Body) -> Result<Response<Body>> {
    let len = ctx.body_len.ok_or(S3Error::MissingContentLength)?;
    if len > MAX_FILE_SIZE {
        return Err(S3Error::EntityTooLarge);
    }
    let mut headers = HeaderMap::new();
    if let Some(md5) = crate::headers::content_md5_hex(&ctx.headers)? {
        set(&mut headers, "etag", &md5);
    }
    crate::checksum::keep(&ctx.checksum, &mut headers);
    head_marker(ctx, upload_id).await?;
    set(&mut headers, "content-length", &len.to_string());
    let seg = segments_container(ctx.bucket());
    let name = part_name(ctx.key(), upload_id, part);
    let resp = ctx.swift.call(Method::PUT, Some(&seg), Some(&name), &[], headers, body).await;
    let status = resp.status();
    let r = read_small(resp).await?;
    if status != StatusCode::CREATED {
        return Err(ctx.body_error_or(error_for(status, &r.body, S3Error::NoSuchUpload)));
    }
    let mut out = empty_response(StatusCode::OK);
    if let Some(etag) = s3_etag(&r.headers) {
        set(out.headers_mut(), "etag", &etag);
    }
    if let Some((name, value)) = crate::checksum::echoed(&ctx.checksum) {
        set(out.headers_mut(), name, &value);
    }
    Ok(out)
}

/// `bytes=first-last` of x-amz-copy-source-range, checked against the source's size.
fn copy_range(v: &str, size: u64) -> Result<(u64, u64)> {
    let bad = || {
        S3Error::InvalidArgument(format!("The x-amz-copy-source-range {v} is not valid for an object of {size} bytes"))
    };
    let (a, b) = v.strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(bad)?;
    let (first, last): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if first > last || last >= size {
        return Err(bad());
    }
    Ok((first, last))
}

/// A part copied from (a range of) an existing object: a GET piped into the part's PUT.
pub(crate) async fn upload_part_copy(ctx: &S3Ctx<'_>, upload_id: &str, part: u32) -> Result<Response<Body>> {
    let src = CopySource::parse(ctx.header("x-amz-copy-source").unwrap_or(""))?;
    head_marker(ctx, upload_id).await?;
    let src_headers = head_source(ctx, &src).await?;
    check_copy_conditions(ctx, &src_headers)?;
    let size: u64 = get(&src_headers, "content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut get_headers = HeaderMap::new();
    let len = match ctx.header("x-amz-copy-source-range") {
        Some(r) => {
            let (first, last) = copy_range(r, size)?;
            set(&mut get_headers, "range", &format!("bytes={first}-{last}"));
            last - first + 1
        }
        None => size,
    };
    if len > MAX_FILE_SIZE {
        return Err(S3Error::EntityTooLarge);
    }
    let (sc, so) = src.location();
    let source = ctx.swift.call(Method::GET, Some(&sc), Some(&so), &[], get_headers, common::http::empty()).await;
    if !source.status().is_success() {
        return Err(error_from(source, S3Error::NoSuchKey).await);
    }
    let mut headers = HeaderMap::new();
    set(&mut headers, "content-length", &len.to_string());
    let seg = segments_container(ctx.bucket());
    let name = part_name(ctx.key(), upload_id, part);
    let r = ctx.swift.call(Method::PUT, Some(&seg), Some(&name), &[], headers, source.into_body()).await;
    let status = r.status();
    let r = read_small(r).await?;
    if status != StatusCode::CREATED {
        return Err(error_for(status, &r.body, S3Error::NoSuchUpload));
    }
    let mut x = XmlWriter::new();
    x.root("CopyPartResult");
    x.elem("LastModified", &iso_of_http_date(get(&r.headers, "last-modified")));
    x.elem("ETag", &s3_etag(&r.headers).unwrap_or_default());
    x.close("CopyPartResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

/// The parts a CompleteMultipartUpload names: ascending numbers with their ETags.
pub(crate) fn parse_complete(doc: &[u8]) -> Result<Vec<(u32, String)>> {
    let root = xml::parse(doc)?;
    if root.name != "CompleteMultipartUpload" {
        return Err(S3Error::MalformedXML);
    }
    let mut parts: Vec<(u32, String)> = Vec::new();
    for p in root.children("Part") {
        let number: u32 =
            p.child_text("PartNumber").and_then(|n| n.trim().parse().ok()).ok_or(S3Error::MalformedXML)?;
        let etag = p.child_text("ETag").ok_or(S3Error::MalformedXML)?.trim().trim_matches('"').to_ascii_lowercase();
        if !(1..=crate::router::MAX_PART_NUMBER).contains(&number) {
            return Err(S3Error::InvalidPart);
        }
        if parts.last().is_some_and(|(prev, _)| *prev >= number) {
            return Err(S3Error::InvalidPartOrder);
        }
        parts.push((number, etag));
    }
    if parts.is_empty() {
        return Err(S3Error::MalformedXML);
    }
    Ok(parts)
}

/// Every stored part of an upload: number, ETag, size.
pub(crate) async fn stored_parts(ctx: &S3Ctx<'_>, upload_id: &str) -> Result<Vec<(u32, String, u64, String)>> {
    let seg = segments_container(ctx.bucket());
    let prefix = format!("{}/", marker_name(ctx.key(), upload_id));
    let mut out = Vec::new();
    let mut marker = String::new();
    loop {
        let page = swift_page(ctx, &seg, &prefix, "", &marker, 10_000).await?.unwrap_or_default();
        let Some(last) = page.last() else { break };
        if let Row::Object { name, .. } = last {
            marker = name.clone();
        }
        let full = page.len() == 10_000;
        for row in page {
            if let Row::Object { name, hash, bytes, last_modified, .. } = row {
                if let Some(Ok(n)) = name.strip_prefix(&prefix).map(str::parse::<u32>) {
                    out.push((n, hash, bytes, last_modified));
                }
            }
        }
        if !full {
            break;
        }
    }
    out.sort_by_key(|p| p.0);
    Ok(out)
}

/// The multipart ETag the listed parts make (`<md5 of their md5s>-<count>`).
fn etag_of_parts(parts: &[(u32, String)]) -> Option<String> {
    let mut md5s = Md5::new();
    for (_, etag) in parts {
        let mut raw = [0u8; 16];
        hex::decode_to_slice(etag, &mut raw).ok()?;
        md5s.update(raw);
    }
    Some(format!("{}-{}", hex::encode(md5s.finalize()), parts.len()))
}

fn complete_result(ctx: &S3Ctx<'_>, etag: &str) -> Response<Body> {
    let mut x = XmlWriter::new();
    x.root("CompleteMultipartUploadResult");
    x.elem("Location", &format!("/{}/{}", ctx.bucket(), ctx.key()));
    x.elem("Bucket", ctx.bucket());
    x.elem("Key", ctx.key());
    x.elem("ETag", &format!("\"{etag}\""));
    x.close("CompleteMultipartUploadResult");
    xml_response(StatusCode::OK, x.finish())
}

pub(crate) async fn complete(ctx: &S3Ctx<'_>, upload_id: &str, body: Body) -> Result<Response<Body>> {
    // Rights first: a stranger to the bucket is refused before its body is read.
    let bucket_headers = head_container(ctx).await?;
    let doc = read_body(ctx, body, MAX_COMPLETE_BODY).await?;
    let wanted = parse_complete(&doc)?;
    let marker = match head_marker(ctx, upload_id).await {
        Ok(m) => m,
        Err(S3Error::NoSuchUpload) if is_upload_id(upload_id) => {
            // A retried Complete of the same parts: the object this upload made is there.
            let r = ctx.swift.small(Method::HEAD, Some(ctx.bucket()), Some(ctx.key()), &[], HeaderMap::new()).await?;
            let etag = get(&r.headers, SYSMETA_ETAG).unwrap_or("");
            if r.status.is_success()
                && get(&r.headers, SYSMETA_UPLOAD_ID) == Some(upload_id)
                && etag_of_parts(&wanted).is_some_and(|e| e == etag)
            {
                return Ok(complete_result(ctx, etag));
            }
            return Err(S3Error::NoSuchUpload);
        }
        Err(e) => return Err(e),
    };
    let checked = crate::conditional::check(ctx).await?;
    let stored = stored_parts(ctx, upload_id).await?;
    let seg = segments_container(ctx.bucket());
    let mut manifest = Vec::with_capacity(wanted.len());
    let mut md5s = Md5::new();
    for (i, (number, etag)) in wanted.iter().enumerate() {
        let Some((_, hash, size, _)) = stored.iter().find(|p| p.0 == *number) else {
            return Err(S3Error::InvalidPart);
        };
        let hash = hash.trim_matches('"').to_ascii_lowercase();
        let mut raw = [0u8; 16];
        if hash != *etag || hex::decode_to_slice(&hash, &mut raw).is_err() {
            return Err(S3Error::InvalidPart);
        }
        if i + 1 < wanted.len() && *size < MIN_PART_SIZE {
            return Err(S3Error::EntityTooSmall);
        }
        md5s.update(raw);
        manifest.push(serde_json::json!({
            "path": format!("/{seg}/{}", part_name(ctx.key(), upload_id, *number)),
            "etag": hash,
            "size_bytes": size,
        }));
    }
    let s3_etag = format!("{}-{}", hex::encode(md5s.finalize()), wanted.len());
    let replaced = crate::replaced::before_write(ctx, Some(upload_id)).await;
    let mut headers = HeaderMap::new();
    for (name, value) in &marker {
        let n = name.as_str();
        if (n.starts_with("x-object-meta-") && n != "x-object-meta-s3api-no-content-type") || n == SYSMETA_TAGGING {
            headers.append(name.clone(), value.clone());
        }
    }
    if !marker.contains_key("x-object-meta-s3api-no-content-type") {
        if let Some(ct) = marker.get("content-type") {
            headers.insert("content-type", ct.clone());
        }
    }
    for name in crate::headers::PLAIN_HEADERS.iter().chain(&["content-encoding"]).filter(|n| **n != "content-type") {
        if let Some(v) = marker.get(*name) {
            headers.insert(*name, v.clone());
        }
    }
    set(&mut headers, SYSMETA_ETAG, &s3_etag);
    set(&mut headers, SYSMETA_UPLOAD_ID, upload_id);
    if checked.as_ref().is_some_and(|c| c.condition == crate::conditional::Condition::Absent) {
        // Each object server refuses the manifest if it holds the key already.
        set(&mut headers, "if-none-match", "*");
    }
    let expiry = crate::lifecycle::apply(ctx, Some(&bucket_headers), &mut headers).await?;
    // Listings show the S3 ETag: SLO fills in the base value and keeps this parameter.
    set(&mut headers, "x-object-sysmeta-container-update-override-etag", &format!("; s3_etag={s3_etag}"));
    let body = bytes::Bytes::from(serde_json::Value::Array(manifest).to_string());
    set(&mut headers, "content-length", &body.len().to_string());
    let q = [("multipart-manifest", "put")];
    let r = ctx.swift.small_with(Method::PUT, Some(ctx.bucket()), Some(ctx.key()), &q, headers, body).await?;
    if !r.status.is_success() {
        let e = match r.status {
            StatusCode::BAD_REQUEST => S3Error::InvalidPart,
            s => error_for(s, &r.body, S3Error::NoSuchBucket),
        };
        return Err(match &checked {
            Some(c) => c.refused(e),
            None => e,
        });
    }
    // The marker and the parts left out of the object are garbage now, and so are the
    // segments of the multipart object this one replaced.
    let used: Vec<u32> = wanted.iter().map(|w| w.0).collect();
    let mut garbage: Vec<String> =
        stored.iter().filter(|p| !used.contains(&p.0)).map(|p| part_name(ctx.key(), upload_id, p.0)).collect();
    garbage.push(marker_name(ctx.key(), upload_id));
    delete_segments(ctx, garbage).await;
    crate::replaced::after_write(ctx, replaced).await;
    let mut resp = complete_result(ctx, &s3_etag);
    if let Some(e) = expiry {
        let parts: Vec<String> = used.iter().map(|n| part_name(ctx.key(), upload_id, *n)).collect();
        crate::lifecycle::expire_segments(ctx, &parts, e.delete_at).await;
        set(resp.headers_mut(), "x-amz-expiration", &e.header);
    }
    Ok(resp)
}

pub(crate) async fn abort(ctx: &S3Ctx<'_>, upload_id: &str) -> Result<Response<Body>> {
    head_marker(ctx, upload_id).await?;
    let parts = stored_parts(ctx, upload_id).await?;
    let mut names: Vec<String> = parts.iter().map(|p| part_name(ctx.key(), upload_id, p.0)).collect();
    delete_segments(ctx, std::mem::take(&mut names)).await;
    let seg = segments_container(ctx.bucket());
    let marker = marker_name(ctx.key(), upload_id);
    let r = ctx.swift.small(Method::DELETE, Some(&seg), Some(&marker), &[], HeaderMap::new()).await?;
    if !r.status.is_success() && r.status != StatusCode::NOT_FOUND {
        return Err(error_for(r.status, &r.body, S3Error::NoSuchUpload));
    }
    Ok(empty_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_documents() {
        let doc = br#"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"AA"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>bb</ETag></Part></CompleteMultipartUpload>"#;
        assert_eq!(parse_complete(doc).unwrap(), vec![(1, "aa".into()), (3, "bb".into())]);
        let unordered = br#"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>"#;
        assert!(matches!(parse_complete(unordered), Err(S3Error::InvalidPartOrder)));
        let dup = br#"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>"#;
        assert!(matches!(parse_complete(dup), Err(S3Error::InvalidPartOrder)));
        assert!(matches!(parse_complete(b"<CompleteMultipartUpload/>"), Err(S3Error::MalformedXML)));
        let big = br#"<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>"#;
        assert!(matches!(parse_complete(big), Err(S3Error::InvalidPart)));
    }

    #[test]
    fn names_and_ranges() {
        let id = new_upload_id();
        assert!(is_upload_id(&id));
        assert!(!is_upload_id("12"));
        assert_eq!(part_name("a/b", &id, 7), format!("a/b/{id}/7"));
        assert_eq!(copy_range("bytes=0-9", 10).unwrap(), (0, 9));
        assert!(copy_range("bytes=0-10", 10).is_err());
        assert!(copy_range("bytes=5-1", 10).is_err());
        assert!(copy_range("0-1", 10).is_err());
    }
}
