//! The S3 API's errors: one enum, each variant an S3 error code, mapped to its status in
//! `HttpError::status` and to the `<Error>` XML body in [`S3Error::to_response`].

use common::http::HttpError;
use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("Access Denied.")]
    AccessDenied,
    /// `x-amz-*` headers the signature does not cover (their names, comma-separated).
    #[error("There were headers present in the request which were not signed")]
    HeadersNotSigned(String),
    #[error("Request has expired.")]
    ExpiredPresignedRequest,
    #[error("The AWS access key id you provided does not exist in our records.")]
    InvalidAccessKeyId,
    #[error("The request signature we calculated does not match the signature you provided. Check your key and signing method.")]
    SignatureDoesNotMatch,
    #[error("The difference between the request time and the server's time is too large.")]
    RequestTimeTooSkewed,
    #[error("The authorization header is malformed: {0}")]
    AuthorizationHeaderMalformed(String),
    #[error("The authorization query parameters are invalid: {0}")]
    AuthorizationQueryParametersError(String),
    #[error("Your request was missing a required header: {0}")]
    MissingSecurityHeader(String),
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    XAmzContentSHA256Mismatch { client: String, computed: String },
    /// A value of `x-amz-content-sha256` that is none of the known ones nor a SHA-256.
    #[error("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")]
    InvalidContentSha256(String),
    #[error("The Content-MD5 you specified did not match what we received.")]
    BadDigest,
    /// An `x-amz-checksum-*` value (its algorithm's name) that the body does not match.
    #[error("The {0} you specified did not match the calculated checksum.")]
    BadChecksum(&'static str),
    #[error("The Content-MD5 you specified was invalid.")]
    InvalidDigest,
    /// The detail is for the log; clients get S3's own words.
    #[error("The request body terminated unexpectedly")]
    IncompleteBody(String),
    #[error(
        "The request contained trailing data that was not well-formed or did not conform to our published schema."
    )]
    MalformedTrailer,
    #[error("You must provide the Content-Length HTTP header.")]
    MissingContentLength,
    #[error("The specified bucket does not exist.")]
    NoSuchBucket,
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The specified upload does not exist: it may have been aborted or completed.")]
    NoSuchUpload,
    #[error("The specified version does not exist.")]
    NoSuchVersion,
    #[error("The bucket you tried to delete is not empty.")]
    BucketNotEmpty,
    #[error("The bucket you tried to create already exists, and you own it.")]
    BucketAlreadyOwnedByYou,
    #[error("The specified bucket is not valid: {0}")]
    InvalidBucketName(String),
    #[error("The specified location constraint is not valid.")]
    InvalidLocationConstraint,
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("The XML you provided was not well-formed or did not validate against the published schema.")]
    MalformedXML,
    #[error("The ACL you provided was not well-formed or did not validate against the published schema.")]
    MalformedACLError,
    #[error("One or more of the specified parts could not be found, or its ETag did not match.")]
    InvalidPart,
    #[error("The list of parts was not in ascending order.")]
    InvalidPartOrder,
    #[error("Your proposed upload is smaller than the minimum allowed size.")]
    EntityTooSmall,
    #[error("Your proposed upload exceeds the maximum allowed size.")]
    EntityTooLarge,
    #[error("Your key is too long.")]
    KeyTooLongError,
    #[error("Your metadata headers exceed the maximum allowed metadata size.")]
    MetadataTooLarge,
    #[error("The requested range is not satisfiable.")]
    InvalidRange,
    #[error("The requested partnumber is not satisfiable")]
    InvalidPartNumber,
    #[error("At least one of the preconditions you specified did not hold.")]
    PreconditionFailed,
    #[error("The conditional request cannot succeed due to a conflicting operation against this resource.")]
    ConditionalRequestConflict,
    #[error("The storage class you specified is not valid.")]
    InvalidStorageClass,
    #[error("The tag set you provided is not valid: {0}")]
    InvalidTag(String),
    #[error("There is no tag set associated with the bucket.")]
    NoSuchTagSet,
    #[error("The CORS configuration does not exist.")]
    NoSuchCORSConfiguration,
    #[error("The lifecycle configuration does not exist.")]
    NoSuchLifecycleConfiguration,
    #[error("The specified method is not allowed against this resource.")]
    MethodNotAllowed,
    /// A CORS preflight no rule allows (S3's `AccessForbidden`).
    #[error("{0}")]
    CorsForbidden(String),
    /// A CORS preflight missing its Origin or requested method (S3's `BadRequest`).
    #[error("{0}")]
    CorsBadRequest(String),
    #[error("A header or parameter you provided implies functionality that is not implemented: {0}")]
    NotImplemented(String),
    #[error("Your socket connection to the server was not read from or written to within the timeout period.")]
    RequestTimeout,
    #[error("Please reduce your request rate.")]
    SlowDown,
    #[error("The service is unavailable: {0}")]
    ServiceUnavailable(String),
    #[error("We encountered an internal error: {0}")]
    InternalError(String),
    // Bucket policies, the global bucket namespace and POST Object (browser uploads).
    #[error("{0}")]
    MalformedPolicy(String),
    #[error("The bucket policy does not exist")]
    NoSuchBucketPolicy,
    #[error("The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")]
    BucketAlreadyExists,
    /// A refusal with its reason (a POST form against its policy: "Invalid according to Policy: ...").
    #[error("{0}")]
    AccessDeniedBecause(String),
    #[error("{0}")]
    InvalidPolicyDocument(String),
    #[error("{0}")]
    MalformedPOSTRequest(String),
    #[error("Your POST request fields preceding the upload file were too large.")]
    MaxPostPreDataLengthExceeded,
    #[error("POST requires exactly one file upload per request.")]
    IncorrectNumberOfFilesInPostRequest,
}

