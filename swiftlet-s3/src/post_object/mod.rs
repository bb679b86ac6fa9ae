//! Browser uploads (POST Object): `POST /<bucket>` with a `multipart/form-data` body
//! whose fields carry the key, metadata and, when signed, a base64 policy document and
//! its signature; the file part streams to storage as a Swift PUT. A form without a
//! policy is anonymous: it may write only where the bucket lets everyone write.

pub(crate) mod auth;
pub(crate) mod conditions;
pub(crate) mod form;
pub(crate) mod success;

use crate::access::{self, Caller, Grant};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::headers::{object_put_headers, s3_etag, CANNED_ACLS, PLAIN_HEADERS};
use crate::policy::Action;
use crate::router::Query;
use crate::signature::{BodyFailure, S3User};
use crate::swift::{error_for, read_small, Swift};
use auth::field;
use base64::Engine;
use common::constraints::MAX_FILE_SIZE;
use common::headers::{get, set};
use common::http::Body;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use std::net::IpAddr;
use swiftlet_proxy::context::Ctx;
use swiftlet_proxy::SwiftApi;

/// Room for the closing boundary and fields after the file, past the file and fields.
const FORM_SLACK: u64 = 16 * 1024;

/// Whether a request is a browser upload: a POST to a bucket (no key) with a form body.
pub(crate) fn is_form_upload(parts: &Parts, bucket: Option<&str>, key: Option<&str>) -> bool {
    let form = get(&parts.headers, "content-type")
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    parts.method == Method::POST
        && bucket.is_some()
        && key.is_none()
        && form
        && !Query::parse(parts.uri.query()).has("delete")
}

/// What the frontend learns about a served upload, for the CORS headers of the answer.
pub(crate) struct Placed {
    pub account: Option<String>,
}

/// Serves one browser upload to `bucket`.
pub(crate) async fn serve(
    api: &SwiftApi,
    parts: Parts,
    body: Body,
    ctx: Ctx,
    bucket: String,
    peer: Option<IpAddr>,
    placed: &mut Placed,
) -> Result<Response<Body>> {
    let content_type = get(&parts.headers, "content-type").unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        S3Error::MalformedPOSTRequest("The body of your POST request is not well-formed multipart/form-data.".into())
    })?;
    let announced = match get(&parts.headers, "content-length") {
        Some(v) => {
            Some(v.trim().parse::<u64>().map_err(|_| S3Error::InvalidArgument("invalid content-length".into()))?)
        }
        None => None,
    };
    let ceiling = |file_max: u64| file_max.saturating_add(form::MAX_PRE_DATA as u64 + FORM_SLACK);
    if announced.is_some_and(|len| len > ceiling(MAX_FILE_SIZE)) {
        return Err(S3Error::EntityTooLarge);
    }
    let f = form::read(body, boundary, crate::request_body::DEADLINES).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let key = object_key(&f.fields, &f.file.filename)?;
    let (user, (min, max)) = authenticate(api, &f.fields, &bucket, now)?;
    let max = max.min(MAX_FILE_SIZE);
    // The whole form is bounded by the file's allowed size: refuse a longer one at once.
    if announced.is_some_and(|len| len > ceiling(max).saturating_add(f.pre_data as u64)) {
        return Err(S3Error::EntityTooLarge);
    }
    if let Some(acl) = field(&f.fields, "acl").filter(|a| !CANNED_ACLS.contains(a)) {
        return Err(S3Error::InvalidArgument(format!("unknown canned ACL {acl}")));
    }
    let identity = user.as_ref().map(|u| api.identity(&u.account, &u.user, &u.groups));
    let own = identity.as_ref().map(|id| id.storage_account.clone());
    let caller = Caller { user: user.as_ref(), identity: identity.as_ref(), peer };
    let (account, grant) = match access::find_bucket(api, &ctx.trans_id, own.as_deref(), &bucket).await {
        Some(found) => {
            let grant = access::authorize(&found, &bucket, caller, Some((Action::PutObject, true)), Some(&key), false)?;
            (found.account, grant)
        }
        None => (own.ok_or(S3Error::AccessDenied)?, Grant::AsCaller),
    };
    placed.account = Some(account.clone());
    let mut headers = s3_headers(&f.fields, f.file.content_type.as_deref());
    let failure = BodyFailure::default();
    let file = f.file.into_body(min, max, crate::request_body::DEADLINES.idle, failure.clone());
    let scope = grant.scope(&account, &bucket);
    let s3 = S3Ctx {
        swift: Swift::acting(api, ctx, identity, account, scope),
        user: user.unwrap_or_else(S3User::anonymous),
        bucket: Some(bucket),
        key: Some(key),
        method: Method::PUT,
        headers: headers.clone(),
        query: Query::default(),
        body_len: None,
        failure,
        checksum: None,
        // A form upload has no write conditions, so it never takes a key lock.
        write_locks: Default::default(),
    };
    let mut swift_headers = object_put_headers(&headers)?;
    set(&mut swift_headers, "transfer-encoding", "chunked");
    let expiry = crate::lifecycle::apply(&s3, None, &mut swift_headers).await?;
    let replaced = crate::replaced::before_write(&s3, None).await;
    let resp = s3.swift.call(Method::PUT, Some(s3.bucket()), Some(s3.key()), &[], swift_headers, file).await;
    let status = resp.status();
    let stored = read_small(resp).await?;
    if status != StatusCode::CREATED {
        return Err(s3.failure.take().unwrap_or_else(|| error_for(status, &stored.body, S3Error::NoSuchBucket)));
    }
    crate::replaced::after_write(&s3, replaced).await;
    headers.clear();
    let etag = s3_etag(&stored.headers).unwrap_or_default();
    let mut out = success::answer(&f.fields, s3.bucket(), s3.key(), &etag)?;
    set(out.headers_mut(), "etag", &etag);
    if let Some(e) = expiry {
        set(out.headers_mut(), "x-amz-expiration", &e.header);
    }
    Ok(out)
}

