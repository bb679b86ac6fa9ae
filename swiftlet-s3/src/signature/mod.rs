//! Request authentication, before any dispatch: SigV4 (header or presigned query) and
//! SigV2 (header or presigned query). The secret of access key `<account>:<user>` is that
//! tempauth user's key. Handlers only ever see verified requests; what the signature says
//! about the body is checked while the body streams ([`payload`], [`streaming`]).

pub mod failure;
pub mod payload;
pub mod streaming;
pub(crate) mod unsigned;
pub mod v2;
pub mod v4;
#[cfg(test)]
mod verify_tests;

use super::error::{Result, S3Error};
use super::router::Query;
use common::headers::get;
pub use failure::BodyFailure;
use http::{HeaderMap, Method, Uri};
use swiftlet_proxy::constant_time_eq;
use swiftlet_proxy::UserConfig;

/// How far a request's clock may be from ours (S3's 15 minutes).
pub const MAX_SKEW_SECS: u64 = 15 * 60;

/// The tempauth user an access key names.
#[derive(Debug, Clone)]
pub struct S3User {
    pub account: String,
    pub user: String,
    pub groups: Vec<String>,
}

impl S3User {
    /// Who an unsigned request is: no account, no user.
    pub fn anonymous() -> S3User {
        S3User { account: String::new(), user: String::new(), groups: Vec::new() }
    }

    pub fn is_anonymous(&self) -> bool {
        self.account.is_empty()
    }

    pub fn access_key(&self) -> String {
        if self.is_anonymous() {
            return "anonymous".to_string();
        }
        format!("{}:{}", self.account, self.user)
    }
}

/// What the signature promises about the body.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Nothing beyond Content-MD5 (UNSIGNED-PAYLOAD, SigV2, presigned, anonymous).
    Unsigned,
    /// The body's SHA-256, checked before its last byte reaches storage.
    Sha256([u8; 32]),
    /// An aws-chunked body: its chunks carry chained signatures (unless `signer` is
    /// `None`, STREAMING-UNSIGNED-PAYLOAD-TRAILER); with `trailer`, a checksum follows them.
    Chunked { signer: Option<streaming::ChunkSigner>, trailer: bool },
}

#[derive(Debug, Clone)]
pub struct Verified {
    pub user: Option<S3User>,
    pub payload: Payload,
}

/// The parts of a request the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    /// The bucket named by the Host header (virtual-hosted style), for SigV2's resource.
    pub host_bucket: Option<&'a str>,
    pub now: u64,
}

/// Authenticates a request: `Ok` with no user for an anonymous one.
pub fn verify(users: &[UserConfig], req: &SignedRequest<'_>) -> Result<Verified> {
    if let Some(auth) = req.headers.get(http::header::AUTHORIZATION) {
        let auth = auth.to_str().map_err(|_| S3Error::AccessDenied)?;
        if let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") {
            return verify_v4_header(users, req, rest);
        }
        if let Some(rest) = auth.strip_prefix("AWS ") {
            return verify_v2(users, req, Some(rest));
        }
        return Err(S3Error::InvalidArgument("Unsupported Authorization Type".into()));
    }
    let q = Query::parse(req.uri.query());
    if q.has("X-Amz-Algorithm") || q.has("X-Amz-Credential") {
        return verify_v4_query(users, req, &q);
    }
    if q.has("AWSAccessKeyId") || q.has("Signature") {
        return verify_v2(users, req, None);
    }
    Ok(Verified { user: None, payload: Payload::Unsigned })
}

/// The user and secret of an access key.
pub(crate) fn lookup<'a>(users: &'a [UserConfig], access_key: &str) -> Result<&'a UserConfig> {
    let (account, user) = access_key.split_once(':').ok_or(S3Error::InvalidAccessKeyId)?;
    users.iter().find(|u| u.account == account && u.user == user).ok_or(S3Error::InvalidAccessKeyId)
}

pub(crate) fn s3_user(u: &UserConfig) -> S3User {
    S3User { account: u.account.clone(), user: u.user.clone(), groups: u.groups.clone() }
}

fn check_signature(expected: &str, given: &str) -> Result<()> {
    if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(S3Error::SignatureDoesNotMatch)
    }
}

fn check_skew(when: u64, now: u64) -> Result<()> {
    if when.abs_diff(now) > MAX_SKEW_SECS {
        Err(S3Error::RequestTimeTooSkewed)
    } else {
        Ok(())
    }
}

/// The time a SigV4 request was signed: `X-Amz-Date`, else `Date` (as text and seconds).
fn v4_date(h: &HeaderMap) -> Result<(String, u64)> {
    if let Some(d) = get(h, "x-amz-date") {
        let secs = parse_amz_date(d).ok_or(S3Error::AccessDenied)?;
        return Ok((d.to_string(), secs));
    }
    let secs = get(h, "date").and_then(parse_http_date).ok_or(S3Error::AccessDenied)?;
    Ok((format_amz_date(secs), secs))
}

