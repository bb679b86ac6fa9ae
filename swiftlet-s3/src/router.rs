//! Parse, then dispatch: method, bucket, key and query become one [`Endpoint`].

use crate::error::{Result, S3Error};
use http::Method;

/// The largest part number S3 accepts.
pub(crate) const MAX_PART_NUMBER: u32 = 10_000;

/// The decoded query string, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query(pub Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    ListMultipartUploads,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketVersioning,
    PutBucketVersioning,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    GetBucketLifecycle,
    PutBucketLifecycle,
    DeleteBucketLifecycle,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    DeleteObjects,
    GetObject,
    HeadObject,
    PutObject,
    CopyObject,
    DeleteObject,
    GetObjectAcl,
    PutObjectAcl,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    CreateMultipartUpload,
    UploadPart { upload_id: String, part_number: u32 },
    UploadPartCopy { upload_id: String, part_number: u32 },
    CompleteMultipartUpload { upload_id: String },
    AbortMultipartUpload { upload_id: String },
    ListParts { upload_id: String },
}

/// Subresources of S3 this server does not serve: a clear `NotImplemented`, never a
/// misrouted listing or write.
const UNSUPPORTED: &[&str] = &[
    "website",
    "logging",
    "notification",
    "replication",
    "encryption",
    "object-lock",
    "legal-hold",
    "retention",
    "requestPayment",
    "accelerate",
    "analytics",
    "inventory",
    "metrics",
    "ownershipControls",
    "publicAccessBlock",
    "intelligent-tiering",
    "torrent",
    "restore",
    "select",
    "attributes",
];

impl Endpoint {
    pub(crate) fn parse(
        method: &Method,
        bucket: Option<&str>,
        key: Option<&str>,
        q: &Query,
        copy_source: bool,
    ) -> Result<Endpoint> {
        if let Some(sub) = UNSUPPORTED.iter().find(|s| q.has(s)) {
            return Err(S3Error::NotImplemented(format!("the ?{sub} subresource")));
        }
        let Some(_bucket) = bucket else {
            return match *method {
                Method::GET => Ok(Endpoint::ListBuckets),
                _ => Err(S3Error::MethodNotAllowed),
            };
        };
        match key {
            None => Self::bucket(method, q),
            Some(_) => Self::object(method, q, copy_source),
        }
    }

    fn bucket(method: &Method, q: &Query) -> Result<Endpoint> {
        use Endpoint::*;
        if q.has("tagging") {
            return Err(S3Error::NotImplemented("bucket tagging".into()));
        }
        Ok(match *method {
            Method::GET if q.has("acl") => GetBucketAcl,
            Method::GET if q.has("versioning") => GetBucketVersioning,
            Method::GET if q.has("location") => GetBucketLocation,
            Method::GET if q.has("cors") => GetBucketCors,
            Method::GET if q.has("lifecycle") => GetBucketLifecycle,
            Method::GET if q.has("policyStatus") => GetBucketPolicyStatus,
            Method::GET if q.has("policy") => GetBucketPolicy,
            Method::GET if q.has("uploads") => ListMultipartUploads,
            Method::GET if q.has("versions") => ListObjectVersions,
            Method::GET if q.get("list-type") == Some("2") => ListObjectsV2,
            Method::GET if q.get("list-type").is_some_and(|v| v != "1") => {
                return Err(S3Error::InvalidArgument("list-type must be 1 or 2".into()))
            }
            Method::GET => ListObjects,
            Method::HEAD => HeadBucket,
            Method::PUT if q.has("acl") => PutBucketAcl,
            Method::PUT if q.has("versioning") => PutBucketVersioning,
            Method::PUT if q.has("cors") => PutBucketCors,
            Method::PUT if q.has("lifecycle") => PutBucketLifecycle,
            Method::PUT if q.has("policy") => PutBucketPolicy,
            Method::PUT => CreateBucket,
            Method::DELETE if q.has("cors") => DeleteBucketCors,
            Method::DELETE if q.has("lifecycle") => DeleteBucketLifecycle,
            Method::DELETE if q.has("policy") => DeleteBucketPolicy,
            Method::DELETE => DeleteBucket,
            Method::POST if q.has("delete") => DeleteObjects,
            Method::POST => return Err(S3Error::NotImplemented("POST object uploads (browser forms)".into())),
            _ => return Err(S3Error::MethodNotAllowed),
        })
    }

