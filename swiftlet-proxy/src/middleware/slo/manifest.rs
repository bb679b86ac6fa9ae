//! SLO manifests in Swift's two JSON forms: what a client PUTs (`path`, `etag`,
//! `size_bytes`, `range`, or inline `data`) and what is stored (`name`, `bytes`, `hash`,
//! `content_type`, `last_modified`, `range`, `sub_slo`, or `data`), plus the SLO ETag.

use crate::middleware::large_object::ranges::{parse_ranges, Ranges};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

/// One segment of a manifest a client sent, after syntax checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputSegment {
    Object { path: String, etag: Option<String>, size: Option<u64>, range: Option<String> },
    Data(Vec<u8>),
}

/// Parses and checks a client manifest; the error is Swift's 400 body (one line per problem).
pub(crate) fn parse_input(body: &[u8], self_path: (&str, &str)) -> Result<Vec<InputSegment>, String> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| "Manifest must be valid JSON.\n".to_string())?;
    let Value::Array(items) = parsed else { return Err("Manifest must be a list.\n".into()) };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let count = items.len();
    for (i, item) in items.iter().enumerate() {
        match parse_one(i, item, i + 1 == count, self_path) {
            Ok(seg) => out.push(seg),
            Err(e) => errors.push(e),
        }
    }
    if !out.is_empty() && out.iter().all(|s| matches!(s, InputSegment::Data(_))) {
        errors.push("Inline data segments require at least one object-backed segment.".into());
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.iter().map(|e| format!("{e}\n")).collect())
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

/// A stored segment, as Swift writes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StoredSegment {
    Object {
        name: String,
        bytes: u64,
        hash: String,
        content_type: String,
        last_modified: String,
        range: Option<(u64, u64)>,
        sub_slo: bool,
    },
    Data(Vec<u8>),
}

impl StoredSegment {
    /// The bytes this segment contributes to the large object.
    pub(crate) fn length(&self) -> u64 {
        match self {
            StoredSegment::Data(d) => d.len() as u64,
            StoredSegment::Object { range: Some((s, e)), .. } => e - s + 1,
            StoredSegment::Object { bytes, .. } => *bytes,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            StoredSegment::Data(d) => json!({"data": STANDARD.encode(d)}),
            StoredSegment::Object { name, bytes, hash, content_type, last_modified, range, sub_slo } => {
                let mut m = Map::new();
                m.insert("name".into(), json!(name));
                m.insert("bytes".into(), json!(bytes));
                m.insert("hash".into(), json!(hash));
                m.insert("content_type".into(), json!(content_type));
                m.insert("last_modified".into(), json!(last_modified));
                if let Some((s, e)) = range {
                    m.insert("range".into(), json!(format!("{s}-{e}")));
                }
                if *sub_slo {
                    m.insert("sub_slo".into(), json!(true));
                }
                Value::Object(m)
            }
        }
    }

    /// The client form (`format=raw`), which a PUT of the manifest accepts back.
    pub(crate) fn to_raw_json(&self) -> Value {
        match self {
            StoredSegment::Data(d) => json!({"data": STANDARD.encode(d)}),
            StoredSegment::Object { name, bytes, hash, range, .. } => {
                let mut m = Map::new();
                m.insert("path".into(), json!(name));
                m.insert("size_bytes".into(), json!(bytes));
                m.insert("etag".into(), json!(hash));
                if let Some((s, e)) = range {
                    m.insert("range".into(), json!(format!("{s}-{e}")));
                }
                Value::Object(m)
            }
        }
    }
}

/// Reads a stored manifest (ours or Swift's).
pub(crate) fn parse_stored(body: &[u8]) -> Result<Vec<StoredSegment>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("Unable to load SLO manifest: {e}"))?;
    let Value::Array(items) = v else { return Err("Unable to load SLO manifest: not a list".into()) };
    items
        .iter()
        .map(|item| {
            if let Some(d) = item.get("data").and_then(Value::as_str) {
                return STANDARD.decode(d).map(StoredSegment::Data).map_err(|e| format!("bad data segment: {e}"));
            }
            let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let bytes = match item.get("bytes") {
                Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
                Some(Value::String(s)) => s.parse().unwrap_or(0),
                _ => 0,
            };
            let range = item.get("range").and_then(Value::as_str).and_then(|r| {
                let (a, b) = r.split_once('-')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            });
            let sub_slo = match item.get("sub_slo") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => common::headers::is_true(s),
                _ => false,
            };
            let name = s("name");
            if name.is_empty() {
                return Err("Unable to load SLO manifest: segment without a name".to_string());
            }
            let mut content_type = s("content_type");
            let mut bytes = bytes;
            // A sub-manifest's listing content type carries its whole size.
            if sub_slo {
                if let Some((base, n)) = content_type.rsplit_once(";swift_bytes=") {
                    if let Ok(n) = n.trim().parse() {
                        bytes = n;
                        content_type = base.to_string();
                    }
                }
            }
            Ok(StoredSegment::Object {
                name,
                bytes,
                hash: s("hash"),
                content_type,
                last_modified: s("last_modified"),
                range,
                sub_slo,
            })
        })
        .collect()
}

