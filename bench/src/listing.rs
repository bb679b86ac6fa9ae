//! The list workload's one operation: page through a whole container listing, as Swift's
//! plain-text pages with `marker`, or as S3 ListObjectsV2 pages with continuation tokens.

use crate::endpoint::Endpoint;
use crate::s3sign::encode;
use anyhow::{bail, Result};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

/// Lists all of `container` in pages of `page` names; returns the status and the bytes read.
pub async fn list_all(ep: &Endpoint, container: &str, page: u64) -> Result<(StatusCode, u64)> {
    let mut next: Option<String> = None;
    let mut total = 0u64;
    loop {
        let query = match (ep.is_s3(), &next) {
            (true, None) => format!("list-type=2&max-keys={page}"),
            (true, Some(token)) => format!("list-type=2&max-keys={page}&continuation-token={}", encode(token, false)),
            (false, None) => format!("limit={page}"),
            (false, Some(marker)) => format!("limit={page}&marker={}", encode(marker, false)),
        };
        let mut req = ep.request(Method::GET, container, None, &query, None)?;
        if !ep.is_s3() {
            req.headers_mut().insert("accept", HeaderValue::from_static("text/plain"));
        }
        let resp = ep.send(req).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Ok((status, total));
        }
        total += bytes.len() as u64;
        let text = std::str::from_utf8(&bytes)?;
        next = if ep.is_s3() { s3_next(text)? } else { swift_next(text, page) };
        if next.is_none() {
            return Ok((StatusCode::OK, total));
        }
    }
}

/// Swift: only a full page may have more after it; its last name is the next marker.
fn swift_next(text: &str, page: u64) -> Option<String> {
    let names: Vec<&str> = text.lines().collect();
    (names.len() as u64 == page).then(|| names.last().map(|n| n.to_string())).flatten()
}

/// S3: the continuation token of a page that says it is truncated.
fn s3_next(xml: &str) -> Result<Option<String>> {
    if element(xml, "IsTruncated") != Some("true") {
        return Ok(None);
    }
    match element(xml, "NextContinuationToken") {
        Some(token) if !token.is_empty() => Ok(Some(token.to_string())),
        _ => bail!("truncated ListObjectsV2 page without a NextContinuationToken"),
    }
}

/// The text of the first `<name>` element (tokens and flags carry no XML escapes).
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_pages() {
        let truncated =
            "<ListBucketResult><KeyCount>2</KeyCount><NextContinuationToken>b2JqLTI</NextContinuationToken>\
                         <IsTruncated>true</IsTruncated><Contents><Key>a</Key></Contents></ListBucketResult>";
        assert_eq!(s3_next(truncated).unwrap().as_deref(), Some("b2JqLTI"));
        let last = "<ListBucketResult><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>";
        assert_eq!(s3_next(last).unwrap(), None);
        assert!(s3_next("<IsTruncated>true</IsTruncated>").is_err());
    }

    #[test]
    fn swift_pages() {
        assert_eq!(swift_next("a\nb\n", 2).as_deref(), Some("b"));
        assert_eq!(swift_next("a\n", 2), None);
        assert_eq!(swift_next("", 2), None);
    }
}