    fn object(method: &Method, q: &Query, copy_source: bool) -> Result<Endpoint> {
        use Endpoint::*;
        let upload_id = || q.get("uploadId").map(str::to_string);
        Ok(match *method {
            Method::GET if q.has("acl") => GetObjectAcl,
            Method::GET if q.has("tagging") => GetObjectTagging,
            Method::GET if q.has("uploadId") => ListParts { upload_id: upload_id().unwrap_or_default() },
            Method::GET => GetObject,
            Method::HEAD => HeadObject,
            Method::PUT if q.has("acl") => PutObjectAcl,
            Method::PUT if q.has("tagging") => PutObjectTagging,
            Method::PUT if q.has("partNumber") || q.has("uploadId") => {
                let upload_id = upload_id()
                    .ok_or_else(|| S3Error::InvalidArgument("uploadId is required with partNumber".into()))?;
                let part_number = part_number(q.get("partNumber"))?;
                if copy_source {
                    UploadPartCopy { upload_id, part_number }
                } else {
                    UploadPart { upload_id, part_number }
                }
            }
            Method::PUT if copy_source => CopyObject,
            Method::PUT => PutObject,
            Method::DELETE if q.has("tagging") => DeleteObjectTagging,
            Method::DELETE if q.has("uploadId") => AbortMultipartUpload { upload_id: upload_id().unwrap_or_default() },
            Method::DELETE => DeleteObject,
            Method::POST if q.has("uploads") => CreateMultipartUpload,
            Method::POST if q.has("uploadId") => CompleteMultipartUpload { upload_id: upload_id().unwrap_or_default() },
            _ => return Err(S3Error::MethodNotAllowed),
        })
    }

    /// The operation's name in S3's API reference, for logs.
    pub(crate) fn name(&self) -> &'static str {
        use Endpoint::*;
        match self {
            ListBuckets => "ListBuckets",
            CreateBucket => "CreateBucket",
            DeleteBucket => "DeleteBucket",
            HeadBucket => "HeadBucket",
            GetBucketLocation => "GetBucketLocation",
            ListObjects => "ListObjects",
            ListObjectsV2 => "ListObjectsV2",
            ListObjectVersions => "ListObjectVersions",
            ListMultipartUploads => "ListMultipartUploads",
            GetBucketAcl => "GetBucketAcl",
            PutBucketAcl => "PutBucketAcl",
            GetBucketVersioning => "GetBucketVersioning",
            PutBucketVersioning => "PutBucketVersioning",
            GetBucketCors => "GetBucketCors",
            PutBucketCors => "PutBucketCors",
            DeleteBucketCors => "DeleteBucketCors",
            GetBucketLifecycle => "GetBucketLifecycle",
            PutBucketLifecycle => "PutBucketLifecycle",
            DeleteBucketLifecycle => "DeleteBucketLifecycle",
            GetBucketPolicy => "GetBucketPolicy",
            PutBucketPolicy => "PutBucketPolicy",
            DeleteBucketPolicy => "DeleteBucketPolicy",
            GetBucketPolicyStatus => "GetBucketPolicyStatus",
            DeleteObjects => "DeleteObjects",
            GetObject => "GetObject",
            HeadObject => "HeadObject",
            PutObject => "PutObject",
            CopyObject => "CopyObject",
            DeleteObject => "DeleteObject",
            GetObjectAcl => "GetObjectAcl",
            PutObjectAcl => "PutObjectAcl",
            GetObjectTagging => "GetObjectTagging",
            PutObjectTagging => "PutObjectTagging",
            DeleteObjectTagging => "DeleteObjectTagging",
            CreateMultipartUpload => "CreateMultipartUpload",
            UploadPart { .. } => "UploadPart",
            UploadPartCopy { .. } => "UploadPartCopy",
            CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            AbortMultipartUpload { .. } => "AbortMultipartUpload",
            ListParts { .. } => "ListParts",
        }
    }
}

