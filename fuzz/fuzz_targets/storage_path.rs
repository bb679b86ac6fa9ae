//! Request paths as every server parses them: no panic, and what parses is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(p) = common::path::StoragePath::parse(raw, 3) {
        assert!(common::path::validate_device(&p.device).is_ok());
        assert!(!p.account.is_empty());
    }
    let _ = common::path::DevicePath::parse(raw);
    if let Ok(parts) = common::path::split_path(raw, 1, 4, true) {
        assert!((1..=4).contains(&parts.len()));
    }
    let _ = common::path::decode(raw);
});
