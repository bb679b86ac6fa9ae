//! ListParts and ListMultipartUploads, read from the `<bucket>+segments` container.

use crate::buckets::{head_container, s3_time, segments_container, xml_response};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::list::{swift_page, ListParams, Row};
use crate::multipart::{head_marker, stored_parts};
use crate::uploads::is_upload_id;
use crate::xml::XmlWriter;
use common::http::Body;
use http::{Response, StatusCode};

pub(crate) const DEFAULT_MAX_PARTS: usize = 1000;
const DEFAULT_MAX_UPLOADS: usize = 1000;
/// Listing pages read at most per ListMultipartUploads (each up to 10000 rows).
const MAX_PAGES: usize = 100;

fn owner(x: &mut XmlWriter, tag: &str, id: &str) {
    x.open(tag);
    x.elem("ID", id);
    x.elem("DisplayName", id);
    x.close(tag);
}

pub(crate) async fn list_parts(ctx: &S3Ctx<'_>, upload_id: &str) -> Result<Response<Body>> {
    let max_parts = match ctx.query.get("max-parts") {
        None => DEFAULT_MAX_PARTS,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(DEFAULT_MAX_PARTS))
            .ok_or_else(|| S3Error::InvalidArgument("max-parts must be a non-negative integer".into()))?,
    };
    let after: u32 = match ctx.query.get("part-number-marker") {
        None => 0,
        Some(v) => v.parse().map_err(|_| S3Error::InvalidArgument("part-number-marker must be an integer".into()))?,
    };
    head_marker(ctx, upload_id).await?;
    let mut parts: Vec<_> = stored_parts(ctx, upload_id).await?.into_iter().filter(|p| p.0 > after).collect();
    let truncated = parts.len() > max_parts;
    parts.truncate(max_parts);
    let id = ctx.owner();
    let mut x = XmlWriter::new();
    x.root("ListPartsResult");
    x.elem("Bucket", ctx.bucket());
    x.elem("Key", ctx.key());
    x.elem("UploadId", upload_id);
    owner(&mut x, "Initiator", &id);
    owner(&mut x, "Owner", &id);
    x.elem("StorageClass", "STANDARD");
    x.elem("PartNumberMarker", &after.to_string());
    if let Some(last) = parts.last() {
        x.elem("NextPartNumberMarker", &last.0.to_string());
    }
    x.elem("MaxParts", &max_parts.to_string());
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    for (number, hash, size, modified) in &parts {
        x.open("Part");
        x.elem("PartNumber", &number.to_string());
        x.elem("LastModified", &s3_time(modified));
        x.elem("ETag", &format!("\"{}\"", hash.trim_matches('"')));
        x.elem("Size", &size.to_string());
        x.close("Part");
    }
    x.close("ListPartsResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

/// An upload in progress: its key, id and start time.
struct Upload {
    key: String,
    id: String,
    initiated: String,
}

/// The upload marker a segments-container name stands for, if it is one (parts end in
/// a number, markers in an upload id).
fn as_marker(name: &str) -> Option<(&str, &str)> {
    let (key, last) = name.rsplit_once('/')?;
    (is_upload_id(last) && !key.is_empty()).then_some((key, last))
}

/// Where an upload's key goes in a listing.
#[derive(Debug, PartialEq, Eq)]
enum Place<'a> {
    Skip,
    Upload,
    /// Rolled up into this common prefix.
    Prefix(&'a str),
}

/// Places `key` in a listing of `prefix` rolled up at `delimiter` (if any), skipping keys
/// up to `after` (the key-marker, when no upload-id-marker goes with it).
/// The segments listing matched `prefix` on `<key>/<upload id>`, so it may run past the
/// key; only whole-key matches count, and the key is sliced only where `prefix` ends.
fn place<'a>(key: &'a str, prefix: &str, delimiter: &str, after: &str) -> Place<'a> {
    let Some(rest) = key.strip_prefix(prefix) else { return Place::Skip };
    if !after.is_empty() && key <= after {
        return Place::Skip;
    }
    if !delimiter.is_empty() {
        if let Some(i) = rest.find(delimiter) {
            return Place::Prefix(&key[..prefix.len() + i + delimiter.len()]);
        }
    }
    Place::Upload
}

