//! The bucket policy (JSON) parser and evaluator and the POST Object policy document
//! parser and its form check over arbitrary bytes: no panic, and what parses stays within
//! S3's size cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    swiftlet_s3::fuzzing::s3_policy(data);
});
