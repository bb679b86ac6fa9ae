//! Listing query strings (limit, marker, prefix, delimiter, format, ...) and Accept
//! negotiation: no panic, and a parsed limit never exceeds the maximum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swiftlet_broker::listing::{list_params, negotiate, Query};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, accept) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(q) = Query::parse(Some(query)) {
        if let Ok(p) = list_params(&q, 10_000) {
            assert!(p.limit <= 10_000);
        }
        let _ = negotiate(q.get("format"), Some(accept));
    }
});
