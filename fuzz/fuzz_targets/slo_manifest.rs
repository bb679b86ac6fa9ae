//! SLO manifests as clients PUT them (and as stored, and the Range header over a large
//! object): no panic, never more segments than the limit allows, and the answer to a
//! refused manifest no longer than a few lines per entry the limit allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swiftlet_proxy::fuzzing::{large_object_ranges, slo_manifest, stored_slo_manifest};

const MAX_SEGMENTS: usize = 20;

fuzz_target!(|data: &[u8]| {
    match slo_manifest(data, MAX_SEGMENTS) {
        Ok((objects, all)) => assert!(objects <= MAX_SEGMENTS && all <= 2 * MAX_SEGMENTS),
        // Each listed problem names one entry (at most 2 * MAX_SEGMENTS), and an entry's
        // problem quotes at most its keys, which are part of the input.
        Err(why) => assert!(why.len() <= data.len() + 2 * MAX_SEGMENTS * 128, "{} bytes of errors", why.len()),
    }
    let _ = stored_slo_manifest(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let (header, length) = text.split_once('\n').unwrap_or((text, "1000"));
        let length = length.trim().parse().unwrap_or(1000);
        if let Some(ranges) = large_object_ranges(header, length) {
            assert!(ranges.len() <= 50);
            assert!(ranges.iter().all(|(s, e)| s <= e && *e < length));
        }
    }
});
