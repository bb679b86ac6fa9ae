//! AWS Signature Version 4: the canonical request, the string to sign and the signing key,
//! for the `Authorization` header and for presigned URLs.

use crate::error::{Result, S3Error};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// The longest a presigned URL may live (7 days), as S3.
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// What an `Authorization: AWS4-HMAC-SHA256 ...` header or `X-Amz-*` query carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Params {
    pub access_key: String,
    /// `YYYYMMDD/region/service/aws4_request`.
    pub scope: String,
    pub scope_date: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `Credential=AK/20130524/us-east-1/s3/aws4_request` into key and scope.
pub(crate) fn parse_credential(cred: &str) -> Option<(String, String, String)> {
    let mut parts: Vec<&str> = cred.rsplitn(5, '/').collect();
    if parts.len() != 5 {
        return None;
    }
    parts.reverse();
    let (key, date, region, service, term) = (parts[0], parts[1], parts[2], parts[3], parts[4]);
    if key.is_empty() || date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) || region.is_empty() {
        return None;
    }
    if service != "s3" || term != "aws4_request" {
        return None;
    }
    Some((key.to_string(), format!("{date}/{region}/{service}/{term}"), date.to_string()))
}

fn parse_signed_headers(v: &str) -> Option<Vec<String>> {
    let list: Vec<String> = v.split(';').map(|h| h.trim().to_ascii_lowercase()).collect();
    if list.iter().any(|h| h.is_empty()) || !list.iter().any(|h| h == "host") {
        return None;
    }
    Some(list)
}

fn is_hex_signature(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The part of the header after `AWS4-HMAC-SHA256 `.
pub fn parse_header(rest: &str) -> Result<V4Params> {
    let malformed = |why: &str| S3Error::AuthorizationHeaderMalformed(why.to_string());
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for field in rest.split(',') {
        let (k, v) = field.trim().split_once('=').ok_or_else(|| malformed("expected key=value fields"))?;
        match k {
            "Credential" => cred = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => return Err(malformed("unknown field")),
        }
    }
    let (access_key, scope, scope_date) =
        cred.and_then(parse_credential).ok_or_else(|| malformed("the Credential is missing or malformed"))?;
    let signed_headers =
        signed.and_then(parse_signed_headers).ok_or_else(|| malformed("SignedHeaders is missing or lacks host"))?;
    let signature =
        sig.filter(|s| is_hex_signature(s)).ok_or_else(|| malformed("the Signature is missing or malformed"))?;
    Ok(V4Params { access_key, scope, scope_date, signed_headers, signature: signature.to_ascii_lowercase() })
}

/// The presigned form: `X-Amz-Credential`, `X-Amz-SignedHeaders`, `X-Amz-Signature`.
pub fn parse_query(get: impl Fn(&str) -> Option<String>) -> Result<V4Params> {
    let bad = |why: &str| S3Error::AuthorizationQueryParametersError(why.to_string());
    if get("X-Amz-Algorithm").as_deref() != Some(ALGORITHM) {
        return Err(bad("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""));
    }
    let (access_key, scope, scope_date) = get("X-Amz-Credential")
        .as_deref()
        .and_then(parse_credential)
        .ok_or_else(|| bad("X-Amz-Credential is missing or malformed"))?;
    let signed_headers = get("X-Amz-SignedHeaders")
        .as_deref()
        .and_then(parse_signed_headers)
        .ok_or_else(|| bad("X-Amz-SignedHeaders is missing or lacks host"))?;
    let signature = get("X-Amz-Signature")
        .filter(|s| is_hex_signature(s))
        .ok_or_else(|| bad("X-Amz-Signature is missing or malformed"))?;
    Ok(V4Params { access_key, scope, scope_date, signed_headers, signature: signature.to_ascii_lowercase() })
}

/// RFC 3986 encoding as AWS specifies: unreserved characters stay, the rest is `%XX`
/// (upper case); `/` stays in paths only.
pub fn uri_encode(s: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query's pairs decoded (`+` is a literal plus), re-encoded and sorted, without
/// `X-Amz-Signature`.
pub fn canonical_query(raw: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| percent_decode_str(s).collect::<Vec<u8>>();
            (uri_encode(&dec(k), false), uri_encode(&dec(v), false))
        })
        .filter(|(k, _)| k != "X-Amz-Signature")
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The canonical path candidates: as sent, and re-encoded from its decoded form (clients
/// differ in which characters they escape).
pub fn canonical_uris(raw_path: &str) -> Vec<String> {
    let path = if raw_path.is_empty() { "/" } else { raw_path };
    let decoded: Vec<u8> = percent_decode_str(path).collect();
    let reencoded = uri_encode(&decoded, true);
    if reencoded == path {
        vec![path.to_string()]
    } else {
        vec![path.to_string(), reencoded]
    }
}

/// `name:value` lines of the signed headers (values trimmed, inner spaces folded, repeats
/// joined with commas).
pub fn canonical_headers(headers: &HeaderMap, signed: &[String]) -> String {
    let mut out = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

pub fn canonical_request(
    method: &str,
    uri: &str,
    query: &str,
    headers: &HeaderMap,
    signed: &[String],
    payload_hash: &str,
) -> String {
    format!("{method}\n{uri}\n{query}\n{}\n{}\n{payload_hash}", canonical_headers(headers, signed), signed.join(";"))
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())))
}

pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The key derived from the secret for one day, region and service.
pub fn signing_key(secret: &str, scope: &str) -> [u8; 32] {
    let mut parts = scope.split('/');
    let date = parts.next().unwrap_or("");
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in parts {
        key = hmac(&key, part.as_bytes());
    }
    key
}

pub fn signature(key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(key, string_to_sign.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// The GET Object example of the S3 SigV4 documentation.
    #[test]
    fn documented_get_object_example() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("examplebucket.s3.amazonaws.com"));
        h.insert("range", HeaderValue::from_static("bytes=0-9"));
        h.insert(
            "x-amz-content-sha256",
            HeaderValue::from_static("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        );
        h.insert("x-amz-date", HeaderValue::from_static("20130524T000000Z"));
        let auth = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
        let p = parse_header(auth).unwrap();
        assert_eq!(p.access_key, "AKIAIOSFODNN7EXAMPLE");
        let creq = canonical_request(
            "GET",
            "/test.txt",
            &canonical_query(None),
            &h,
            &p.signed_headers,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        );
        let sts = string_to_sign("20130524T000000Z", &p.scope, &creq);
        assert_eq!(signature(&signing_key(secret, &p.scope), &sts), p.signature);
    }

    #[test]
    fn query_canonicalisation() {
        assert_eq!(canonical_query(Some("prefix=a%20b&acl&max-keys=2")), "acl=&max-keys=2&prefix=a%20b");
        assert_eq!(canonical_query(Some("X-Amz-Signature=abc&b=1")), "b=1");
        assert_eq!(canonical_query(Some("k=a+b")), "k=a%2Bb");
        assert_eq!(canonical_uris("/b/a b"), vec!["/b/a b".to_string(), "/b/a%20b".to_string()]);
    }

    #[test]
    fn malformed_headers() {
        assert!(parse_header("Credential=x, SignedHeaders=host, Signature=00").is_err());
        assert!(
            parse_header("Credential=a:b/20130524/us-east-1/s3/aws4_request,SignedHeaders=date,Signature=00").is_err()
        );
        let ok = format!(
            "Credential=test:tester/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
            "a".repeat(64)
        );
        assert_eq!(parse_header(&ok).unwrap().access_key, "test:tester");
    }
}
