//! Small HTTP and formatting helpers the three services share: JSON bodies, query strings,
//! ids and OpenStack's timestamp spelling.

use crate::error::{Result, ShimError};
use bytes::Bytes;
use common::http::{empty, full, Body};
use http::{HeaderMap, HeaderValue, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use rand::Rng;
use serde::de::DeserializeOwned;
use std::time::{Duration, UNIX_EPOCH};

/// Request bodies of the JSON APIs are small; anything bigger is refused.
pub const MAX_JSON_BODY: usize = 1 << 20;

pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let text = value.to_string();
    let len = text.len();
    let mut resp = Response::new(full(text));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

pub fn status_only(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(empty());
    *resp.status_mut() = status;
    if status != StatusCode::NO_CONTENT {
        resp.headers_mut().insert(http::header::CONTENT_LENGTH, HeaderValue::from(0));
    }
    resp
}

/// Reads a whole (small) body, refusing more than `limit` bytes.
pub async fn read_body<B>(body: B, limit: usize) -> Result<Bytes>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ShimError::TooLarge(format!("Request body larger than {limit} bytes")))
        }
        Err(e) => Err(ShimError::BadRequest(format!("Could not read the request body: {e}"))),
    }
}

pub async fn read_json<T, B>(body: B) -> Result<T>
where
    T: DeserializeOwned,
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let bytes = read_body(body, MAX_JSON_BODY).await?;
    serde_json::from_slice(&bytes).map_err(|e| ShimError::BadRequest(format!("Malformed request body: {e}")))
}

/// The decoded query string, in order.
pub fn query(uri: &Uri) -> Vec<(String, String)> {
    uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

pub fn query_get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A random (version 4) UUID, dashed: image and server ids.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::thread_rng().gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// A random 32-hex-digit id: Keystone's user, project and role ids.
pub fn new_hex_id() -> String {
    hex::encode(rand::thread_rng().gen::<[u8; 16]>())
}

/// `2024-05-01T12:00:00Z` (Glance and Nova).
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// `2024-05-01T12:00:00.000000Z` (Keystone).
pub fn rfc3339_micro(secs: u64) -> String {
    swiftlet_token::iso_time::format(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_micro(1_700_000_000), "2023-11-14T22:13:20.000000Z");
    }

    #[test]
    fn ids() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uuid());
        assert_eq!(new_hex_id().len(), 32);
        let q = query(&"/x?a=1&b=two%20words".parse().unwrap());
        assert_eq!(query_get(&q, "b"), Some("two words"));
    }
}
