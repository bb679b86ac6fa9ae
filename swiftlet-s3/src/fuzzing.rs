//! Entry points for the fuzz targets (`fuzz/`): what a stranger's bytes reach before any
//! right is checked (signatures, aws-chunked framing, XML bodies) must fail with an error,
//! never panic, loop or allocate without bound.

use crate::signature::{self, streaming, v2, v4, BodyFailure, SignedRequest};
use bytes::Bytes;
use common::http::BodyError;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use http_body_util::BodyExt;
use swiftlet_proxy::UserConfig;

/// 20130524T000000Z: requests dated near it pass the clock check and reach the signature.
const NOW: u64 = 1_369_353_600;
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";

/// SigV4's canonical request and string to sign, SigV2's string to sign, and the whole
/// verification, over one request of arbitrary parts (the parts no request could carry,
/// such as a header name with a space, are dropped).
pub fn signatures(method: &str, path_and_query: &str, headers: &[(&[u8], &[u8])]) {
    let mut h = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            h.append(n, v);
        }
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let signed: Vec<String> = h.keys().map(|k| k.as_str().to_string()).collect();
    let canonical_query = v4::canonical_query(query);
    // The signature itself is never part of what it signs.
    assert!(!canonical_query.split('&').any(|pair| pair.split('=').next() == Some("X-Amz-Signature")));
    for uri in v4::canonical_uris(path) {
        let creq = v4::canonical_request(method, &uri, &canonical_query, &h, &signed, v4::UNSIGNED_PAYLOAD);
        let sts = v4::string_to_sign("20130524T000000Z", SCOPE, &creq);
        let _ = v4::signature(&v4::signing_key("testing", SCOPE), &sts);
    }
    let resource = v2::canonical_resource(None, path, query);
    let _ = v2::string_to_sign(method, &h, "", &resource);
    let _ = crate::signature::unsigned::check_header_auth(&h, &signed);
    if let (Ok(method), Ok(uri)) = (Method::from_bytes(method.as_bytes()), path_and_query.parse::<Uri>()) {
        let users =
            [UserConfig { account: "test".into(), user: "tester".into(), key: "testing".into(), groups: vec![] }];
        let req = SignedRequest { method: &method, uri: &uri, headers: &h, host_bucket: None, now: NOW };
        let _ = signature::verify(&users, &req);
    }
}

/// Decodes `data` as an aws-chunked body of `decoded_length` bytes, fed in frames of
/// `frame` bytes: unverified, with chunk signatures, and both again expecting a CRC32
/// trailer; what it released, each time.
pub fn aws_chunked(data: &[u8], decoded_length: u64, frame: usize) -> [Result<Vec<u8>, String>; 4] {
    let signer = streaming::ChunkSigner::new(
        v4::signing_key("testing", SCOPE),
        "20130524T000000Z".into(),
        SCOPE.into(),
        "0".repeat(64),
    );
    let run = |signer: Option<streaming::ChunkSigner>, trailer: Option<crate::checksum::Algorithm>| {
        let frames: Vec<Result<Bytes, BodyError>> =
            data.chunks(frame.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let body = common::http::stream_body(futures::stream::iter(frames));
        let framing = streaming::Framing { signer, decoded_length, trailer };
        let mut decoded = streaming::decode(body, framing, BodyFailure::default());
        futures::executor::block_on(async {
            let mut out = Vec::new();
            while let Some(f) = decoded.frame().await {
                match f {
                    Ok(f) => out.extend_from_slice(&f.into_data().unwrap_or_default()),
                    Err(e) => return Err(e.to_string()),
                }
                // Released bytes never run past the length the request announced.
                assert!(out.len() as u64 <= decoded_length);
            }
            Ok(out)
        })
    };
    let crc = Some(crate::checksum::Algorithm::Crc32);
    [run(None, None), run(Some(signer.clone()), None), run(None, crc), run(Some(signer), crc)]
}

/// Every S3 XML body parser over one document: DeleteObjects, CompleteMultipartUpload,
/// PutBucketCors, PutBucketLifecycle, PutBucketAcl/PutObjectAcl, PutObjectTagging, and the
/// tree CreateBucket and PutBucketVersioning read.
pub fn s3_xml(doc: &[u8]) {
    if let Ok((_, targets)) = crate::delete::parse_request(doc) {
        assert!(!targets.is_empty() && targets.len() <= crate::delete::MAX_DELETE_KEYS);
    }
    if let Ok(parts) = crate::multipart::parse_complete(doc) {
        assert!(parts.iter().all(|(n, _)| (1..=crate::router::MAX_PART_NUMBER).contains(n)));
    }
    let _ = crate::cors::parse_config(doc);
    let _ = crate::lifecycle_rules::parse_config(doc);
    let _ = crate::acl::grants_from_document(doc, "test:tester");
    let _ = crate::tagging::parse_tagging(doc);
    let _ = crate::xml::parse(doc);
}

/// The bucket policy parser (then its evaluation for an anonymous and a signed caller,
/// whole and for any key) and the POST policy document parser (then its check against
/// a form made of the same bytes) over one document.
pub fn s3_policy(doc: &[u8]) {
    use crate::policy::{Action, PolicyRequest};
    if let Ok(policy) = crate::policy::document::parse(doc, "bucket") {
        assert!(doc.len() <= crate::policy::document::MAX_POLICY_BYTES);
        let key = std::str::from_utf8(&doc[..doc.len().min(64)]).ok();
        for principal in [None, Some(("test", "tester"))] {
            for action in [Action::GetObject, Action::PutObject, Action::DeleteObject, Action::ListBucket] {
                let source_ip = Some(std::net::IpAddr::from([127, 0, 0, 1]));
                let req =
                    PolicyRequest { principal, action, key: action.on_objects().then_some(key).flatten(), source_ip };
                let _ = policy.evaluate(&req);
                let _ = policy.evaluate_any_key(&req);
            }
        }
        let _ = policy.is_public();
    }
    if let Ok(post) = crate::post_object::conditions::parse(doc) {
        let text = String::from_utf8_lossy(doc).into_owned();
        let fields = vec![("key".to_string(), text.clone()), ("content-type".to_string(), text)];
        let _ = post.check(&fields, "bucket", NOW);
        if let Some((min, max)) = post.length_range() {
            // The range kept is the narrowest: inside every one the policy states.
            use crate::post_object::conditions::FormCondition;
            for c in &post.conditions {
                if let FormCondition::LengthRange { min: lo, max: hi } = c {
                    assert!(*lo <= min && max <= *hi);
                }
            }
        }
    }
}
