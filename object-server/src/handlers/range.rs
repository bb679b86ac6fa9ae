//! `Range` requests as Swift's swob answers them: a syntactically bad header is ignored
//! (200), satisfiable ranges give 206 (one range) or a `multipart/byteranges` body (several),
//! and a header with no satisfiable range (or an abusive set) gives 416.

use bytes::Bytes;

const MAX_RANGES: usize = 50;
const MAX_OVERLAPS: usize = 2;
const MAX_NONASCENDING: usize = 8;

/// A `bytes=` spec as written: `(Some(a), Some(b))` is `a-b`, `(Some(a), None)` is `a-`,
/// `(None, Some(n))` is the suffix `-n`.
pub type RangeSpec = (Option<u64>, Option<u64>);

/// Parses a Range header; `None` means "ignore it" (syntactically invalid).
///
/// Numbers of any size are accepted, as Swift's unbounded integers are: one past `u64::MAX`
/// saturates there (beyond any object), and the `end < start` check compares the digits
/// themselves, so saturation never turns a bad header into a good one.
pub fn parse(header: &str) -> Option<Vec<RangeSpec>> {
    let h: String = header.chars().filter(|c| *c != ' ').collect();
    if !h.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("bytes=")) {
        return None;
    }
    let mut out = Vec::new();
    for r in h[6..].split(',') {
        let (start, end) = r.split_once('-')?;
        let (start, end) = (Decimal::parse(start)?, Decimal::parse(end)?);
        match (start, end) {
            (None, None) => return None,
            (Some(s), Some(e)) if e.less_than(&s) => return None,
            _ => out.push((start.map(|s| s.value), end.map(|e| e.value))),
        }
    }
    Some(out)
}

/// A non-negative decimal of any length: its value saturated to `u64`, and its significant
/// digits for exact comparison.
#[derive(Clone, Copy)]
struct Decimal<'a> {
    value: u64,
    digits: &'a str,
}

