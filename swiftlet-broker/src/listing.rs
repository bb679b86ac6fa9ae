//! Account and container listings on the wire: query parameters (strictly UTF-8), the
//! output format (`format=` or `Accept`), and the plain, JSON and XML bodies in Swift's
//! shapes.

use crate::rows::split_swift_bytes;
use crate::{ContainerEntry, Entry, ListParams, ObjectEntry};
use common::headers::is_true;
use common::timestamp::{iso8601, Iso8601};
use percent_encoding::percent_decode;
use serde::Serialize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListingError {
    #[error("{0:?} parameter not valid UTF-8 or contains NUL")]
    BadEncoding(String),
    #[error("Invalid format {0:?}: use plain, json or xml")]
    UnknownFormat(String),
    #[error("Maximum limit is {0}")]
    LimitTooLarge(usize),
    #[error("No acceptable listing format")]
    NotAcceptable,
}

/// The body format of a listing; `Xml` keeps which XML type the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingFormat {
    Plain,
    Json,
    Xml(&'static str),
}

impl ListingFormat {
    pub fn content_type(self) -> String {
        let base = match self {
            ListingFormat::Plain => "text/plain",
            ListingFormat::Json => "application/json",
            ListingFormat::Xml(t) => t,
        };
        format!("{base}; charset=utf-8")
    }
}

/// Decoded query parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string; a value that is not UTF-8 is refused, and so is a name
    /// holding NUL. Values may hold NUL: clients page with `marker=<name>\0`, as Swift allows.
    pub fn parse(raw: Option<&str>) -> Result<Query, ListingError> {
        let mut out = Vec::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| -> Option<String> {
                let bytes: Vec<u8> = s.bytes().map(|b| if b == b'+' { b' ' } else { b }).collect();
                Some(percent_decode(&bytes).decode_utf8().ok()?.into_owned())
            };
            let bad_key = || ListingError::BadEncoding(k.chars().take(64).collect());
            let key = decode(k).filter(|k| !k.contains('\0')).ok_or_else(bad_key)?;
            let value = decode(v).ok_or_else(|| ListingError::BadEncoding(key.clone()))?;
            out.push((key, value));
        }
        Ok(Query(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// The listing parameters of a request; `limit` defaults to (and may not exceed) `max`.
pub fn list_params(q: &Query, max: usize) -> Result<ListParams, ListingError> {
    let limit = match q.get("limit") {
        Some(l) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
            let n: usize = l.parse().unwrap_or(usize::MAX);
            if n > max {
                return Err(ListingError::LimitTooLarge(max));
            }
            n
        }
        _ => max,
    };
    let opt = |name: &str| q.get(name).filter(|v| !v.is_empty()).map(str::to_string);
    Ok(ListParams {
        limit,
        marker: q.get("marker").unwrap_or("").to_string(),
        end_marker: opt("end_marker"),
        prefix: opt("prefix"),
        delimiter: opt("delimiter"),
        path: q.get("path").map(str::to_string),
        reverse: q.get("reverse").is_some_and(is_true),
    })
}

/// What a HEAD or GET of a listing asks for: the answer's format and, for a GET, the
/// listing parameters (at most `max` rows).
#[derive(Debug)]
pub struct ListingRequest {
    pub format: ListingFormat,
    pub params: Option<ListParams>,
}

impl ListingRequest {
    pub fn parse(uri: &http::Uri, headers: &http::HeaderMap, max: usize, get: bool) -> Result<Self, ListingError> {
        let q = Query::parse(uri.query())?;
        let accept = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok());
        let format = negotiate(q.get("format"), accept)?;
        let params = if get { Some(list_params(&q, max)?) } else { None };
        Ok(ListingRequest { format, params })
    }
}

const OFFERS: [&str; 4] = ["text/plain", "application/json", "application/xml", "text/xml"];

