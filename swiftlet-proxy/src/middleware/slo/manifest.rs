//! SLO manifests as stored (`name`, `bytes`, `hash`, `content_type`, `last_modified`,
//! `range`, `sub_slo`, or `data`), plus the SLO ETag; what a client PUTs is `input.rs`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

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
