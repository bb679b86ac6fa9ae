//! The streaming aws-chunked payload decoder over arbitrary bytes, fed in frames of any
//! size, with and without chunk signatures: no panic, no more bytes released than the
//! announced decoded length, and a body that decodes is exactly that long. The input is
//! one byte of frame size, two of decoded length (little-endian), then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [frame, l0, l1, body @ ..] = data else { return };
    let decoded_length = u64::from(u16::from_le_bytes([*l0, *l1]));
    for decoded in swiftlet_s3::fuzzing::aws_chunked(body, decoded_length, usize::from(*frame) + 1) {
        if let Ok(out) = decoded {
            assert_eq!(out.len() as u64, decoded_length);
        }
    }
});
