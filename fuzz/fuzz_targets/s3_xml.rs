//! Every S3 XML body parser (DeleteObjects, CompleteMultipartUpload, CORS, lifecycle,
//! ACL, tagging, and the tree the others read) over arbitrary bytes: no panic, and what
//! parses stays within S3's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    swiftlet_s3::fuzzing::s3_xml(data);
});
