//! Translating object headers between S3 and Swift: `x-amz-meta-*` is
//! `X-Object-Meta-*`, Content-MD5 becomes the ETag Swift checks, and S3-only facts (the
//! multipart ETag, tags) live in system metadata that Swift clients never see.

use crate::error::{Result, S3Error};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::headers::{get, set};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The multipart upload's S3 ETag (`<md5 of part md5s>-<count>`), on the manifest.
pub(crate) const SYSMETA_ETAG: &str = "x-object-sysmeta-s3api-etag";
/// The upload id that produced a multipart object (its segments are `<key>/<upload id>/…`).
pub(crate) const SYSMETA_UPLOAD_ID: &str = "x-object-sysmeta-s3api-upload-id";
/// Object tags, as a query string; transient so a POST can change them.
pub(crate) const SYSMETA_TAGGING: &str = "x-object-transient-sysmeta-s3api-tagging";

/// Headers S3 and Swift objects share verbatim.
pub(crate) const PLAIN_HEADERS: &[&str] =
    &["content-type", "content-disposition", "content-language", "cache-control", "expires"];

/// The canned ACLs S3 knows.
pub(crate) const CANNED_ACLS: &[&str] = &[
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "aws-exec-read",
    "log-delivery-write",
];

/// Content-Encoding without the transfer-only `aws-chunked`.
fn content_encoding(h: &HeaderMap) -> Option<String> {
    let v = get(h, "content-encoding")?;
    let kept: Vec<&str> = v.split(',').map(str::trim).filter(|e| !e.is_empty() && *e != "aws-chunked").collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// Content-MD5 (base64) as the hex ETag Swift verifies the body against.
pub(crate) fn content_md5_hex(h: &HeaderMap) -> Result<Option<String>> {
    let Some(v) = get(h, "content-md5") else {
        return if h.contains_key("content-md5") { Err(S3Error::InvalidDigest) } else { Ok(None) };
    };
    let raw = STANDARD.decode(v.trim()).map_err(|_| S3Error::InvalidDigest)?;
    if raw.len() != 16 {
        return Err(S3Error::InvalidDigest);
    }
    Ok(Some(hex::encode(raw)))
}

/// The user metadata of an S3 request, as Swift object metadata.
pub(crate) fn copy_user_metadata(s3: &HeaderMap, out: &mut HeaderMap) {
    for (name, value) in s3 {
        if let Some(rest) = name.as_str().strip_prefix("x-amz-meta-") {
            if let Ok(n) = HeaderName::from_bytes(format!("x-object-meta-{rest}").as_bytes()) {
                out.append(n, value.clone());
            }
        }
    }
}

/// Checks the headers an object write may carry that we do not store.
pub(crate) fn check_write_headers(s3: &HeaderMap) -> Result<()> {
    if let Some(class) = get(s3, "x-amz-storage-class") {
        if !matches!(class, "STANDARD" | "REDUCED_REDUNDANCY" | "STANDARD_IA") {
            return Err(S3Error::InvalidStorageClass);
        }
    }
    if let Some(acl) = get(s3, "x-amz-acl") {
        if !CANNED_ACLS.contains(&acl) {
            return Err(S3Error::InvalidArgument(format!("unknown canned ACL {acl}")));
        }
    }
    if s3.contains_key("x-amz-server-side-encryption")
        || s3.contains_key("x-amz-server-side-encryption-customer-algorithm")
    {
        return Err(S3Error::NotImplemented("server-side encryption".into()));
    }
    Ok(())
}

/// The Swift headers of an object PUT made from an S3 PutObject/UploadPart/Create.
pub(crate) fn object_put_headers(s3: &HeaderMap) -> Result<HeaderMap> {
    check_write_headers(s3)?;
    let mut out = HeaderMap::new();
    for name in PLAIN_HEADERS {
        if let Some(v) = s3.get(*name) {
            out.insert(*name, v.clone());
        }
    }
    if let Some(enc) = content_encoding(s3) {
        set(&mut out, "content-encoding", &enc);
    }
    copy_user_metadata(s3, &mut out);
    if let Some(md5) = content_md5_hex(s3)? {
        set(&mut out, "etag", &md5);
    }
    for cond in ["if-none-match", "if-match"] {
        if let Some(v) = s3.get(cond) {
            out.insert(cond, v.clone());
        }
    }
    if let Some(tags) = get(s3, "x-amz-tagging") {
        let tags = crate::tags::parse_tag_query(tags)?;
        set(&mut out, SYSMETA_TAGGING, &crate::tags::tag_query(&tags));
    }
    Ok(out)
}

/// The ETag S3 clients see: the multipart one if the object has it, always quoted.
pub(crate) fn s3_etag(swift: &HeaderMap) -> Option<String> {
    let raw = get(swift, SYSMETA_ETAG).filter(|e| !e.is_empty()).or_else(|| get(swift, "etag"))?;
    let bare = raw.trim().trim_matches('"');
    Some(format!("\"{bare}\""))
}

/// The headers of an S3 GET/HEAD answer, from Swift's.
pub(crate) fn object_response_headers(swift: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in PLAIN_HEADERS.iter().chain(&["content-encoding", "content-length", "content-range", "last-modified"]) {
        if let Some(v) = swift.get(*name) {
            out.insert(*name, v.clone());
        }
    }
    if let Some(etag) = s3_etag(swift) {
        set(&mut out, "etag", &etag);
    }
    for (name, value) in swift {
        if let Some(rest) = name.as_str().strip_prefix("x-object-meta-") {
            if let Ok(n) = HeaderName::from_bytes(format!("x-amz-meta-{rest}").as_bytes()) {
                out.append(n, value.clone());
            }
        }
    }
    if let Some(tags) = get(swift, SYSMETA_TAGGING).filter(|t| !t.is_empty()) {
        set(&mut out, "x-amz-tagging-count", &tags.split('&').count().to_string());
    }
    if let Some(exp) = crate::lifecycle_rules::expiration_of_object(swift) {
        set(&mut out, "x-amz-expiration", &exp);
    }
    out.insert("accept-ranges", HeaderValue::from_static("bytes"));
    out.insert("x-amz-storage-class", HeaderValue::from_static("STANDARD"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            set(&mut h, k, v);
        }
        h
    }

    #[test]
    fn put_headers_translate() {
        let h = hm(&[
            ("x-amz-meta-color", "blue"),
            ("content-type", "text/plain"),
            ("content-encoding", "gzip,aws-chunked"),
            ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
            ("authorization", "AWS x:y"),
        ]);
        let out = object_put_headers(&h).unwrap();
        assert_eq!(get(&out, "x-object-meta-color"), Some("blue"));
        assert_eq!(get(&out, "content-encoding"), Some("gzip"));
        assert_eq!(get(&out, "etag"), Some("d41d8cd98f00b204e9800998ecf8427e"));
        assert!(out.get("authorization").is_none());
        assert!(matches!(object_put_headers(&hm(&[("content-md5", "nope")])), Err(S3Error::InvalidDigest)));
        assert!(matches!(object_put_headers(&hm(&[("content-md5", "AAAA")])), Err(S3Error::InvalidDigest)));
        assert!(matches!(
            object_put_headers(&hm(&[("x-amz-storage-class", "GLACIERX")])),
            Err(S3Error::InvalidStorageClass)
        ));
    }

    #[test]
    fn response_headers_translate() {
        let h = hm(&[
            ("x-object-meta-color", "blue"),
            ("etag", "abc"),
            (SYSMETA_ETAG, "def-3"),
            ("x-object-sysmeta-x", "1"),
        ]);
        let out = object_response_headers(&h);
        assert_eq!(get(&out, "x-amz-meta-color"), Some("blue"));
        assert_eq!(get(&out, "etag"), Some("\"def-3\""));
        assert!(out.keys().all(|k| !k.as_str().contains("sysmeta")));
    }
}