impl S3Error {
    /// The S3 error code clients switch on.
    pub fn code(&self) -> &'static str {
        use S3Error::*;
        match self {
            AccessDenied | ExpiredPresignedRequest | HeadersNotSigned(_) => "AccessDenied",
            InvalidAccessKeyId => "InvalidAccessKeyId",
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            RequestTimeTooSkewed => "RequestTimeTooSkewed",
            AuthorizationHeaderMalformed(_) => "AuthorizationHeaderMalformed",
            AuthorizationQueryParametersError(_) => "AuthorizationQueryParametersError",
            MissingSecurityHeader(_) => "MissingSecurityHeader",
            XAmzContentSHA256Mismatch { .. } => "XAmzContentSHA256Mismatch",
            InvalidContentSha256(_) => "InvalidArgument",
            BadDigest | BadChecksum(_) => "BadDigest",
            InvalidDigest => "InvalidDigest",
            IncompleteBody(_) => "IncompleteBody",
            MalformedTrailer => "MalformedTrailerError",
            MissingContentLength => "MissingContentLength",
            NoSuchBucket => "NoSuchBucket",
            NoSuchKey => "NoSuchKey",
            NoSuchUpload => "NoSuchUpload",
            NoSuchVersion => "NoSuchVersion",
            BucketNotEmpty => "BucketNotEmpty",
            BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            InvalidBucketName(_) => "InvalidBucketName",
            InvalidLocationConstraint => "InvalidLocationConstraint",
            InvalidArgument(_) => "InvalidArgument",
            InvalidRequest(_) => "InvalidRequest",
            MalformedXML => "MalformedXML",
            MalformedACLError => "MalformedACLError",
            InvalidPart => "InvalidPart",
            InvalidPartOrder => "InvalidPartOrder",
            EntityTooSmall => "EntityTooSmall",
            EntityTooLarge => "EntityTooLarge",
            KeyTooLongError => "KeyTooLongError",
            MetadataTooLarge => "MetadataTooLarge",
            InvalidRange => "InvalidRange",
            InvalidPartNumber => "InvalidPartNumber",
            PreconditionFailed => "PreconditionFailed",
            ConditionalRequestConflict => "ConditionalRequestConflict",
            InvalidStorageClass => "InvalidStorageClass",
            InvalidTag(_) => "InvalidTag",
            NoSuchTagSet => "NoSuchTagSet",
            NoSuchCORSConfiguration => "NoSuchCORSConfiguration",
            NoSuchLifecycleConfiguration => "NoSuchLifecycleConfiguration",
            MethodNotAllowed => "MethodNotAllowed",
            CorsForbidden(_) => "AccessForbidden",
            CorsBadRequest(_) => "BadRequest",
            NotImplemented(_) => "NotImplemented",
            RequestTimeout => "RequestTimeout",
            SlowDown => "SlowDown",
            ServiceUnavailable(_) => "ServiceUnavailable",
            InternalError(_) => "InternalError",
            MalformedPolicy(_) => "MalformedPolicy",
            NoSuchBucketPolicy => "NoSuchBucketPolicy",
            BucketAlreadyExists => "BucketAlreadyExists",
            AccessDeniedBecause(_) => "AccessDenied",
            InvalidPolicyDocument(_) => "InvalidPolicyDocument",
            MalformedPOSTRequest(_) => "MalformedPOSTRequest",
            MaxPostPreDataLengthExceeded => "MaxPostPreDataLengthExceeded",
            IncorrectNumberOfFilesInPostRequest => "IncorrectNumberOfFilesInPostRequest",
        }
    }
}