/// Picks the listing format: `format=` wins over `Accept`; no `Accept` means plain.
pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Result<ListingFormat, ListingError> {
    if let Some(f) = format.filter(|f| !f.is_empty()) {
        return match f.to_ascii_lowercase().as_str() {
            "plain" => Ok(ListingFormat::Plain),
            "json" => Ok(ListingFormat::Json),
            "xml" => Ok(ListingFormat::Xml("application/xml")),
            _ => Err(ListingError::UnknownFormat(f.chars().take(32).collect())),
        };
    }
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else { return Ok(ListingFormat::Plain) };
    // Each offer gets the q of the most specific range matching it.
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let range = it.next()?.trim().to_ascii_lowercase();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!range.is_empty()).then_some((range, q))
        })
        .collect();
    let score = |offer: &str| -> f32 {
        let (otype, _) = offer.split_once('/').unwrap_or((offer, ""));
        let mut best: Option<(u8, f32)> = None;
        for (range, q) in &ranges {
            let specificity = if range == offer {
                3
            } else if range.strip_suffix("/*") == Some(otype) {
                2
            } else if range == "*/*" || range == "*" {
                1
            } else {
                continue;
            };
            if !matches!(best, Some((s, _)) if s >= specificity) {
                best = Some((specificity, *q));
            }
        }
        best.map(|(_, q)| q).unwrap_or(0.0)
    };
    let mut chosen: Option<(&str, f32)> = None;
    for offer in OFFERS {
        let q = score(offer);
        if q > 0.0 && !matches!(chosen, Some((_, best)) if best >= q) {
            chosen = Some((offer, q));
        }
    }
    match chosen.map(|(o, _)| o) {
        Some("text/plain") => Ok(ListingFormat::Plain),
        Some("application/json") => Ok(ListingFormat::Json),
        Some("application/xml") => Ok(ListingFormat::Xml("application/xml")),
        Some(_) => Ok(ListingFormat::Xml("text/xml")),
        None => Err(ListingError::NotAcceptable),
    }
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn xml_attr(s: &str) -> String {
    xml_text(s).replace('"', "&quot;").replace('\n', "&#10;")
}

#[derive(Serialize)]
#[serde(untagged)]
enum JsonObject<'a> {
    Object { bytes: u64, hash: &'a str, name: &'a str, content_type: &'a str, last_modified: Iso8601 },
    Subdir { subdir: &'a str },
}

#[derive(Serialize)]
#[serde(untagged)]
enum JsonContainer<'a> {
    Container { name: &'a str, count: i64, bytes: i64, last_modified: String },
    Subdir { subdir: &'a str },
}

/// An object's listed size and type: a manifest's `swift_bytes` overrides its size.
fn listed(o: &ObjectEntry) -> (u64, &str) {
    match split_swift_bytes(&o.content_type) {
        (base, Some(n)) => (n.parse().unwrap_or(o.size), base),
        (base, None) => (o.size, base),
    }
}

/// A container listing body. Plain with no entries is empty (the server answers 204).
pub fn render_objects(entries: &[Entry<ObjectEntry>], format: ListingFormat, container: &str) -> Vec<u8> {
    match format {
        ListingFormat::Plain => plain(entries.iter().map(|e| match e {
            Entry::Item(o) => o.name.as_str(),
            Entry::Subdir(s) => s.as_str(),
        })),
        ListingFormat::Json => {
            let items: Vec<JsonObject> = entries
                .iter()
                .map(|e| match e {
                    Entry::Item(o) => {
                        let (bytes, content_type) = listed(o);
                        JsonObject::Object {
                            bytes,
                            hash: &o.etag,
                            name: &o.name,
                            content_type,
                            last_modified: Iso8601(o.last_modified),
                        }
                    }
                    Entry::Subdir(s) => JsonObject::Subdir { subdir: s },
                })
                .collect();
            serde_json::to_vec(&items).unwrap_or_else(|_| b"[]".to_vec())
        }
        ListingFormat::Xml(_) => {
            let mut out =
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"{}\">", xml_attr(container));
            for e in entries {
                match e {
                    Entry::Item(o) => {
                        let (bytes, content_type) = listed(o);
                        out.push_str(&format!(
                            "<object><name>{}</name><hash>{}</hash><bytes>{bytes}</bytes><content_type>{}</content_type><last_modified>{}</last_modified></object>",
                            xml_text(&o.name),
                            xml_text(&o.etag),
                            xml_text(content_type),
                            Iso8601(o.last_modified)
                        ));
                    }
                    Entry::Subdir(s) => {
                        out.push_str(&format!("<subdir name=\"{}\"><name>{}</name></subdir>", xml_attr(s), xml_text(s)))
                    }
                }
            }
            out.push_str("</container>");
            out.into_bytes()
        }
    }
}

/// An account listing body.
pub fn render_containers(entries: &[Entry<ContainerEntry>], format: ListingFormat, account: &str) -> Vec<u8> {
    match format {
        ListingFormat::Plain => plain(entries.iter().map(|e| match e {
            Entry::Item(c) => c.name.as_str(),
            Entry::Subdir(s) => s.as_str(),
        })),
        ListingFormat::Json => {
            let items: Vec<JsonContainer> = entries
                .iter()
                .map(|e| match e {
                    Entry::Item(c) => JsonContainer::Container {
                        name: &c.name,
                        count: c.object_count,
                        bytes: c.bytes_used,
                        last_modified: iso8601(c.put_timestamp),
                    },
                    Entry::Subdir(s) => JsonContainer::Subdir { subdir: s },
                })
                .collect();
            serde_json::to_vec(&items).unwrap_or_else(|_| b"[]".to_vec())
        }
        ListingFormat::Xml(_) => {
            let mut out =
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"{}\">\n", xml_attr(account));
            for e in entries {
                match e {
                    Entry::Item(c) => out.push_str(&format!(
                        "<container><name>{}</name><count>{}</count><bytes>{}</bytes><last_modified>{}</last_modified></container>\n",
                        xml_text(&c.name),
                        c.object_count,
                        c.bytes_used,
                        iso8601(c.put_timestamp)
                    )),
                    Entry::Subdir(s) => out.push_str(&format!("<subdir name=\"{}\" />\n", xml_attr(s))),
                }
            }
            out.push_str("</account>");
            out.into_bytes()
        }
    }
}