/// `partNumber`: an integer in 1..=10000.
pub(crate) fn part_number(v: Option<&str>) -> Result<u32> {
    v.and_then(|v| v.parse::<u32>().ok()).filter(|n| (1..=MAX_PART_NUMBER).contains(n)).ok_or_else(|| {
        S3Error::InvalidArgument(format!("Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(method: Method, bucket: Option<&str>, key: Option<&str>, q: &str, copy: bool) -> Result<Endpoint> {
        Endpoint::parse(&method, bucket, key, &Query::parse(Some(q)), copy)
    }

    #[test]
    fn routes_the_documented_examples() {
        use Endpoint::*;
        assert_eq!(ep(Method::GET, None, None, "", false).unwrap(), ListBuckets);
        assert_eq!(ep(Method::PUT, Some("b"), None, "", false).unwrap(), CreateBucket);
        assert_eq!(ep(Method::GET, Some("b"), None, "list-type=2&prefix=a", false).unwrap(), ListObjectsV2);
        assert_eq!(ep(Method::GET, Some("b"), None, "prefix=a&delimiter=/", false).unwrap(), ListObjects);
        assert_eq!(ep(Method::GET, Some("b"), None, "versions", false).unwrap(), ListObjectVersions);
        assert_eq!(ep(Method::GET, Some("b"), None, "uploads", false).unwrap(), ListMultipartUploads);
        assert_eq!(ep(Method::GET, Some("b"), None, "location", false).unwrap(), GetBucketLocation);
        assert_eq!(ep(Method::POST, Some("b"), None, "delete", false).unwrap(), DeleteObjects);
        assert_eq!(ep(Method::PUT, Some("b"), Some("k"), "", true).unwrap(), CopyObject);
        assert_eq!(ep(Method::POST, Some("b"), Some("k"), "uploads", false).unwrap(), CreateMultipartUpload);
        assert_eq!(
            ep(Method::PUT, Some("b"), Some("k"), "partNumber=3&uploadId=xyz", false).unwrap(),
            UploadPart { upload_id: "xyz".into(), part_number: 3 }
        );
        assert_eq!(
            ep(Method::PUT, Some("b"), Some("k"), "partNumber=3&uploadId=xyz", true).unwrap(),
            UploadPartCopy { upload_id: "xyz".into(), part_number: 3 }
        );
        assert_eq!(
            ep(Method::POST, Some("b"), Some("k"), "uploadId=u", false).unwrap(),
            CompleteMultipartUpload { upload_id: "u".into() }
        );
        assert_eq!(
            ep(Method::GET, Some("b"), Some("k"), "uploadId=u", false).unwrap(),
            ListParts { upload_id: "u".into() }
        );
        assert_eq!(
            ep(Method::DELETE, Some("b"), Some("k"), "uploadId=u", false).unwrap(),
            AbortMultipartUpload { upload_id: "u".into() }
        );
        assert_eq!(ep(Method::GET, Some("b"), Some("k"), "tagging", false).unwrap(), GetObjectTagging);
        assert_eq!(ep(Method::GET, Some("b"), None, "policy", false).unwrap(), GetBucketPolicy);
        assert_eq!(ep(Method::GET, Some("b"), None, "policyStatus", false).unwrap(), GetBucketPolicyStatus);
        assert_eq!(ep(Method::PUT, Some("b"), None, "policy", false).unwrap(), PutBucketPolicy);
        assert_eq!(ep(Method::DELETE, Some("b"), None, "policy", false).unwrap(), DeleteBucketPolicy);
    }

    #[test]
    fn refuses_what_s3_refuses() {
        assert!(matches!(ep(Method::GET, Some("b"), None, "website", false), Err(S3Error::NotImplemented(_))));
        for bad in ["0", "10001", "x", "-1", ""] {
            let q = format!("partNumber={bad}&uploadId=u");
            assert!(matches!(ep(Method::PUT, Some("b"), Some("k"), &q, false), Err(S3Error::InvalidArgument(_))));
        }
        assert!(matches!(ep(Method::PATCH, Some("b"), Some("k"), "", false), Err(S3Error::MethodNotAllowed)));
        assert!(matches!(ep(Method::DELETE, None, None, "", false), Err(S3Error::MethodNotAllowed)));
    }
}
