//! Who signed a browser upload's policy: SigV4 (`x-amz-algorithm`, `x-amz-credential`,
//! `x-amz-date`, `x-amz-signature`: the hex HMAC of the base64 policy with the scope's
//! signing key) or SigV2 (`AWSAccessKeyId`, `signature`: the base64 HMAC-SHA1 of it).
//! Signatures are compared in constant time.

use crate::error::{Result, S3Error};
use crate::signature::{self, v2, v4, S3User};
use swiftlet_proxy::{constant_time_eq, UserConfig};

/// The form's fields, names lower-case.
pub(crate) type Fields = [(String, String)];

pub(crate) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The user whose key signed `policy_b64`, as the form's signature fields say.
pub(crate) fn signer(users: &[UserConfig], fields: &Fields, policy_b64: &str) -> Result<S3User> {
    if let Some(algorithm) = field(fields, "x-amz-algorithm") {
        if algorithm != v4::ALGORITHM {
            return Err(S3Error::InvalidArgument("x-amz-algorithm only supports \"AWS4-HMAC-SHA256\"".into()));
        }
        let missing = |name: &str| S3Error::InvalidArgument(format!("Bucket POST must contain a field named '{name}'"));
        let credential = field(fields, "x-amz-credential").ok_or_else(|| missing("x-amz-credential"))?;
        let date = field(fields, "x-amz-date").ok_or_else(|| missing("x-amz-date"))?;
        let given = field(fields, "x-amz-signature").ok_or_else(|| missing("x-amz-signature"))?;
        let (access_key, scope, scope_date) = v4::parse_credential(credential)
            .ok_or_else(|| S3Error::InvalidArgument("x-amz-credential is malformed".into()))?;
        if signature::parse_amz_date(date).is_none() || !date.starts_with(&scope_date) {
            return Err(S3Error::InvalidArgument("x-amz-date is malformed or not the credential's date".into()));
        }
        let user = signature::lookup(users, &access_key)?;
        let expected = v4::signature(&v4::signing_key(&user.key, &scope), policy_b64);
        return matching(&expected, &given.to_ascii_lowercase(), user);
    }
    if let Some(access_key) = field(fields, "awsaccesskeyid") {
        let given = field(fields, "signature")
            .ok_or_else(|| S3Error::InvalidArgument("Bucket POST must contain a field named 'signature'".into()))?;
        let user = signature::lookup(users, access_key)?;
        return matching(&v2::signature(&user.key, policy_b64), given, user);
    }
    Err(S3Error::InvalidArgument(
        "Bucket POST with a policy must be signed: x-amz-signature (SigV4) or AWSAccessKeyId and signature (SigV2)"
            .into(),
    ))
}

fn matching(expected: &str, given: &str, user: &UserConfig) -> Result<S3User> {
    if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(signature::s3_user(user))
    } else {
        Err(S3Error::SignatureDoesNotMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<UserConfig> {
        vec![UserConfig { account: "test".into(), user: "tester".into(), key: "testing".into(), groups: vec![] }]
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn checks_v4_and_v2_policy_signatures() {
        let policy = "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0=";
        let scope = "20240101/us-east-1/s3/aws4_request";
        let sig = v4::signature(&v4::signing_key("testing", scope), policy);
        let v4 = |sig: &str| {
            fields(&[
                ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
                ("x-amz-credential", "test:tester/20240101/us-east-1/s3/aws4_request"),
                ("x-amz-date", "20240101T000000Z"),
                ("x-amz-signature", sig),
            ])
        };
        assert_eq!(signer(&users(), &v4(&sig), policy).unwrap().access_key(), "test:tester");
        let mut tampered = sig.clone().into_bytes();
        tampered[0] = if tampered[0] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(matches!(signer(&users(), &v4(&tampered), policy), Err(S3Error::SignatureDoesNotMatch)));
        assert!(matches!(signer(&users(), &v4(&sig), "eyJ4IjoxfQ=="), Err(S3Error::SignatureDoesNotMatch)));
        let v2 = v2::signature("testing", policy);
        let ok = fields(&[("awsaccesskeyid", "test:tester"), ("signature", &v2)]);
        assert_eq!(signer(&users(), &ok, policy).unwrap().user, "tester");
        let bad = fields(&[("awsaccesskeyid", "test:tester"), ("signature", "AAAA")]);
        assert!(matches!(signer(&users(), &bad, policy), Err(S3Error::SignatureDoesNotMatch)));
        let unknown = fields(&[("awsaccesskeyid", "test:nobody"), ("signature", &v2)]);
        assert!(matches!(signer(&users(), &unknown, policy), Err(S3Error::InvalidAccessKeyId)));
        assert!(signer(&users(), &[], policy).is_err());
    }
}
