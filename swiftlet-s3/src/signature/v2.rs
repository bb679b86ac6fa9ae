//! AWS Signature Version 2 (HMAC-SHA1), still spoken by old clients: the
//! `Authorization: AWS key:signature` header and the `AWSAccessKeyId`/`Signature`/`Expires`
//! presigned query.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use sha1::Sha1;

/// Query parameters that are part of the signed resource.
const SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// `key:signature` after `AWS `; the key itself contains a colon (`account:user`).
pub fn parse_header(rest: &str) -> Option<(String, String)> {
    let (key, sig) = rest.trim().rsplit_once(':')?;
    (!key.is_empty() && !sig.is_empty()).then(|| (key.to_string(), sig.to_string()))
}

/// `/bucket` (virtual-hosted requests) + the path as sent + the signed subresources.
pub fn canonical_resource(host_bucket: Option<&str>, raw_path: &str, raw_query: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(b) = host_bucket {
        out.push('/');
        out.push_str(b);
    }
    out.push_str(if raw_path.is_empty() { "/" } else { raw_path });
    let mut subs: Vec<(String, Option<String>)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter_map(|p| {
            let (k, v) = match p.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (p, None),
            };
            let k = percent_decode_str(k).decode_utf8_lossy().into_owned();
            SUBRESOURCES
                .contains(&k.as_str())
                .then(|| (k, v.map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned())))
        })
        .collect();
    subs.sort();
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// The string to sign; `date` is the Date header, or `Expires` for a presigned URL.
pub fn string_to_sign(method: &str, headers: &HeaderMap, date: &str, resource: &str) -> String {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_string();
    let mut amz: Vec<(String, String)> = Vec::new();
    for name in headers.keys().filter(|n| n.as_str().starts_with("x-amz-")) {
        let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::trim).collect();
        amz.push((name.as_str().to_string(), values.join(",")));
    }
    amz.sort();
    let mut s = format!("{method}\n{}\n{}\n{date}\n", get("content-md5"), get("content-type"));
    for (k, v) in amz {
        s.push_str(&format!("{k}:{v}\n"));
    }
    s.push_str(resource);
    s
}

pub fn signature(secret: &str, string_to_sign: &str) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// The GET example of the S3 SigV2 documentation.
    #[test]
    fn documented_example() {
        let mut h = HeaderMap::new();
        h.insert("date", HeaderValue::from_static("Tue, 27 Mar 2007 19:36:42 +0000"));
        let res = canonical_resource(Some("awsexamplebucket1"), "/photos/puppy.jpg", None);
        assert_eq!(res, "/awsexamplebucket1/photos/puppy.jpg");
        let sts = string_to_sign("GET", &h, "Tue, 27 Mar 2007 19:36:42 +0000", &res);
        assert_eq!(signature("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &sts), "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    }

    #[test]
    fn subresources_sorted_and_others_dropped() {
        assert_eq!(
            canonical_resource(None, "/b/k", Some("uploadId=x&partNumber=2&foo=bar")),
            "/b/k?partNumber=2&uploadId=x"
        );
        assert_eq!(canonical_resource(None, "/b", Some("acl")), "/b?acl");
        assert_eq!(parse_header("test:tester:abc="), Some(("test:tester".into(), "abc=".into())));
        assert_eq!(parse_header("nocolon"), None);
    }
}