impl<'a> Decimal<'a> {
    /// `Some(None)` for an empty field, `None` for anything but ASCII digits.
    fn parse(s: &'a str) -> Option<Option<Decimal<'a>>> {
        if s.is_empty() {
            return Some(None);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = s.trim_start_matches('0');
        let value = digits.parse().unwrap_or(if digits.is_empty() { 0 } else { u64::MAX });
        Some(Some(Decimal { value, digits }))
    }

    fn less_than(&self, other: &Decimal<'_>) -> bool {
        (self.digits.len(), self.digits) < (other.digits.len(), other.digits)
    }
}

/// Half-open byte ranges for a body of `length`, each non-empty and inside the body; empty
/// means unsatisfiable (416).
pub fn for_length(specs: &[RangeSpec], length: u64) -> Vec<(u64, u64)> {
    let mut all = Vec::new();
    for &spec in specs {
        match spec {
            (None, Some(0)) => {}
            (None, Some(n)) => all.push((length.saturating_sub(n), length)),
            (Some(s), None) if s < length => all.push((s, length)),
            // `e` may be u64::MAX: the end is clamped before it could overflow.
            (Some(s), Some(e)) if s < length => all.push((s, e.saturating_add(1).min(length))),
            _ => {}
        }
        if all.len() > MAX_RANGES {
            // Stop counting: the whole header is refused anyway.
            return vec![];
        }
    }
    // Only a suffix of an empty body gives an empty range; it has no bytes to send.
    all.retain(|(s, e)| s < e);
    let mut overlaps = 0;
    for (i, &(s1, e1)) in all.iter().enumerate() {
        for &(s2, e2) in &all[i + 1..] {
            if (s1 < s2 && s2 < e1) || (s1 < e2 && e2 < e1) || (s2 < s1 && s1 < e2) || (s2 < e1 && e1 < e2) {
                overlaps += 1;
                if overlaps > MAX_OVERLAPS {
                    return vec![];
                }
            }
        }
    }
    let ascending = all.windows(2).all(|w| w[0] <= w[1]);
    if !ascending && all.len() >= MAX_NONASCENDING {
        return vec![];
    }
    all
}

/// `bytes <first>-<last>/<length>` for a half-open range.
pub fn content_range(start: u64, end: u64, length: u64) -> String {
    format!("bytes {}-{}/{}", start, end - 1, length)
}

/// A piece of a response body: literal bytes or a byte range of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(Bytes),
    Object { start: u64, end: u64 },
}

/// The `multipart/byteranges` body for `ranges`: its segments and total length.
pub fn multipart(ranges: &[(u64, u64)], boundary: &str, content_type: &str, length: u64) -> (Vec<Segment>, u64) {
    let mut segments = Vec::new();
    let mut total = 0u64;
    let mut push = |s: Segment| {
        // Saturating: no real object (5 GiB at most) comes near, but a length is only a number here.
        total = total.saturating_add(match &s {
            Segment::Literal(b) => b.len() as u64,
            Segment::Object { start, end } => end - start,
        });
        segments.push(s);
    };
    for (i, &(start, end)) in ranges.iter().enumerate() {
        let lead = if i == 0 { "" } else { "\r\n" };
        let header = format!(
            "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
            content_range(start, end, length)
        );
        push(Segment::Literal(Bytes::from(header)));
        push(Segment::Object { start, end });
    }
    push(Segment::Literal(Bytes::from(format!("\r\n--{boundary}--"))));
    (segments, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_swob() {
        assert_eq!(parse("bytes=0-4"), Some(vec![(Some(0), Some(4))]));
        assert_eq!(parse("bytes=-5, 10-"), Some(vec![(None, Some(5)), (Some(10), None)]));
        for bad in ["bytes=5-3", "bytes=-", "bytes=45", "bytes=a-b", "items=0-1", "bytes=--0", ""] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn satisfiable_ranges() {
        assert_eq!(for_length(&parse("bytes=0-4").unwrap(), 10), vec![(0, 5)]);
        assert_eq!(for_length(&parse("bytes=5-100").unwrap(), 10), vec![(5, 10)]);
        assert_eq!(for_length(&parse("bytes=-3").unwrap(), 10), vec![(7, 10)]);
        assert_eq!(for_length(&parse("bytes=-30").unwrap(), 10), vec![(0, 10)]);
        assert!(for_length(&parse("bytes=10-").unwrap(), 10).is_empty());
        assert!(for_length(&parse("bytes=-0").unwrap(), 10).is_empty());
        assert!(for_length(&parse("bytes=0-5,1-6,2-7,3-8").unwrap(), 10).is_empty());
        let many: Vec<String> = (0..51).map(|i| format!("{i}-{i}")).collect();
        assert!(for_length(&parse(&format!("bytes={}", many.join(","))).unwrap(), 100).is_empty());
        let desc: Vec<String> = (0..8).rev().map(|i| format!("{i}-{i}")).collect();
        assert!(for_length(&parse(&format!("bytes={}", desc.join(","))).unwrap(), 100).is_empty());
    }

    #[test]
    fn huge_and_overflowing_numbers_never_panic() {
        // An end at or past u64::MAX is clamped to the object, as Swift (unbounded ints) does.
        assert_eq!(for_length(&parse("bytes=1-18446744073709551615").unwrap(), 10), vec![(1, 10)]);
        assert_eq!(for_length(&parse("bytes=0-99999999999999999999999").unwrap(), 10), vec![(0, 10)]);
        // A start past any object: nothing satisfiable (416), not an ignored header.
        assert!(for_length(&parse("bytes=18446744073709551616-").unwrap(), 10).is_empty());
        assert!(for_length(&parse("bytes=18446744073709551615-18446744073709551615").unwrap(), 10).is_empty());
        // A suffix bigger than the object is the whole object.
        assert_eq!(for_length(&parse("bytes=-18446744073709551615").unwrap(), 10), vec![(0, 10)]);
        assert_eq!(for_length(&parse("bytes=-99999999999999999999999").unwrap(), 10), vec![(0, 10)]);
        // Huge numbers keep their order: an end below its start is still a bad header.
        assert_eq!(parse("bytes=99999999999999999999-99999999999999999998"), None);
        // Many ranges on a small object: refused whole.
        let many = vec!["0-18446744073709551615"; 2000].join(",");
        assert!(for_length(&parse(&format!("bytes={many}")).unwrap(), 3).is_empty());
    }

    #[test]
    fn multipart_layout() {
        let (segs, total) = multipart(&[(0, 2), (5, 7)], "B", "text/plain", 10);
        let mut text = Vec::new();
        let body = b"0123456789";
        for s in &segs {
            match s {
                Segment::Literal(b) => text.extend_from_slice(b),
                Segment::Object { start, end } => text.extend_from_slice(&body[*start as usize..*end as usize]),
            }
        }
        let expected = "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n\
                        --B\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/10\r\n\r\n56\r\n--B--";
        assert_eq!(String::from_utf8(text.clone()).unwrap(), expected);
        assert_eq!(total, text.len() as u64);
    }
}