pub(crate) async fn list_uploads(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let p = ListParams::parse(ctx, "max-uploads", DEFAULT_MAX_UPLOADS)?;
    let key_marker = ctx.query.get("key-marker").unwrap_or("").to_string();
    let id_marker = ctx.query.get("upload-id-marker").unwrap_or("").to_string();
    head_container(ctx).await?;
    let seg = segments_container(ctx.bucket());
    let mut uploads: Vec<Upload> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut marker = if id_marker.is_empty() { key_marker.clone() } else { format!("{key_marker}/{id_marker}") };
    let want = p.max_keys + 1;
    let mut last_was_prefix = false;
    'pages: for _ in 0..MAX_PAGES {
        let Some(page) = swift_page(ctx, &seg, &p.prefix, "", &marker, 10_000).await? else { break };
        let full = page.len() == 10_000;
        for row in &page {
            let Row::Object { name, last_modified, .. } = row else { continue };
            marker = name.clone();
            let Some((key, id)) = as_marker(name) else { continue };
            let after = if id_marker.is_empty() { key_marker.as_str() } else { "" };
            match place(key, &p.prefix, &p.delimiter, after) {
                Place::Skip => continue,
                Place::Upload => {}
                Place::Prefix(cp) => {
                    if !prefixes.iter().any(|p| p == cp) {
                        prefixes.push(cp.to_string());
                        last_was_prefix = true;
                    }
                    if uploads.len() + prefixes.len() >= want {
                        break 'pages;
                    }
                    continue;
                }
            }
            uploads.push(Upload { key: key.to_string(), id: id.to_string(), initiated: s3_time(last_modified) });
            last_was_prefix = false;
            if uploads.len() + prefixes.len() >= want {
                break 'pages;
            }
        }
        if !full {
            break;
        }
    }
    let truncated = uploads.len() + prefixes.len() > p.max_keys;
    if truncated {
        // Drop the one extra entry that showed there is more.
        if last_was_prefix {
            prefixes.pop();
        } else {
            uploads.pop();
        }
    }
    let owner_id = ctx.owner();
    let mut x = XmlWriter::new();
    x.root("ListMultipartUploadsResult");
    x.elem("Bucket", ctx.bucket());
    x.elem("KeyMarker", &p.enc(&key_marker));
    x.elem("UploadIdMarker", &id_marker);
    if truncated {
        if let Some(last) = uploads.last() {
            x.elem("NextKeyMarker", &p.enc(&last.key));
            x.elem("NextUploadIdMarker", &last.id);
        }
    }
    if !p.delimiter.is_empty() {
        x.elem("Delimiter", &p.enc(&p.delimiter));
    }
    x.elem("Prefix", &p.enc(&p.prefix));
    x.elem("MaxUploads", &p.max_keys.to_string());
    if p.url_encode {
        x.elem("EncodingType", "url");
    }
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    for u in &uploads {
        x.open("Upload");
        x.elem("Key", &p.enc(&u.key));
        x.elem("UploadId", &u.id);
        owner(&mut x, "Initiator", &owner_id);
        owner(&mut x, "Owner", &owner_id);
        x.elem("StorageClass", "STANDARD");
        x.elem("Initiated", &u.initiated);
        x.close("Upload");
    }
    for cp in &prefixes {
        x.open("CommonPrefixes");
        x.elem("Prefix", &p.enc(cp));
        x.close("CommonPrefixes");
    }
    x.close("ListMultipartUploadsResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_parts() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(as_marker(&format!("a/b/{id}")), Some(("a/b", id)));
        assert_eq!(as_marker(&format!("a/b/{id}/1")), None);
        assert_eq!(as_marker("plain"), None);
    }

    #[test]
    fn places_keys_whatever_the_prefix_and_delimiter() {
        assert_eq!(place("a/b/c", "a/", "/", ""), Place::Prefix("a/b/"));
        assert_eq!(place("a/b", "a/", "/", ""), Place::Upload);
        assert_eq!(place("a/b", "", "", "a/b"), Place::Skip);
        assert_eq!(place("é/part", "é", "/", ""), Place::Prefix("é/"));
        assert_eq!(place("é/part", "é/p", "é", ""), Place::Upload);
        // The segments listing matched the prefix on `<key>/<upload id>`: a prefix running
        // past the key (into the `/` or the id) is no match of the key itself.
        assert_eq!(place("é/part", "é/part/", "/", ""), Place::Skip);
        assert_eq!(place("é/part", "é/part/0123", "", ""), Place::Skip);
        assert_eq!(place("é", "é/", "", ""), Place::Skip);
        // A prefix naming another key entirely (cut inside its first character's bytes).
        assert_eq!(place("ée", "\u{e8}", "/", ""), Place::Skip);
        assert_eq!(place("key", "x".repeat(1024).as_str(), "/", ""), Place::Skip);
    }
}
