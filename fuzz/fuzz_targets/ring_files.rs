//! Ring and builder file bodies: any bytes are refused with an error, never a panic or an
//! allocation the bytes do not pay for.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = swiftlet_ring::fuzzing::ring_body(data);
    let _ = swiftlet_ring::fuzzing::builder_body(data);
});
