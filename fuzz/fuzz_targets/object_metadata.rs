//! The object metadata codec (xattrs): any bytes decode or fail cleanly, and what decodes
//! encodes back to the same metadata. Each input is tried raw and framed with a valid
//! header and checksum, so the payload parser is reached too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn round_trips(bytes: &[u8]) {
    if let Ok(meta) = common::metadata::decode(bytes) {
        let again = common::metadata::decode(&common::metadata::encode(&meta)).expect("re-encoded metadata decodes");
        assert_eq!(again, meta);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trips(data);
    let mut framed = b"SWM\x01".to_vec();
    framed.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(data).to_le_bytes());
    framed.extend_from_slice(data);
    round_trips(&framed);
});
