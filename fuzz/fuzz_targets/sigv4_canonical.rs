//! SigV4's canonical request and string to sign (and SigV2's, and the whole signature
//! check) from an arbitrary method, path, query and headers: no panic. The input is
//! `method\npath?query\nname: value\n...`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|b| *b == b'\n');
    let (Some(method), Some(target)) = (lines.next(), lines.next()) else { return };
    let (Ok(method), Ok(target)) = (std::str::from_utf8(method), std::str::from_utf8(target)) else { return };
    let headers: Vec<(&[u8], &[u8])> = lines
        .filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            let value = &line[colon + 1..];
            Some((&line[..colon], value.strip_prefix(b" ").unwrap_or(value)))
        })
        .collect();
    swiftlet_s3::fuzzing::signatures(method, target, &headers);
});