/// The signer (none for an unsigned form) and the file's allowed size range.
fn authenticate(api: &SwiftApi, fields: &auth::Fields, bucket: &str, now: u64) -> Result<(Option<S3User>, (u64, u64))> {
    let Some(policy_b64) = field(fields, "policy").filter(|p| !p.is_empty()) else {
        let signed = ["x-amz-signature", "signature", "awsaccesskeyid", "x-amz-credential"];
        if signed.iter().any(|n| field(fields, n).is_some()) {
            return Err(S3Error::InvalidArgument("Bucket POST must contain a field named 'policy'".into()));
        }
        return Ok((None, (0, MAX_FILE_SIZE)));
    };
    let doc = base64::engine::general_purpose::STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| S3Error::InvalidPolicyDocument("Invalid Policy: Invalid 'Policy' base64.".into()))?;
    let policy = conditions::parse(&doc).map_err(|e| S3Error::InvalidPolicyDocument(e.to_string()))?;
    let user = auth::signer(api.users(), fields, policy_b64)?;
    policy
        .check(fields, bucket, now)
        .map_err(|v| S3Error::AccessDeniedBecause(format!("Invalid according to Policy: {v}")))?;
    Ok((Some(user), policy.length_range().unwrap_or((0, MAX_FILE_SIZE))))
}

/// The `key` field, `${filename}` replaced by the file's name.
fn object_key(fields: &auth::Fields, filename: &str) -> Result<String> {
    let key = field(fields, "key").ok_or_else(|| {
        S3Error::InvalidArgument(
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."
                .into(),
        )
    })?;
    let key = key.replace("${filename}", filename);
    if key.is_empty() {
        return Err(S3Error::InvalidArgument("User key must have a length greater than 0.".into()));
    }
    if key.len() > crate::paths::MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLongError);
    }
    if key.contains('\0') {
        return Err(S3Error::InvalidArgument("object keys cannot contain NUL".into()));
    }
    Ok(key)
}

/// The form's object headers as an S3 PutObject would carry them.
fn s3_headers(fields: &auth::Fields, file_type: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            h.insert(n, v);
        }
    };
    if let Some(t) = file_type {
        put("content-type", t);
    }
    for (name, value) in fields {
        if PLAIN_HEADERS.contains(&name.as_str()) || name.starts_with("x-amz-meta-") {
            put(name, value);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_headers_come_from_the_fields() {
        let fields = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert_eq!(object_key(&fields(&[("key", "up/${filename}")]), "cat.jpg").unwrap(), "up/cat.jpg");
        assert!(object_key(&fields(&[]), "x").is_err());
        assert!(object_key(&fields(&[("key", "${filename}")]), "").is_err());
        assert!(matches!(object_key(&fields(&[("key", &"k".repeat(1025))]), ""), Err(S3Error::KeyTooLongError)));
        let h = s3_headers(
            &fields(&[("content-type", "image/png"), ("x-amz-meta-who", "me"), ("acl", "private")]),
            Some("text/plain"),
        );
        assert_eq!(get(&h, "content-type"), Some("image/png"), "the field wins over the part's type");
        assert_eq!(get(&h, "x-amz-meta-who"), Some("me"));
        assert!(h.get("acl").is_none());
    }
}
