//! The object server's request headers: `Range` (parse, then resolve against a body length,
//! then lay out a multipart body) and the conditional ones (`If-Match`, `If-None-Match`,
//! `If-Modified-Since`). Any bytes must parse or be ignored without a panic, and every range
//! that comes out is non-empty, inside the body, and at most 50 of them.
//!
//! Input: 8 bytes of body length (little-endian), then the header value.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use object_server::handlers::headers::{http_date, Match};
use object_server::handlers::range;

fuzz_target!(|data: &[u8]| {
    let Some((len, value)) = data.split_first_chunk::<8>() else { return };
    // Small lengths too, where most of the edge cases are; at most 2^40 (objects are 5 GiB
    // at most), so sums of a few dozen ranges stay within u64.
    let length = (u64::from_le_bytes(*len) >> (len[0] % 64)) & ((1 << 40) - 1);
    if let Ok(text) = std::str::from_utf8(value) {
        if let Some(specs) = range::parse(text) {
            let ranges = range::for_length(&specs, length);
            assert!(ranges.len() <= 50);
            for &(start, end) in &ranges {
                assert!(start < end && end <= length, "{start}..{end} of {length}");
            }
            if ranges.len() > 1 {
                let (segments, total) = range::multipart(&ranges, "b", "text/plain", length);
                assert_eq!(segments.len(), 2 * ranges.len() + 1);
                assert!(total >= ranges.iter().map(|(s, e)| e - s).sum::<u64>());
            }
        }
    }
    let Ok(value) = HeaderValue::from_bytes(value) else { return };
    let mut headers = HeaderMap::new();
    for name in ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"] {
        headers.insert(name, value.clone());
    }
    if let Some(tags) = Match::parse(&headers, "if-match") {
        let _ = tags.matches("d41d8cd98f00b204e9800998ecf8427e") || tags.star();
    }
    let _ = http_date(&headers, "if-modified-since");
});