impl HttpError for S3Error {
    fn status(&self) -> StatusCode {
        use S3Error::*;
        match self {
            AccessDenied
            | ExpiredPresignedRequest
            | HeadersNotSigned(_)
            | InvalidAccessKeyId
            | SignatureDoesNotMatch
            | RequestTimeTooSkewed
            | CorsForbidden(_) => StatusCode::FORBIDDEN,
            NoSuchBucket
            | NoSuchKey
            | NoSuchUpload
            | NoSuchVersion
            | NoSuchTagSet
            | NoSuchCORSConfiguration
            | NoSuchLifecycleConfiguration => StatusCode::NOT_FOUND,
            BucketNotEmpty | BucketAlreadyOwnedByYou | ConditionalRequestConflict => StatusCode::CONFLICT,
            MissingContentLength => StatusCode::LENGTH_REQUIRED,
            InvalidRange | InvalidPartNumber => StatusCode::RANGE_NOT_SATISFIABLE,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            SlowDown | ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            InternalError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AuthorizationHeaderMalformed(_)
            | AuthorizationQueryParametersError(_)
            | MissingSecurityHeader(_)
            | XAmzContentSHA256Mismatch { .. }
            | InvalidContentSha256(_)
            | BadDigest
            | BadChecksum(_)
            | InvalidDigest
            | IncompleteBody(_)
            | MalformedTrailer
            | InvalidBucketName(_)
            | InvalidLocationConstraint
            | InvalidArgument(_)
            | InvalidRequest(_)
            | MalformedXML
            | MalformedACLError
            | InvalidPart
            | InvalidPartOrder
            | EntityTooSmall
            | EntityTooLarge
            | KeyTooLongError
            | MetadataTooLarge
            | InvalidStorageClass
            | InvalidTag(_)
            | CorsBadRequest(_)
            | RequestTimeout => StatusCode::BAD_REQUEST,
            AccessDeniedBecause(_) => StatusCode::FORBIDDEN,
            NoSuchBucketPolicy => StatusCode::NOT_FOUND,
            BucketAlreadyExists => StatusCode::CONFLICT,
            MalformedPolicy(_)
            | InvalidPolicyDocument(_)
            | MalformedPOSTRequest(_)
            | MaxPostPreDataLengthExceeded
            | IncorrectNumberOfFilesInPostRequest => StatusCode::BAD_REQUEST,
        }
    }
}

pub(crate) type Result<T, E = S3Error> = std::result::Result<T, E>;
