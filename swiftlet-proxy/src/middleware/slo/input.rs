//! SLO manifests as a client PUTs them (`path`, `etag`, `size_bytes`, `range`, or inline
//! `data`), read entry by entry so a hostile manifest costs no more than its bounded
//! count of entries: the JSON list is never held whole as a tree, and the parse stops at
//! the first entry past the segment limit.

use crate::middleware::large_object::ranges::{parse_ranges, Ranges};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};
use serde_json::Value;

/// One segment of a manifest a client sent, after syntax checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputSegment {
    Object { path: String, etag: Option<String>, size: Option<u64>, range: Option<String> },
    Data(Vec<u8>),
}

/// Why a client manifest is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputError {
    /// Swift's 400 body: one line per problem.
    Invalid(String),
    /// More segments than allowed (413); found while parsing, so the rest is never read.
    TooMany(String),
}

/// Parses and checks a client manifest of at most `max_segments` object-backed segments.
/// Entries of any kind (inline data, and ones with problems) count against twice that,
/// so a list of anything costs at most that many entries' worth of memory, and the
/// problems listed in the 400 are as bounded.
pub(crate) fn parse_input(
    body: &[u8],
    self_path: (&str, &str),
    max_segments: usize,
) -> Result<Vec<InputSegment>, InputError> {
    let mut entries = Entries {
        self_path,
        max_objects: max_segments,
        max_entries: max_segments.saturating_mul(2),
        ..Entries::default()
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = (&mut entries).deserialize(&mut de).and_then(|()| de.end());
    if let Some(refusal) = entries.refusal.take() {
        return Err(refusal);
    }
    if let Err(e) = parsed {
        let why = if e.classify() == serde_json::error::Category::Data {
            "Manifest must be a list.\n"
        } else {
            "Manifest must be valid JSON.\n"
        };
        return Err(InputError::Invalid(why.into()));
    }
    let Entries { mut out, mut errors, .. } = entries;
    if !out.is_empty() && out.iter().all(|s| matches!(s, InputSegment::Data(_))) {
        errors.push("Inline data segments require at least one object-backed segment.".into());
    }
    if errors.is_empty() {
        out.shrink_to_fit();
        Ok(out)
    } else {
        Err(InputError::Invalid(errors.iter().map(|e| format!("{e}\n")).collect()))
    }
}

/// The entries read so far. Each is checked when the next one arrives (or the list
/// ends), since a too-small size is allowed only in the last.
#[derive(Default)]
struct Entries<'a> {
    self_path: (&'a str, &'a str),
    max_objects: usize,
    max_entries: usize,
    count: usize,
    objects: usize,
    pending: Option<Value>,
    out: Vec<InputSegment>,
    errors: Vec<String>,
    refusal: Option<InputError>,
}

impl Entries<'_> {
    /// Checks the pending entry (index `count - 1`); false once the limit is passed.
    fn settle(&mut self, last: bool) -> bool {
        let Some(item) = self.pending.take() else { return true };
        match parse_one(self.count - 1, &item, last, self.self_path) {
            Ok(seg) => {
                if matches!(seg, InputSegment::Object { .. }) {
                    self.objects += 1;
                    if self.objects > self.max_objects {
                        let why = format!("Number of object-backed segments must be <= {}", self.max_objects);
                        self.refusal = Some(InputError::TooMany(why));
                        return false;
                    }
                }
                self.out.push(seg);
            }
            Err(e) => self.errors.push(e),
        }
        true
    }
}

impl<'de> DeserializeSeed<'de> for &mut Entries<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut Entries<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of segments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            if !self.settle(false) {
                return Err(A::Error::custom("too many segments"));
            }
            self.count += 1;
            if self.count > self.max_entries {
                let why = format!("Number of segments must be <= {}", self.max_entries);
                self.refusal = Some(InputError::TooMany(why));
                return Err(A::Error::custom("too many entries"));
            }
            self.pending = Some(item);
        }
        if !self.settle(true) {
            return Err(A::Error::custom("too many segments"));
        }
        Ok(())
    }
}

