//! DeleteObject and DeleteObjects. A multipart object is deleted with its segments
//! (`multipart-manifest=delete`); deleting what is not there succeeds, as in S3.

use crate::buckets::{empty_response, head_container, read_body, versioning_status, xml_response};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::objects::version_object;
use crate::swift::error_for;
use crate::xml::{self, XmlWriter};
use common::headers::get;
use common::http::{Body, HttpError};
use http::{HeaderMap, Method, Response, StatusCode};

/// S3's limit of keys per DeleteObjects request.
pub(crate) const MAX_DELETE_KEYS: usize = 1000;
/// A DeleteObjects body: 1000 keys of up to 1 KiB each, plus the markup.
pub(crate) const MAX_DELETE_BODY: usize = 2 << 20;
/// How many deletes of one DeleteObjects run at once.
const PARALLEL_DELETES: usize = 8;

/// Deletes one key (or one old version); a missing object is not an error. In a
/// versioned bucket the current object is archived by the DELETE, so a multipart one
/// keeps its segments (its archived manifest still names them).
async fn delete_one(ctx: &S3Ctx<'_>, key: &str, version_id: Option<&str>, versioned: bool) -> Result<()> {
    let version = version_id.filter(|v| *v != "null" && !v.is_empty());
    let (c, o) = match version {
        Some(v) => version_object(ctx.bucket(), key, v),
        None => (ctx.bucket().to_string(), key.to_string()),
    };
    let keep_segments = versioned && version.is_none();
    let head = ctx.swift.small(Method::HEAD, Some(&c), Some(&o), &[], HeaderMap::new()).await?;
    let query: &[(&str, &str)] = match head.status {
        StatusCode::NOT_FOUND => return Ok(()),
        s if s.is_success() => {
            let slo = get(&head.headers, "x-static-large-object").is_some_and(|v| v.eq_ignore_ascii_case("true"));
            if slo && !keep_segments {
                &[("multipart-manifest", "delete")]
            } else {
                &[]
            }
        }
        s => return Err(error_for(s, &head.body, S3Error::NoSuchKey)),
    };
    let r = ctx.swift.small(Method::DELETE, Some(&c), Some(&o), query, HeaderMap::new()).await?;
    match r.status {
        s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
        s => Err(error_for(s, &r.body, S3Error::NoSuchKey)),
    }
}

pub(crate) async fn delete_object(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let bucket = head_container(ctx).await?;
    let versioned = versioning_status(&bucket).is_some();
    delete_one(ctx, ctx.key(), ctx.query.get("versionId"), versioned).await?;
    let mut resp = empty_response(StatusCode::NO_CONTENT);
    if let Some(v) = ctx.query.get("versionId") {
        common::headers::set(resp.headers_mut(), "x-amz-version-id", v);
    }
    Ok(resp)
}

async fn delete_checked(ctx: &S3Ctx<'_>, t: &Target, versioned: bool) -> Result<()> {
    if t.key.len() > crate::paths::MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLongError);
    }
    delete_one(ctx, &t.key, t.version_id.as_deref(), versioned).await
}

pub(crate) struct Target {
    key: String,
    version_id: Option<String>,
}

/// A DeleteObjects document: refused at its 1001st `<Object>`, before the rest is parsed.
pub(crate) fn parse_request(doc: &[u8]) -> Result<(bool, Vec<Target>)> {
    let mut objects = 0usize;
    let root = xml::parse_with(doc, |depth, name| {
        if depth == 1 && name == "Object" {
            objects += 1;
            if objects > MAX_DELETE_KEYS {
                return Err(S3Error::MalformedXML);
            }
        }
        Ok(())
    })?;
    if root.name != "Delete" {
        return Err(S3Error::MalformedXML);
    }
    let quiet = root.child_text("Quiet").is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let mut targets = Vec::new();
    for o in root.children("Object") {
        let key = o.child_text("Key").ok_or(S3Error::MalformedXML)?;
        if key.is_empty() {
            return Err(S3Error::MalformedXML);
        }
        targets.push(Target { key: key.to_string(), version_id: o.child_text("VersionId").map(str::to_string) });
    }
    if targets.is_empty() || targets.len() > MAX_DELETE_KEYS {
        return Err(S3Error::MalformedXML);
    }
    Ok((quiet, targets))
}

