//! The Range parser against arbitrary input: whatever the header and the object's length,
//! it never panics and every range it answers lies inside the object.

use object_server::handlers::range::{for_length, parse};
use proptest::prelude::*;

/// Headers close to valid ones (where the arithmetic is), plus any string at all.
fn range_header() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        Just(String::new()),
        (0u64..64).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just(u64::MAX.to_string()),
        "[0-9]{19,30}",
    ];
    let spec = (number.clone(), number).prop_map(|(a, b)| format!("{a}-{b}"));
    prop_oneof![
        prop::collection::vec(spec, 1..80).prop_map(|specs| format!("bytes={}", specs.join(","))),
        ".*",
        "bytes=[-0-9, ]{0,60}",
    ]
}

fn length() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..32, any::<u64>(), Just(u64::MAX)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ranges_never_panic_and_stay_inside_the_object(header in range_header(), len in length()) {
        if let Some(specs) = parse(&header) {
            for (start, end) in for_length(&specs, len) {
                prop_assert!(start < end && end <= len, "{header:?} on {len} gave {start}..{end}");
            }
        }
    }
}