fn payload_of(h: &HeaderMap, key: &[u8; 32], amz_date: &str, p: &v4::V4Params) -> Result<Payload> {
    let v = get(h, "x-amz-content-sha256").ok_or_else(|| {
        S3Error::InvalidRequest("Missing required header for this request: x-amz-content-sha256".into())
    })?;
    match v {
        v4::UNSIGNED_PAYLOAD => Ok(Payload::Unsigned),
        v4::STREAMING_PAYLOAD | v4::STREAMING_PAYLOAD_TRAILER => {
            let signer = streaming::ChunkSigner::new(*key, amz_date.to_string(), p.scope.clone(), p.signature.clone());
            Ok(Payload::Chunked { signer: Some(signer), trailer: v == v4::STREAMING_PAYLOAD_TRAILER })
        }
        v => unsigned_payload_of(v),
    }
}

/// What `x-amz-content-sha256` promises when no SigV4 key signs the body (SigV2,
/// anonymous): a SHA-256 is still checked, an unsigned aws-chunked body still decoded.
pub(crate) fn unsigned_payload_of(v: &str) -> Result<Payload> {
    match v {
        v4::UNSIGNED_PAYLOAD => Ok(Payload::Unsigned),
        v4::STREAMING_UNSIGNED_TRAILER => Ok(Payload::Chunked { signer: None, trailer: true }),
        v if v.starts_with("STREAMING-") => Err(S3Error::NotImplemented(format!("x-amz-content-sha256: {v}"))),
        v => {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(v, &mut hash).map_err(|_| S3Error::InvalidContentSha256(v.to_string()))?;
            Ok(Payload::Sha256(hash))
        }
    }
}

/// Checks the signature over each canonical form of the path the client may have used.
fn check_v4(
    secret: &str,
    req: &SignedRequest<'_>,
    p: &v4::V4Params,
    amz_date: &str,
    payload_hash: &str,
) -> Result<[u8; 32]> {
    let key = v4::signing_key(secret, &p.scope);
    let query = v4::canonical_query(req.uri.query());
    for uri in v4::canonical_uris(req.uri.path()) {
        let creq =
            v4::canonical_request(req.method.as_str(), &uri, &query, req.headers, &p.signed_headers, payload_hash);
        let expected = v4::signature(&key, &v4::string_to_sign(amz_date, &p.scope, &creq));
        if check_signature(&expected, &p.signature).is_ok() {
            return Ok(key);
        }
    }
    Err(S3Error::SignatureDoesNotMatch)
}

fn verify_v4_header(users: &[UserConfig], req: &SignedRequest<'_>, rest: &str) -> Result<Verified> {
    let p = v4::parse_header(rest)?;
    let (amz_date, when) = v4_date(req.headers)?;
    if !amz_date.starts_with(&p.scope_date) {
        return Err(S3Error::AuthorizationHeaderMalformed(
            "the credential date does not match the request date".into(),
        ));
    }
    check_skew(when, req.now)?;
    let user = lookup(users, &p.access_key)?;
    let payload_hash = get(req.headers, "x-amz-content-sha256").ok_or_else(|| {
        S3Error::InvalidRequest("Missing required header for this request: x-amz-content-sha256".into())
    })?;
    let key = check_v4(&user.key, req, &p, &amz_date, payload_hash)?;
    unsigned::check_header_auth(req.headers, &p.signed_headers)?;
    let payload = payload_of(req.headers, &key, &amz_date, &p)?;
    Ok(Verified { user: Some(s3_user(user)), payload })
}

fn verify_v4_query(users: &[UserConfig], req: &SignedRequest<'_>, q: &Query) -> Result<Verified> {
    let get = |k: &str| q.get(k).map(str::to_string);
    let p = v4::parse_query(get)?;
    let bad = |why: &str| S3Error::AuthorizationQueryParametersError(why.to_string());
    let amz_date = q.get("X-Amz-Date").ok_or_else(|| bad("X-Amz-Date is missing"))?;
    let when = parse_amz_date(amz_date).ok_or_else(|| bad("X-Amz-Date is malformed"))?;
    let expires: u64 = q
        .get("X-Amz-Expires")
        .and_then(|e| e.parse().ok())
        .filter(|e| (1..=v4::MAX_PRESIGNED_EXPIRES).contains(e))
        .ok_or_else(|| bad("X-Amz-Expires must be an integer between 1 and 604800"))?;
    if !amz_date.starts_with(&p.scope_date) {
        return Err(bad("the credential date does not match X-Amz-Date"));
    }
    if when > req.now + MAX_SKEW_SECS {
        return Err(S3Error::RequestTimeTooSkewed);
    }
    if req.now > when + expires {
        return Err(S3Error::ExpiredPresignedRequest);
    }
    let user = lookup(users, &p.access_key)?;
    let payload_hash = common::headers::get(req.headers, "x-amz-content-sha256").unwrap_or(v4::UNSIGNED_PAYLOAD);
    let key = check_v4(&user.key, req, &p, amz_date, payload_hash)?;
    unsigned::check_presigned(req.headers, &p.signed_headers, q)?;
    let payload = match payload_hash {
        v4::UNSIGNED_PAYLOAD => Payload::Unsigned,
        _ => payload_of(req.headers, &key, amz_date, &p)?,
    };
    Ok(Verified { user: Some(s3_user(user)), payload })
}