fn plain<'a>(names: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        out.extend_from_slice(n.as_bytes());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_like_swift() {
        use ListingFormat::*;
        assert_eq!(negotiate(None, None), Ok(Plain));
        assert_eq!(negotiate(Some("JSON"), Some("application/xml")), Ok(Json));
        assert_eq!(negotiate(Some("xml"), None), Ok(Xml("application/xml")));
        assert_eq!(negotiate(None, Some("application/json")), Ok(Json));
        assert_eq!(negotiate(None, Some("text/xml")), Ok(Xml("text/xml")));
        assert_eq!(negotiate(None, Some("*/*")), Ok(Plain));
        assert_eq!(negotiate(None, Some("application/*;q=0.9, text/plain;q=0.5")), Ok(Json));
        assert_eq!(negotiate(None, Some("text/*;q=0.2, application/json;q=0.1")), Ok(Plain));
        assert_eq!(negotiate(None, Some("image/png")), Err(ListingError::NotAcceptable));
        assert!(matches!(negotiate(Some("yaml"), None), Err(ListingError::UnknownFormat(_))));
    }

    #[test]
    fn query_is_strict() {
        let q = Query::parse(Some("prefix=a%2Fb+c&reverse=on&limit=5")).unwrap();
        assert_eq!(q.get("prefix"), Some("a/b c"));
        let p = list_params(&q, 10_000).unwrap();
        assert!(p.reverse && p.limit == 5);
        assert!(matches!(Query::parse(Some("marker=%ff")), Err(ListingError::BadEncoding(_))));
        assert_eq!(Query::parse(Some("marker=a%00")).unwrap().get("marker"), Some("a\0"));
        assert!(matches!(Query::parse(Some("a%00=b")), Err(ListingError::BadEncoding(_))));
        let big = Query::parse(Some("limit=10001")).unwrap();
        assert_eq!(list_params(&big, 10_000), Err(ListingError::LimitTooLarge(10_000)));
        assert_eq!(list_params(&Query::parse(Some("limit=-3")).unwrap(), 10_000).unwrap().limit, 10_000);
    }

    #[test]
    fn bodies() {
        let o = ObjectEntry {
            name: "a<&>".into(),
            last_modified: "1700000000".parse().unwrap(),
            size: 0,
            content_type: "text/plain;swift_bytes=42".into(),
            etag: "e".into(),
        };
        let entries = vec![Entry::Item(o), Entry::Subdir("d/".into())];
        let json: serde_json::Value =
            serde_json::from_slice(&render_objects(&entries, ListingFormat::Json, "c")).unwrap();
        assert_eq!(json[0]["bytes"], 42);
        assert_eq!(json[0]["content_type"], "text/plain");
        assert_eq!(json[0]["last_modified"], "2023-11-14T22:13:20.000000");
        assert_eq!(json[1]["subdir"], "d/");
        let xml = String::from_utf8(render_objects(&entries, ListingFormat::Xml("application/xml"), "c")).unwrap();
        assert!(
            xml.contains("<name>a&lt;&amp;&gt;</name>") && xml.contains("<subdir name=\"d/\"><name>d/</name></subdir>")
        );
        assert_eq!(render_objects(&entries, ListingFormat::Plain, "c"), b"a<&>\nd/\n");
        assert!(render_objects(&[], ListingFormat::Plain, "c").is_empty());
    }
}
