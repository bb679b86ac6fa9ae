//! Whole-request checks of [`super::verify`]: what a signature covers, and what a client
//! may not add to a request someone else signed.

use super::*;
use http::HeaderValue;

const NOW: u64 = 1_369_353_600; // 20130524T000000Z
const DATE: &str = "20130524T000000Z";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn users() -> Vec<UserConfig> {
    vec![UserConfig { account: "test".into(), user: "tester".into(), key: "testing".into(), groups: vec![] }]
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    h
}

fn check(method: &Method, uri: &str, h: &HeaderMap) -> Result<Verified> {
    let uri: Uri = uri.parse().unwrap();
    verify(&users(), &SignedRequest { method, uri: &uri, headers: h, host_bucket: None, now: NOW })
}

/// Signs `h` (header auth) over `signed`, as a client would before sending it.
fn sign_header(method: &Method, path: &str, h: &mut HeaderMap, signed: &[&str]) {
    let signed: Vec<String> = signed.iter().map(|s| s.to_string()).collect();
    let key = v4::signing_key("testing", SCOPE);
    let payload = get(h, "x-amz-content-sha256").unwrap_or(EMPTY_SHA256).to_string();
    let creq = v4::canonical_request(method.as_str(), path, "", h, &signed, &payload);
    let sig = v4::signature(&key, &v4::string_to_sign(DATE, SCOPE, &creq));
    let auth =
        format!("AWS4-HMAC-SHA256 Credential=test:tester/{SCOPE}, SignedHeaders={}, Signature={sig}", signed.join(";"));
    h.insert(http::header::AUTHORIZATION, HeaderValue::from_str(&auth).unwrap());
}

/// A presigned URL for `path` signing only `host`, as SDKs make them.
fn presign(method: &Method, path: &str, h: &HeaderMap) -> String {
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%3Atester%2F{}&X-Amz-Date={DATE}&X-Amz-Expires=300&X-Amz-SignedHeaders=host",
        SCOPE.replace('/', "%2F")
    );
    let key = v4::signing_key("testing", SCOPE);
    let creq = v4::canonical_request(
        method.as_str(),
        path,
        &v4::canonical_query(Some(&query)),
        h,
        &["host".to_string()],
        v4::UNSIGNED_PAYLOAD,
    );
    let sig = v4::signature(&key, &v4::string_to_sign(DATE, SCOPE, &creq));
    format!("{path}?{query}&X-Amz-Signature={sig}")
}

fn refused_as_unsigned(r: Result<Verified>, header: &str) {
    let e = r.expect_err("an unsigned x-amz-* header must be refused");
    assert_eq!(e.code(), "AccessDenied", "{e:?}");
    assert_eq!(e.to_string(), "There were headers present in the request which were not signed");
    assert!(matches!(&e, S3Error::HeadersNotSigned(names) if names.contains(header)), "{e:?}");
}

#[test]
fn header_auth_refuses_x_amz_headers_outside_signed_headers() {
    let put = Method::PUT;
    let base = [("host", "s3.example"), ("x-amz-date", DATE), ("x-amz-content-sha256", EMPTY_SHA256)];
    let mut h = headers(&base);
    sign_header(&put, "/uploads/dropped", &mut h, &["host", "x-amz-content-sha256", "x-amz-date"]);
    assert!(check(&put, "/uploads/dropped", &h).is_ok());
    // Added after signing: the signature still matches, the header is not covered by it.
    h.insert("x-amz-copy-source", HeaderValue::from_static("/private/secret"));
    refused_as_unsigned(check(&put, "/uploads/dropped", &h), "x-amz-copy-source");
    // Signed, the same header is fine.
    let mut h = headers(&base);
    h.insert("x-amz-copy-source", HeaderValue::from_static("/private/secret"));
    sign_header(&put, "/uploads/dropped", &mut h, &["host", "x-amz-content-sha256", "x-amz-copy-source", "x-amz-date"]);
    assert!(check(&put, "/uploads/dropped", &h).is_ok());
    // x-amz-content-sha256 is the payload hash the signature covers anyway: it may stay unlisted.
    let mut h = headers(&base);
    sign_header(&put, "/uploads/dropped", &mut h, &["host", "x-amz-date"]);
    assert!(check(&put, "/uploads/dropped", &h).is_ok());
    // An unsigned date is refused like any other x-amz-* header.
    let mut h = headers(&base);
    sign_header(&put, "/uploads/dropped", &mut h, &["host", "x-amz-content-sha256"]);
    refused_as_unsigned(check(&put, "/uploads/dropped", &h), "x-amz-date");
}

#[test]
fn presigned_urls_refuse_x_amz_headers_they_did_not_sign() {
    let put = Method::PUT;
    let plain = headers(&[("host", "s3.example")]);
    let url = presign(&put, "/uploads/dropped", &plain);
    assert!(check(&put, &url, &plain).is_ok());
    for (name, value) in
        [("x-amz-copy-source", "/private/secret"), ("x-amz-meta-evil", "1"), ("x-amz-acl", "public-read")]
    {
        let h = headers(&[("host", "s3.example"), (name, value)]);
        refused_as_unsigned(check(&put, &url, &h), name);
    }
    // A header that repeats a signed query parameter with the same value says nothing new.
    let h = headers(&[("host", "s3.example"), ("x-amz-date", DATE)]);
    assert!(check(&put, &url, &h).is_ok());
    let h = headers(&[("host", "s3.example"), ("x-amz-date", "20130524T000001Z")]);
    refused_as_unsigned(check(&put, &url, &h), "x-amz-date");
}

#[test]
fn sigv2_signs_every_x_amz_header_already() {
    let put = Method::PUT;
    let mut h = headers(&[("date", "Fri, 24 May 2013 00:00:00 GMT")]);
    let sts = v2::string_to_sign("PUT", &h, "Fri, 24 May 2013 00:00:00 GMT", "/uploads/dropped");
    let auth = format!("AWS test:tester:{}", v2::signature("testing", &sts));
    h.insert(http::header::AUTHORIZATION, HeaderValue::from_str(&auth).unwrap());
    assert!(check(&put, "/uploads/dropped", &h).is_ok());
    h.insert("x-amz-copy-source", HeaderValue::from_static("/private/secret"));
    assert!(matches!(check(&put, "/uploads/dropped", &h), Err(S3Error::SignatureDoesNotMatch)));
    // A value that is not text is still part of what must match.
    let mut h2 = h.clone();
    h2.remove("x-amz-copy-source");
    h2.insert("x-amz-copy-source", HeaderValue::from_bytes(b"/private/\xffsecret").unwrap());
    assert!(matches!(check(&put, "/uploads/dropped", &h2), Err(S3Error::SignatureDoesNotMatch)));
}
