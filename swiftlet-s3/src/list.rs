//! ListObjects (v1 and v2) and ListObjectVersions over Swift's JSON container listings:
//! prefix, delimiter (common prefixes), markers, continuation tokens, `encoding-type=url`.

use crate::buckets::{s3_time, versions_container, xml_response};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::signature::v4::uri_encode;
use crate::swift::error_for;
use crate::xml::XmlWriter;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};
use serde::Deserialize;
use swiftlet_proxy::DELETE_MARKER;

pub(crate) const DEFAULT_MAX_KEYS: usize = 1000;

/// One row of a Swift JSON listing: an object or a common prefix.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Row {
    Object {
        name: String,
        #[serde(default)]
        hash: String,
        #[serde(default)]
        bytes: u64,
        #[serde(default)]
        content_type: String,
        #[serde(default)]
        last_modified: String,
    },
    Subdir {
        subdir: String,
    },
}

/// An object row as S3 shows it.
pub(crate) struct Entry {
    pub key: String,
    pub etag: String,
    pub size: u64,
    pub last_modified: String,
}

impl Entry {
    /// The listing's ETag (a multipart one rides along as `; s3_etag=`) and size (a large
    /// object's total rides along as `;swift_bytes=` on its content type).
    pub(crate) fn from_row(name: &str, hash: &str, bytes: u64, content_type: &str, last_modified: &str) -> Entry {
        let mut fields = hash.split(';').map(str::trim);
        let mut etag = fields.next().unwrap_or("").trim_matches('"').to_string();
        for f in fields {
            if let Some(v) = f.strip_prefix("s3_etag=") {
                etag = v.trim_matches('"').to_string();
            }
        }
        let size = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("swift_bytes=").and_then(|v| v.parse().ok()))
            .unwrap_or(bytes);
        Entry { key: name.to_string(), etag: format!("\"{etag}\""), size, last_modified: s3_time(last_modified) }
    }
}

/// Listing parameters common to every flavour.
pub(crate) struct ListParams {
    pub prefix: String,
    pub delimiter: String,
    pub max_keys: usize,
    pub url_encode: bool,
}

impl ListParams {
    pub(crate) fn parse(ctx: &S3Ctx<'_>, max_name: &str, default_max: usize) -> Result<ListParams> {
        let max_keys = match ctx.query.get(max_name) {
            None => default_max,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(|n| (n as usize).min(default_max))
                .ok_or_else(|| S3Error::InvalidArgument(format!("{max_name} must be a non-negative integer")))?,
        };
        let url_encode = match ctx.query.get("encoding-type") {
            None => false,
            Some("url") => true,
            Some(_) => return Err(S3Error::InvalidArgument("encoding-type must be url".into())),
        };
        Ok(ListParams {
            prefix: ctx.query.get("prefix").unwrap_or("").to_string(),
            delimiter: ctx.query.get("delimiter").unwrap_or("").to_string(),
            max_keys,
            url_encode,
        })
    }

    /// A name as the response writes it.
    pub(crate) fn enc(&self, s: &str) -> String {
        if self.url_encode {
            uri_encode(s.as_bytes(), true)
        } else {
            s.to_string()
        }
    }
}

/// One page of a container listing: up to `limit` rows after `marker`.
pub(crate) async fn swift_page(
    ctx: &S3Ctx<'_>,
    container: &str,
    prefix: &str,
    delimiter: &str,
    marker: &str,
    limit: usize,
) -> Result<Option<Vec<Row>>> {
    let limit = limit.to_string();
    let mut q = vec![("format", "json"), ("limit", limit.as_str())];
    for (k, v) in [("prefix", prefix), ("delimiter", delimiter), ("marker", marker)] {
        if !v.is_empty() {
            q.push((k, v));
        }
    }
    let r = ctx.swift.small(Method::GET, Some(container), None, &q, HeaderMap::new()).await?;
    match r.status {
        StatusCode::NOT_FOUND => Ok(None),
        StatusCode::NO_CONTENT => Ok(Some(Vec::new())),
        s if s.is_success() => serde_json::from_slice(&r.body)
            .map(Some)
            .map_err(|e| S3Error::InternalError(format!("bad container listing: {e}"))),
        s => Err(error_for(s, &r.body, S3Error::NoSuchBucket)),
    }
}