fn parse_one(i: usize, item: &Value, last: bool, (self_c, self_o): (&str, &str)) -> Result<InputSegment, String> {
    let Value::Object(seg) = item else { return Err(format!("Index {i}: not a JSON object")) };
    let kind = if seg.contains_key("path") {
        "path"
    } else if seg.contains_key("data") {
        "data"
    } else {
        return Err(format!("Index {i}: expected keys to include one of 'path' or 'data'"));
    };
    let allowed: &[&str] = if kind == "path" { &["path", "etag", "size_bytes", "range"] } else { &["data"] };
    let mut extra: Vec<&String> = seg.keys().filter(|k| !allowed.contains(&k.as_str())).collect();
    if !extra.is_empty() {
        extra.sort();
        let list: Vec<String> = extra.iter().map(|k| Value::String(k.to_string()).to_string()).collect();
        return Err(format!("Index {i}: extraneous keys {}", list.join(", ")));
    }
    if kind == "data" {
        let data = seg["data"].as_str().and_then(|d| STANDARD.decode(d.trim()).ok());
        return match data {
            None => Err(format!("Index {i}: data must be valid base64")),
            Some(d) if d.is_empty() => Err(format!("Index {i}: too small; each segment must be at least 1 byte.")),
            Some(d) => Ok(InputSegment::Data(d)),
        };
    }
    let Some(path) = seg["path"].as_str() else { return Err(format!("Index {i}: \"path\" must be a string")) };
    let etag = match seg.get("etag") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) => Some(e.clone()),
        Some(_) => return Err(format!("Index {i}: \"etag\" must be a string or null (if provided)")),
    };
    if !path.trim_matches('/').contains('/') {
        return Err(format!(
            "Index {i}: path does not refer to an object. Path must be of the form /container/object."
        ));
    }
    let size = match seg.get("size_bytes") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| format!("Index {i}: invalid size_bytes"))?),
        Some(Value::String(s)) => Some(s.trim().parse::<i64>().map_err(|_| format!("Index {i}: invalid size_bytes"))?),
        Some(_) => return Err(format!("Index {i}: invalid size_bytes")),
    };
    if size.is_some_and(|s| s < 1) && !last {
        return Err(format!("Index {i}: too small; each segment must be at least 1 byte."));
    }
    let size = size.map(|s| s.max(0) as u64);
    if path.trim_start_matches('/') == format!("{self_c}/{self_o}") {
        return Err(format!("Index {i}: manifest must not include itself as a segment"));
    }
    let range = match seg.get("range") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if r.is_empty() => None,
        Some(Value::String(r)) => {
            let spec = format!("bytes={r}");
            if r.contains(',') {
                let valid = matches!(parse_ranges(Some(&spec), u64::MAX), Ranges::Some(_));
                return Err(if valid {
                    format!("Index {i}: multiple ranges (only one allowed)")
                } else {
                    format!("Index {i}: invalid range")
                });
            }
            if parse_ranges(Some(&spec), u64::MAX) == Ranges::Whole {
                return Err(format!("Index {i}: invalid range"));
            }
            if let Some(s) = size {
                if !matches!(parse_ranges(Some(&spec), s), Ranges::Some(_)) {
                    return Err(format!("Index {i}: unsatisfiable range"));
                }
            }
            Some(r.clone())
        }
        Some(_) => return Err(format!("Index {i}: invalid range")),
    };
    Ok(InputSegment::Object { path: path.to_string(), etag, size, range })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 400 body, or the 413 reason, of a manifest under Swift's default limit.
    fn parse(body: &[u8], self_path: (&str, &str)) -> Result<Vec<InputSegment>, String> {
        parse_input(body, self_path, 1000).map_err(|e| match e {
            InputError::Invalid(s) | InputError::TooMany(s) => s,
        })
    }

    #[test]
    fn input_checks() {
        let ok = br#"[{"path": "/c/a", "etag": null, "size_bytes": "3"}, {"data": "aGk="}]"#;
        let segs = parse(ok, ("m", "o")).unwrap();
        assert_eq!(segs[1], InputSegment::Data(b"hi".to_vec()));
        assert!(matches!(&segs[0], InputSegment::Object { size: Some(3), .. }));
        let err =
            parse(br#"[{"path": "nope"}, {"path": "/c/o", "x": 1}, 3, {"path": "/m/o"}]"#, ("m", "o")).unwrap_err();
        assert_eq!(
            err,
            "Index 0: path does not refer to an object. Path must be of the form /container/object.\n\
             Index 1: extraneous keys \"x\"\nIndex 2: not a JSON object\n\
             Index 3: manifest must not include itself as a segment\n"
        );
        assert!(parse(b"{}", ("m", "o")).unwrap_err().contains("must be a list"));
        assert!(parse(br#"[{"data": "aGk="}]"#, ("m", "o")).unwrap_err().contains("object-backed"));
        let e = parse(br#"[{"path": "/c/o", "range": "1-2,4-5"}]"#, ("m", "o")).unwrap_err();
        assert!(e.contains("multiple ranges"), "{e}");
        let e = parse(br#"[{"path": "/c/o", "range": "9-", "size_bytes": 5}]"#, ("m", "o")).unwrap_err();
        assert!(e.contains("unsatisfiable"), "{e}");
    }
}