/// SigV2: `header` is the part after `AWS ` of the Authorization header, or `None` for
/// the presigned query form.
fn verify_v2(users: &[UserConfig], req: &SignedRequest<'_>, auth: Option<&str>) -> Result<Verified> {
    let q = Query::parse(req.uri.query());
    let (access_key, given, date_line) = match auth {
        Some(rest) => {
            let (key, sig) = v2::parse_header(rest).ok_or(S3Error::AccessDenied)?;
            let when = get(req.headers, "x-amz-date")
                .or_else(|| get(req.headers, "date"))
                .and_then(parse_http_date)
                .ok_or(S3Error::AccessDenied)?;
            check_skew(when, req.now)?;
            // With X-Amz-Date the Date line is empty: the date is signed among the amz headers.
            let date = if req.headers.contains_key("x-amz-date") { "" } else { get(req.headers, "date").unwrap_or("") };
            (key, sig, date.to_string())
        }
        None => {
            let (Some(key), Some(sig), Some(expires)) = (q.get("AWSAccessKeyId"), q.get("Signature"), q.get("Expires"))
            else {
                return Err(S3Error::AccessDenied);
            };
            let exp: u64 = expires.parse().map_err(|_| S3Error::AccessDenied)?;
            if req.now > exp {
                return Err(S3Error::ExpiredPresignedRequest);
            }
            (key.to_string(), sig.to_string(), expires.to_string())
        }
    };
    let user = lookup(users, &access_key)?;
    // A bucket-only path is signed as `/bucket/` by some clients and `/bucket` by others.
    let path = req.uri.path();
    let mut paths = vec![path.to_string()];
    if req.host_bucket.is_none() && path.len() > 1 && !path[1..].contains('/') {
        paths.push(format!("{path}/"));
    }
    for path in paths {
        let resource = v2::canonical_resource(req.host_bucket, &path, req.uri.query());
        let sts = v2::string_to_sign(req.method.as_str(), req.headers, &date_line, &resource);
        if check_signature(&v2::signature(&user.key, &sts), &given).is_ok() {
            return Ok(Verified { user: Some(s3_user(user)), payload: Payload::Unsigned });
        }
    }
    Err(S3Error::SignatureDoesNotMatch)
}

/// An HTTP date in seconds; also the `+0000` zone some clients write instead of `GMT`.
pub fn parse_http_date(d: &str) -> Option<u64> {
    let d = d.trim();
    let fixed = match d.strip_suffix("+0000") {
        Some(rest) => format!("{}GMT", rest),
        None => d.to_string(),
    };
    let t = httpdate::parse_http_date(&fixed).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
}

/// `20130524T000000Z` to seconds since the epoch.
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 || y < 1970 {
        return None;
    }
    Some(days_from_civil(y as i64, mo as i64, d as i64) as u64 * 86_400 + h * 3600 + mi * 60 + se)
}

pub fn format_amz_date(secs: u64) -> String {
    let (y, m, d) = common::timestamp::civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", t / 3600, t % 3600 / 60, t % 60)
}

/// ISO 8601 with milliseconds, as S3 writes `LastModified` and `CreationDate`.
pub fn format_iso8601(secs: u64, millis: u32) -> String {
    let (y, m, d) = common::timestamp::civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", t / 3600, t % 3600 / 60, t % 60)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_amz_date("20130524T000000Z"), Some(1_369_353_600));
        assert_eq!(format_amz_date(1_369_353_600), "20130524T000000Z");
        assert_eq!(format_iso8601(1_700_000_000, 5), "2023-11-14T22:13:20.005Z");
        assert_eq!(parse_http_date("Fri, 24 May 2013 00:00:00 +0000"), Some(1_369_353_600));
        assert_eq!(parse_http_date("Fri, 24 May 2013 00:00:00 GMT"), Some(1_369_353_600));
        for bad in ["2013-05-24", "20131324T000000Z", "20130524T250000Z", "20130524T000000"] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}