/// The SLO's ETag: the MD5 of its segments' ETags (with their ranges), as Swift computes it.
pub(crate) fn slo_etag(segments: &[StoredSegment]) -> String {
    let mut h = Md5::new();
    for seg in segments {
        match seg {
            StoredSegment::Data(d) => h.update(hex::encode(Md5::digest(d)).as_bytes()),
            StoredSegment::Object { hash, range: Some((s, e)), .. } => h.update(format!("{hash}:{s}-{e};").as_bytes()),
            StoredSegment::Object { hash, .. } => h.update(hash.as_bytes()),
        }
    }
    hex::encode(h.finalize())
}

pub(crate) fn to_body(segments: &[StoredSegment], raw: bool) -> Vec<u8> {
    let list: Vec<Value> = segments.iter().map(|s| if raw { s.to_raw_json() } else { s.to_json() }).collect();
    Value::Array(list).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str, bytes: u64, hash: &str, range: Option<(u64, u64)>) -> StoredSegment {
        StoredSegment::Object {
            name: name.into(),
            bytes,
            hash: hash.into(),
            content_type: "x".into(),
            last_modified: "t".into(),
            range,
            sub_slo: false,
        }
    }

    #[test]
    fn input_checks() {
        let ok = br#"[{"path": "/c/a", "etag": null, "size_bytes": "3"}, {"data": "aGk="}]"#;
        let segs = parse_input(ok, ("m", "o")).unwrap();
        assert_eq!(segs[1], InputSegment::Data(b"hi".to_vec()));
        assert!(matches!(&segs[0], InputSegment::Object { size: Some(3), .. }));
        let err = parse_input(br#"[{"path": "nope"}, {"path": "/c/o", "x": 1}, 3, {"path": "/m/o"}]"#, ("m", "o"))
            .unwrap_err();
        assert_eq!(
            err,
            "Index 0: path does not refer to an object. Path must be of the form /container/object.\n\
             Index 1: extraneous keys \"x\"\nIndex 2: not a JSON object\n\
             Index 3: manifest must not include itself as a segment\n"
        );
        assert!(parse_input(b"{}", ("m", "o")).unwrap_err().contains("must be a list"));
        assert!(parse_input(br#"[{"data": "aGk="}]"#, ("m", "o")).unwrap_err().contains("object-backed"));
        let e = parse_input(br#"[{"path": "/c/o", "range": "1-2,4-5"}]"#, ("m", "o")).unwrap_err();
        assert!(e.contains("multiple ranges"), "{e}");
        let e = parse_input(br#"[{"path": "/c/o", "range": "9-", "size_bytes": 5}]"#, ("m", "o")).unwrap_err();
        assert!(e.contains("unsatisfiable"), "{e}");
    }

    #[test]
    fn etag_and_round_trip() {
        let segs =
            vec![obj("/c/a", 10, "aa", None), obj("/c/b", 10, "bb", Some((2, 5))), StoredSegment::Data(b"x".to_vec())];
        let mut h = Md5::new();
        h.update(b"aabb:2-5;");
        h.update(hex::encode(Md5::digest(b"x")).as_bytes());
        assert_eq!(slo_etag(&segs), hex::encode(h.finalize()));
        assert_eq!(parse_stored(&to_body(&segs, false)).unwrap(), segs);
        assert_eq!(segs.iter().map(StoredSegment::length).sum::<u64>(), 15);
        let raw: Value = serde_json::from_slice(&to_body(&segs, true)).unwrap();
        assert_eq!(raw[1], json!({"path": "/c/b", "size_bytes": 10, "etag": "bb", "range": "2-5"}));
    }
}
