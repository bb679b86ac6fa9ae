//! Which requests are S3's, and what their path and host name: a bucket and a key.

use crate::error::{Result, S3Error};
use http::{HeaderMap, Uri};

/// Longest object name (Swift's limit, which S3's 1024 bytes matches).
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Whether a request is for the S3 API: it carries AWS credentials (header or presigned
/// query), or its path is not one of the Swift API's.
pub(crate) fn is_s3_request(headers: &HeaderMap, uri: &Uri) -> bool {
    let auth = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth.starts_with("AWS4-HMAC-SHA256 ") || auth.starts_with("AWS ") {
        return true;
    }
    let query = uri.query().unwrap_or("");
    if query.split('&').any(|p| {
        p.starts_with("X-Amz-Algorithm=") || p.starts_with("X-Amz-Credential=") || p.starts_with("AWSAccessKeyId=")
    }) {
        return true;
    }
    // A Swift token says Swift, whatever the path (`//v1/...` is then a bad Swift path).
    let swift_token = headers.contains_key("x-auth-token") || headers.contains_key("x-storage-token");
    !swift_token && !is_swift_path(uri.path())
}

fn is_swift_path(path: &str) -> bool {
    matches!(path, "/healthcheck" | "/info" | "/auth/v1.0" | "/v1.0" | "/auth/v1/auth" | "/v1")
        || path.starts_with("/v1/")
        || path.starts_with("/v1.0/")
}

/// The bucket of a virtual-hosted-style request: `<bucket>.localhost` or
/// `<bucket>.s3.<domain>` (an IP address or a bare host name names none).
pub(crate) fn host_bucket(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST)?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    if name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
        return None;
    }
    let name = name.to_ascii_lowercase();
    let bucket = name.strip_suffix(".localhost").or_else(|| name.rfind(".s3.").map(|i| &name[..i]))?;
    (!bucket.is_empty()).then(|| bucket.to_string())
}

/// Splits the path into bucket and key (decoded); the bucket comes from the host in
/// virtual-hosted style.
pub(crate) fn bucket_and_key(host_bucket: Option<String>, raw_path: &str) -> Result<(Option<String>, Option<String>)> {
    let path = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| S3Error::InvalidArgument("the request path is not valid UTF-8".into()))?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    let (bucket, key) = match host_bucket {
        Some(b) => (Some(b), Some(path.to_string())),
        None => match path.split_once('/') {
            Some((b, k)) => (Some(b.to_string()), Some(k.to_string())),
            None => (Some(path.to_string()), None),
        },
    };
    let bucket = bucket.filter(|b| !b.is_empty());
    let key = key.filter(|k| !k.is_empty());
    if let Some(b) = &bucket {
        crate::buckets::check_name_loosely(b)?;
    }
    if let Some(k) = &key {
        if k.len() > MAX_KEY_BYTES {
            return Err(S3Error::KeyTooLongError);
        }
        if k.contains('\0') {
            return Err(S3Error::InvalidArgument("object keys cannot contain NUL".into()));
        }
    }
    if bucket.is_none() && key.is_some() {
        return Err(S3Error::InvalidBucketName(String::new()));
    }
    Ok((bucket, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn host(h: &str) -> Option<String> {
        let mut m = HeaderMap::new();
        m.insert(http::header::HOST, HeaderValue::from_str(h).unwrap());
        host_bucket(&m)
    }

    #[test]
    fn virtual_hosts() {
        assert_eq!(host("127.0.0.1:8080"), None);
        assert_eq!(host("localhost:8080"), None);
        assert_eq!(host("[::1]:8080"), None);
        assert_eq!(host("photos.localhost:8080").as_deref(), Some("photos"));
        assert_eq!(host("my.bucket.s3.example.com").as_deref(), Some("my.bucket"));
        assert_eq!(host("s3.example.com"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(bucket_and_key(None, "/").unwrap(), (None, None));
        assert_eq!(bucket_and_key(None, "/b").unwrap(), (Some("b".into()), None));
        assert_eq!(bucket_and_key(None, "/b/").unwrap(), (Some("b".into()), None));
        assert_eq!(bucket_and_key(None, "/b/a%20b/c").unwrap(), (Some("b".into()), Some("a b/c".into())));
        assert_eq!(bucket_and_key(Some("vb".into()), "/k/x").unwrap(), (Some("vb".into()), Some("k/x".into())));
        assert!(matches!(bucket_and_key(None, &format!("/b/{}", "k".repeat(1025))), Err(S3Error::KeyTooLongError)));
        assert!(bucket_and_key(None, "/b/%FF").is_err());
        assert!(swift_paths_stay_swift());
    }

    fn swift_paths_stay_swift() -> bool {
        let is_s3_request = |p: &str| super::is_s3_request(&HeaderMap::new(), &p.parse().unwrap());
        !is_s3_request("/v1/AUTH_test/c/o")
            && !is_s3_request("/auth/v1.0")
            && !is_s3_request("/info")
            && is_s3_request("/bucket/key")
            && is_s3_request("/")
            && is_s3_request("/v1/AUTH_x?X-Amz-Algorithm=AWS4-HMAC-SHA256")
    }
}