fn row_name(r: &Row) -> &str {
    match r {
        Row::Object { name, .. } => name,
        Row::Subdir { subdir } => subdir,
    }
}

pub(crate) async fn list_objects(ctx: &S3Ctx<'_>, v2: bool) -> Result<Response<Body>> {
    let p = ListParams::parse(ctx, "max-keys", DEFAULT_MAX_KEYS)?;
    let token = ctx.query.get("continuation-token");
    let marker = if v2 {
        match token {
            Some(t) => {
                String::from_utf8(URL_SAFE_NO_PAD.decode(t).map_err(|_| bad_token())?).map_err(|_| bad_token())?
            }
            None => ctx.query.get("start-after").unwrap_or("").to_string(),
        }
    } else {
        ctx.query.get("marker").unwrap_or("").to_string()
    };
    let mut rows = if p.max_keys == 0 {
        crate::buckets::head_container(ctx).await?;
        Vec::new()
    } else {
        swift_page(ctx, ctx.bucket(), &p.prefix, &p.delimiter, &marker, p.max_keys + 1)
            .await?
            .ok_or(S3Error::NoSuchBucket)?
    };
    let truncated = rows.len() > p.max_keys;
    rows.truncate(p.max_keys);
    let next = rows.last().map(|r| row_name(r).to_string()).filter(|_| truncated);
    let owner = ctx.owner();
    let mut x = XmlWriter::new();
    x.root("ListBucketResult");
    x.elem("Name", ctx.bucket());
    x.elem("Prefix", &p.enc(&p.prefix));
    if v2 {
        if let Some(t) = token {
            x.elem("ContinuationToken", t);
        }
        if let Some(s) = ctx.query.get("start-after") {
            x.elem("StartAfter", &p.enc(s));
        }
        x.elem("KeyCount", &rows.len().to_string());
        if let Some(n) = &next {
            x.elem("NextContinuationToken", &URL_SAFE_NO_PAD.encode(n));
        }
    } else {
        x.elem("Marker", &p.enc(&marker));
        if let Some(n) = &next {
            x.elem("NextMarker", &p.enc(n));
        }
    }
    x.elem("MaxKeys", &p.max_keys.to_string());
    if !p.delimiter.is_empty() {
        x.elem("Delimiter", &p.enc(&p.delimiter));
    }
    if p.url_encode {
        x.elem("EncodingType", "url");
    }
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    let fetch_owner = !v2 || ctx.query.get("fetch-owner") == Some("true");
    for row in &rows {
        if let Row::Object { name, hash, bytes, content_type, last_modified } = row {
            let e = Entry::from_row(name, hash, *bytes, content_type, last_modified);
            x.open("Contents");
            x.elem("Key", &p.enc(&e.key));
            x.elem("LastModified", &e.last_modified);
            x.elem("ETag", &e.etag);
            x.elem("Size", &e.size.to_string());
            if fetch_owner {
                owner_element(&mut x, &owner);
            }
            x.elem("StorageClass", "STANDARD");
            x.close("Contents");
        }
    }
    common_prefixes(&mut x, &rows, &p);
    x.close("ListBucketResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

fn bad_token() -> S3Error {
    S3Error::InvalidArgument("The continuation token provided is incorrect".into())
}

fn owner_element(x: &mut XmlWriter, owner: &str) {
    x.open("Owner");
    x.elem("ID", owner);
    x.elem("DisplayName", owner);
    x.close("Owner");
}

fn common_prefixes(x: &mut XmlWriter, rows: &[Row], p: &ListParams) {
    for row in rows {
        if let Row::Subdir { subdir } = row {
            x.open("CommonPrefixes");
            x.elem("Prefix", &p.enc(subdir));
            x.close("CommonPrefixes");
        }
    }
}

/// Every current object is a version; where versioning kept older copies (in
/// `<bucket>+versions`), those follow their key, newest first.
pub(crate) async fn list_versions(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let p = ListParams::parse(ctx, "max-keys", DEFAULT_MAX_KEYS)?;
    let key_marker = ctx.query.get("key-marker").unwrap_or("").to_string();
    let mut rows = swift_page(ctx, ctx.bucket(), &p.prefix, &p.delimiter, &key_marker, p.max_keys + 1)
        .await?
        .ok_or(S3Error::NoSuchBucket)?;
    let truncated = rows.len() > p.max_keys;
    rows.truncate(p.max_keys);
    let archive = versions_container(ctx.bucket());
    let has_archive = swift_page(ctx, &archive, "", "", "", 1).await?.is_some_and(|r| !r.is_empty());
    let owner = ctx.owner();
    let mut x = XmlWriter::new();
    x.root("ListVersionsResult");
    x.elem("Name", ctx.bucket());
    x.elem("Prefix", &p.enc(&p.prefix));
    x.elem("KeyMarker", &p.enc(&key_marker));
    x.elem("VersionIdMarker", "");
    if truncated {
        if let Some(last) = rows.last() {
            x.elem("NextKeyMarker", &p.enc(row_name(last)));
        }
    }
    x.elem("MaxKeys", &p.max_keys.to_string());
    if !p.delimiter.is_empty() {
        x.elem("Delimiter", &p.enc(&p.delimiter));
    }
    if p.url_encode {
        x.elem("EncodingType", "url");
    }
    x.elem("IsTruncated", if truncated { "true" } else { "false" });
    for row in &rows {
        let Row::Object { name, hash, bytes, content_type, last_modified } = row else { continue };
        let mut versions =
            vec![("null".to_string(), true, false, Entry::from_row(name, hash, *bytes, content_type, last_modified))];
        if has_archive {
            let prefix = format!("{:03x}{name}/", name.len());
            let old = swift_page(ctx, &archive, &prefix, "", "", 10_000).await?.unwrap_or_default();
            for r in old.iter().rev() {
                if let Row::Object { name: vname, hash, bytes, content_type, last_modified } = r {
                    let id = vname[prefix.len()..].to_string();
                    // History mode archives a delete as a marker object.
                    let marker = content_type == DELETE_MARKER;
                    versions.push((
                        id,
                        false,
                        marker,
                        Entry::from_row(name, hash, *bytes, content_type, last_modified),
                    ));
                }
            }
        }
        for (id, latest, marker, e) in versions {
            if marker {
                x.open("DeleteMarker");
                x.elem("Key", &p.enc(&e.key));
                x.elem("VersionId", &id);
                x.elem("IsLatest", "false");
                x.elem("LastModified", &e.last_modified);
                owner_element(&mut x, &owner);
                x.close("DeleteMarker");
                continue;
            }
            x.open("Version");
            x.elem("Key", &p.enc(&e.key));
            x.elem("VersionId", &id);
            x.elem("IsLatest", if latest { "true" } else { "false" });
            x.elem("LastModified", &e.last_modified);
            x.elem("ETag", &e.etag);
            x.elem("Size", &e.size.to_string());
            owner_element(&mut x, &owner);
            x.elem("StorageClass", "STANDARD");
            x.close("Version");
        }
    }
    common_prefixes(&mut x, &rows, &p);
    x.close("ListVersionsResult");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_entries() {
        let rows: Vec<Row> = serde_json::from_str(
            r#"[{"name":"a","hash":"abc; s3_etag=def-2; slo_etag=x","bytes":10,"content_type":"text/plain;swift_bytes=12345","last_modified":"2023-11-14T22:13:20.000000"},{"subdir":"d/"}]"#,
        )
        .unwrap();
        let Row::Object { name, hash, bytes, content_type, last_modified } = &rows[0] else { panic!() };
        let e = Entry::from_row(name, hash, *bytes, content_type, last_modified);
        assert_eq!((e.etag.as_str(), e.size), ("\"def-2\"", 12345));
        assert_eq!(e.last_modified, "2023-11-14T22:13:20.000Z");
        assert!(matches!(&rows[1], Row::Subdir { subdir } if subdir == "d/"));
        let plain = Entry::from_row("b", "0123", 3, "text/plain", "2023-11-14T22:13:20.5");
        assert_eq!((plain.etag.as_str(), plain.size), ("\"0123\"", 3));
    }
}
