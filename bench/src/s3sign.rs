//! SigV4 request signing for the S3 load, built on the S3 frontend's own SigV4 functions, so the
//! client and the server agree by construction (the proxy's unit tests check those against
//! the AWS documentation's examples).

use http::{HeaderMap, HeaderValue, Method};
use swiftlet_s3::signature::{format_amz_date, v4};

pub use v4::UNSIGNED_PAYLOAD;

/// SHA-256 of an empty body: the signed payload hash of GET, HEAD and DELETE.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An S3 access key and secret (on Swiftlet: a tempauth `account:user` and its key).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

impl Credentials {
    /// Adds `x-amz-date`, `x-amz-content-sha256` and `authorization` to `headers`, which
    /// must already hold `host` (and `content-length` when there is a body). `path` and
    /// `query` are as sent on the wire (percent-encoded). The key is derived per request,
    /// as SDKs do, so the load pays what a real client pays.
    pub fn sign(&self, headers: &mut HeaderMap, method: &Method, path: &str, query: &str, payload_sha256: &str) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let date = format_amz_date(now);
        let scope = format!("{}/{}/s3/aws4_request", &date[..8], self.region);
        set(headers, "x-amz-date", &date);
        set(headers, "x-amz-content-sha256", payload_sha256);
        let mut signed: Vec<String> = ["host", "x-amz-content-sha256", "x-amz-date"].map(String::from).to_vec();
        if headers.contains_key("content-length") {
            signed.insert(0, "content-length".into());
        }
        let query = v4::canonical_query(Some(query));
        let creq = v4::canonical_request(method.as_str(), path, &query, headers, &signed, payload_sha256);
        let key = v4::signing_key(&self.secret_key, &scope);
        let signature = v4::signature(&key, &v4::string_to_sign(&date, &scope, &creq));
        let auth = format!(
            "{} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            v4::ALGORITHM,
            self.access_key,
            signed.join(";")
        );
        set(headers, "authorization", &auth);
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Percent-encodes a path or query value as SigV4 canonicalises it, so what is sent is
/// what is signed.
pub fn encode(s: &str, keep_slash: bool) -> String {
    v4::uri_encode(s.as_bytes(), keep_slash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swiftlet_proxy::UserConfig;
    use swiftlet_s3::signature::{verify, Payload, SignedRequest};

    /// The proxy's own check accepts what `sign` produces, query order notwithstanding.
    #[test]
    fn the_proxy_accepts_the_signature() {
        let creds =
            Credentials { access_key: "test:tester".into(), secret_key: "testing".into(), region: "us-east-1".into() };
        let users =
            [UserConfig { account: "test".into(), user: "tester".into(), key: "testing".into(), groups: vec![] }];
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        creds.sign(&mut h, &Method::GET, "/b", "max-keys=10&list-type=2", UNSIGNED_PAYLOAD);
        let uri: http::Uri = "/b?max-keys=10&list-type=2".parse().unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let req = SignedRequest { method: &Method::GET, uri: &uri, headers: &h, host_bucket: None, now };
        let verified = verify(&users, &req).expect("signature accepted");
        assert_eq!(verified.user.unwrap().access_key(), "test:tester");
        assert!(matches!(verified.payload, Payload::Unsigned));
        let wrong = [UserConfig { key: "other".into(), ..users[0].clone() }];
        assert!(verify(&wrong, &req).is_err());
    }
}