pub(crate) async fn delete_objects(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    // Rights first: a stranger to the bucket is refused before its body is read.
    let versioned = versioning_status(&head_container(ctx).await?).is_some();
    let doc = read_body(ctx, body, MAX_DELETE_BODY).await?;
    match crate::headers::content_md5_hex(&ctx.headers)? {
        // read_body held the document to it.
        Some(_) => {}
        // The body was held to it as it was read (frontend::verified_body).
        None if ctx.checksum.is_some() => {}
        None => {
            return Err(S3Error::InvalidRequest(
                "Missing required header for this request: Content-MD5 OR x-amz-checksum-*".into(),
            ))
        }
    }
    let (quiet, targets) = parse_request(&doc)?;
    let mut results: Vec<(Target, Result<()>)> = Vec::with_capacity(targets.len());
    let mut targets = targets.into_iter().peekable();
    while targets.peek().is_some() {
        let batch: Vec<Target> = targets.by_ref().take(PARALLEL_DELETES).collect();
        let outcomes = futures::future::join_all(batch.iter().map(|t| delete_checked(ctx, t, versioned))).await;
        results.extend(batch.into_iter().zip(outcomes));
    }
    let mut x = XmlWriter::new();
    x.root("DeleteResult");
    for (t, r) in &results {
        match r {
            Ok(()) if quiet => {}
            Ok(()) => {
                x.open("Deleted");
                x.elem("Key", &t.key);
                if let Some(v) = &t.version_id {
                    x.elem("VersionId", v);
                }
                x.close("Deleted");
            }
            Err(e) => {
                if e.status().is_server_error() {
                    tracing::error!(key = %t.key, error = %e, "multi-delete of one key failed");
                }
                x.open("Error");
                x.elem("Key", &t.key);
                if let Some(v) = &t.version_id {
                    x.elem("VersionId", v);
                }
                x.elem("Code", e.code());
                x.elem("Message", &e.to_string());
                x.close("Error");
            }
        }
    }
    x.close("DeleteResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_delete_documents() {
        let (quiet, t) = parse_request(b"<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>v1</VersionId></Object></Delete>").unwrap();
        assert!(quiet);
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].version_id.as_deref(), Some("v1"));
        assert!(parse_request(b"<Delete></Delete>").is_err());
        assert!(parse_request(b"<Delete><Object></Object></Delete>").is_err());
        assert!(parse_request(b"<Remove><Object><Key>a</Key></Object></Remove>").is_err());
        let many = format!("<Delete>{}</Delete>", "<Object><Key>k</Key></Object>".repeat(1001));
        assert!(matches!(parse_request(many.as_bytes()), Err(S3Error::MalformedXML)));
    }

    /// Refusing a document with too many keys must not cost parsing all of them: it stops
    /// at the 1001st (timed against parsing the whole document, the best of three each).
    #[test]
    fn stops_at_the_first_key_too_many() {
        let doc = format!("<Delete>{}</Delete>", "<Object><Key>k</Key></Object>".repeat(99_000));
        let best = |f: &dyn Fn()| {
            (0..3)
                .map(|_| {
                    let t = std::time::Instant::now();
                    f();
                    t.elapsed()
                })
                .min()
                .unwrap()
        };
        let whole = best(&|| assert!(xml::parse(doc.as_bytes()).is_ok()));
        let refused = best(&|| assert!(matches!(parse_request(doc.as_bytes()), Err(S3Error::MalformedXML))));
        assert!(refused * 10 < whole, "refusing took {refused:?}, parsing it all {whole:?}");
    }
}
