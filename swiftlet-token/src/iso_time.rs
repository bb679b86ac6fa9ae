//! Unix seconds as Keystone spells times, `2023-11-14T22:13:20.000000Z`: a serde `with`
//! module. Parsing takes the fraction and the `Z` as optional and drops the fraction.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::{Duration, UNIX_EPOCH};

pub fn serialize<S: Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*secs))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not an ISO 8601 UTC time: {text:?}")))
}

pub fn format(secs: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction][Z]`, UTC, at or after 1970.
pub fn parse(text: &str) -> Option<u64> {
    // humantime's weak form takes the fraction and the `Z` as optional, but also a space for the `T`.
    if text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    Some(at.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keystone_spellings() {
        for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_800 + 86_399] {
            assert_eq!(parse(&format(secs)), Some(secs), "{}", format(secs));
        }
        assert_eq!(format(1_700_000_000), "2023-11-14T22:13:20.000000Z");
        assert_eq!(parse("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(parse("2023-11-14T22:13:20.999999"), Some(1_700_000_000));
        for bad in
            ["", "2023-11-14", "2023-13-01T00:00:00Z", "1969-12-31T23:59:59Z", "2023-11-14T22:13:+0Z", "x-1-1T0:0:0"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
