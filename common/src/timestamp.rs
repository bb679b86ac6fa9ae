//! Swift's `X-Timestamp`: seconds with five decimals, optionally `_<16 hex digits>` offset.
//!
//! The newest timestamp wins everywhere (files on disk, listing rows, replication), so
//! `Timestamp` is totally ordered and its text form sorts the same way as its value for
//! every timestamp after 1973 (10 integer digits), which keeps file names sortable.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Units per second: Swift keeps five decimal places.
const TICKS_PER_SEC: u64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Time in units of 10 microseconds since the epoch.
    ticks: u64,
    /// Swift's offset: orders internal updates that share one client timestamp.
    offset: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid timestamp {0:?}")]
pub struct InvalidTimestamp(pub String);

impl Timestamp {
    /// Largest value Swift accepts: 9999999999.99999.
    pub const MAX_TICKS: u64 = 9_999_999_999 * TICKS_PER_SEC + 99_999;

    pub fn now() -> Self {
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self::from_micros(d.as_micros() as u64)
    }

    pub fn from_micros(micros: u64) -> Self {
        Timestamp { ticks: micros / 10, offset: 0 }
    }

    pub fn from_secs_f64(secs: f64) -> Self {
        Timestamp { ticks: (secs * TICKS_PER_SEC as f64).round() as u64, offset: 0 }
    }

    pub fn from_ticks(ticks: u64) -> Self {
        Timestamp { ticks, offset: 0 }
    }

    pub fn with_offset(self, offset: u64) -> Self {
        Timestamp { offset, ..self }
    }

    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whole seconds since the epoch (for Last-Modified).
    pub fn secs(&self) -> u64 {
        self.ticks / TICKS_PER_SEC
    }

    pub fn as_secs_f64(&self) -> f64 {
        self.ticks as f64 / TICKS_PER_SEC as f64
    }

    pub fn as_system_time(&self) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_micros(self.ticks * 10)
    }

    /// The normal form, without the offset: `1700000000.00000`.
    pub fn normal(&self) -> String {
        format!("{:010}.{:05}", self.ticks / TICKS_PER_SEC, self.ticks % TICKS_PER_SEC)
    }

    /// The internal form: the normal form plus `_<offset>` when the offset is non-zero.
    pub fn internal(&self) -> String {
        if self.offset == 0 {
            self.normal()
        } else {
            format!("{}_{:016x}", self.normal(), self.offset)
        }
    }
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (Howard
/// Hinnant's algorithm), for the ISO 8601 and HTTP dates the APIs print.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.internal())
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;

    /// Accepts what Swift accepts: `123`, `123.4`, `0000000123.45678`, `123.45678_000000000000000a`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidTimestamp(s.chars().take(64).collect());
        let (value, offset) = match s.split_once('_') {
            Some((v, o)) if !o.is_empty() && o.len() <= 16 => (v, u64::from_str_radix(o, 16).map_err(|_| bad())?),
            Some(_) => return Err(bad()),
            None => (s, 0),
        };
        let (int, frac) = value.split_once('.').unwrap_or((value, ""));
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || (!frac.is_empty() && !digits(frac)) || int.len() > 10 {
            return Err(bad());
        }
        let secs: u64 = int.parse().map_err(|_| bad())?;
        // Round the fraction to five places, as Swift does.
        let mut frac_ticks = 0u64;
        for (i, b) in frac.bytes().take(6).enumerate() {
            let d = u64::from(b - b'0');
            if i < 5 {
                frac_ticks = frac_ticks * 10 + d;
            } else if d >= 5 {
                frac_ticks += 1;
            }
        }
        for _ in frac.len().min(5)..5 {
            frac_ticks *= 10;
        }
        let ticks = secs * TICKS_PER_SEC + frac_ticks;
        if ticks > Self::MAX_TICKS {
            return Err(bad());
        }
        Ok(Timestamp { ticks, offset })
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.internal())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Swift's `last_modified`: ISO 8601 in UTC with microseconds, no zone suffix.
pub fn iso8601(ts: Timestamp) -> String {
    Iso8601(ts).to_string()
}

/// [`iso8601`] as a `Display`, so a listing serializes it without a String per row.
#[derive(Clone, Copy)]
pub struct Iso8601(pub Timestamp);

impl std::fmt::Display for Iso8601 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let micros = self.0.ticks() * 10;
        let secs = micros / 1_000_000;
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            micros % 1_000_000
        )
    }
}

impl serde::Serialize for Iso8601 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601("1700000000.12345".parse().unwrap()), "2023-11-14T22:13:20.123450");
        assert_eq!(iso8601(Timestamp::default()), "1970-01-01T00:00:00.000000");
        assert_eq!(iso8601("951782400".parse().unwrap()), "2000-02-29T00:00:00.000000");
    }

    #[test]
    fn parses_swift_forms() {
        let t: Timestamp = "1700000000.12345".parse().unwrap();
        assert_eq!(t.normal(), "1700000000.12345");
        assert_eq!("17".parse::<Timestamp>().unwrap().normal(), "0000000017.00000");
        assert_eq!("1.5".parse::<Timestamp>().unwrap().normal(), "0000000001.50000");
        assert_eq!("1.123456".parse::<Timestamp>().unwrap().normal(), "0000000001.12346");
        let o: Timestamp = "1700000000.12345_000000000000000a".parse().unwrap();
        assert_eq!(o.offset(), 10);
        assert_eq!(o.internal(), "1700000000.12345_000000000000000a");
        assert!(o > t);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "-1", "1.2.3", "1e9", "12345678901", "1_", "1_xyz", " 1", "1.a"] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn text_order_matches_value_order(a in 100_000_000u64..Timestamp::MAX_TICKS / 100_000, b in 100_000_000u64..Timestamp::MAX_TICKS / 100_000) {
            let (ta, tb) = (Timestamp::from_ticks(a * 7), Timestamp::from_ticks(b * 7));
            prop_assert_eq!(ta.cmp(&tb), ta.internal().cmp(&tb.internal()));
            prop_assert_eq!(ta.internal().parse::<Timestamp>().unwrap(), ta);
        }
    }
}
