//! Listing formats: account and container GET/HEAD ask the storage nodes for JSON and
//! answer in the format the client wants (`format=` or `Accept`: plain text, JSON, XML),
//! as Swift's `listing_formats` does. Middlewares below see and adjust the JSON (SLO adds
//! `slo_etag`) without caring about the client's format.

use crate::error::{ProxyError, Result};
use crate::pipeline::step::{Next, Reply, Step};
use crate::pipeline::subrequest::query_param;
use crate::request::ProxyRequest;
use crate::route::Route;
use common::headers::{get, set};
use common::http::Body;
use http::{Method, Response, StatusCode};
use serde_json::{Map, Value};

pub(crate) struct ListingFormats;

/// Listings larger than this pass through untouched (Swift's limit is similar).
const MAX_LISTING_BYTES: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Plain,
    Json,
    Xml(&'static str),
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Plain => "text/plain; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
            Format::Xml(t) => t,
        }
    }
}

impl Step for ListingFormats {
    fn name(&self) -> &'static str {
        "listing_formats"
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            if !matches!(*req.method(), Method::GET | Method::HEAD) {
                return next.run(req).await;
            }
            let (account, container) = match &req.route {
                Route::Account { account } => (account.clone(), None),
                Route::Container { account, container } => (account.clone(), Some(container.clone())),
                _ => return next.run(req).await,
            };
            let format = wanted(&req)?;
            let can_vary = query_param(req.query(), "format").is_none();
            let mut req = req;
            let parts = &mut req.head;
            let mut query: Vec<String> = parts
                .uri
                .query()
                .map(|q| {
                    q.split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("format=")).map(str::to_string).collect()
                })
                .unwrap_or_default();
            query.push("format=json".into());
            let uri = format!("{}?{}", parts.uri.path(), query.join("&"));
            parts.uri = uri.parse().map_err(|_| ProxyError::BadRequest("Invalid query".into()))?;
            let head = parts.method == Method::HEAD;
            let resp = next.run(req).await?;
            convert(resp, format, can_vary, head, &account, container.as_deref()).await
        })
    }
}

/// The client's format: `format=` wins over `Accept`; nothing acceptable is a 406.
fn wanted(req: &ProxyRequest) -> Result<Format> {
    let accept = match query_param(req.query(), "format").map(|f| f.to_ascii_lowercase()) {
        Some(f) if f == "json" => "application/json".to_string(),
        Some(f) if f == "xml" => "application/xml".to_string(),
        Some(_) => "text/plain".to_string(),
        None => get(req.headers(), "accept").unwrap_or("*/*").to_string(),
    };
    let mut h = http::HeaderMap::new();
    set(&mut h, "accept", &accept);
    match crate::middleware::bulk::report::negotiate(&h) {
        Some(crate::middleware::bulk::report::Format::Plain) => Ok(Format::Plain),
        Some(crate::middleware::bulk::report::Format::Json) => Ok(Format::Json),
        Some(crate::middleware::bulk::report::Format::Xml) => {
            let text_xml = accept.to_ascii_lowercase().contains("text/xml") && !accept.contains("application/xml");
            Ok(Format::Xml(if text_xml { "text/xml; charset=utf-8" } else { "application/xml; charset=utf-8" }))
        }
        None => Err(ProxyError::NotAcceptable("Not Acceptable".into())),
    }
}

async fn convert(
    resp: Response<Body>,
    format: Format,
    can_vary: bool,
    head: bool,
    account: &str,
    container: Option<&str>,
) -> Result<Response<Body>> {
    let status = resp.status();
    if status != StatusCode::OK && status != StatusCode::NO_CONTENT {
        return Ok(resp);
    }
    let (mut parts, body) = resp.into_parts();
    if can_vary {
        let vary = match get(&parts.headers, "vary") {
            Some(v) if v.to_ascii_lowercase().split(',').any(|x| x.trim() == "accept") => v.to_string(),
            Some(v) => format!("{v}, Accept"),
            None => "Accept".to_string(),
        };
        set(&mut parts.headers, "vary", &vary);
    }
    let is_json = get(&parts.headers, "content-type").is_some_and(|ct| ct.starts_with("application/json"));
    if !is_json && status == StatusCode::OK {
        return Ok(Response::from_parts(parts, body));
    }
    set(&mut parts.headers, "content-type", format.content_type());
    if head {
        set(&mut parts.headers, "content-length", "0");
        return Ok(Response::from_parts(parts, common::http::empty()));
    }
    let bytes = crate::body::read_body(body, MAX_LISTING_BYTES).await?;
    if matches!(format, Format::Plain) {
        // The default format needs only the names: no map per row (listings are hot).
        if let Some(out) = plain_names(&bytes) {
            parts.status = if out.is_empty() { StatusCode::NO_CONTENT } else { StatusCode::OK };
            set(&mut parts.headers, "content-length", &out.len().to_string());
            return Ok(Response::from_parts(parts, common::http::full(out)));
        }
    }
    let listing: Vec<Map<String, Value>> = if bytes.is_empty() {
        Vec::new()
    } else {
        match serde_json::from_slice::<Vec<Value>>(&bytes) {
            Ok(items) => {
                items.into_iter().filter_map(|v| if let Value::Object(m) = v { Some(m) } else { None }).collect()
            }
            Err(_) => return Ok(Response::from_parts(parts, common::http::full(bytes))),
        }
    };
    let out = match format {
        Format::Json => python_json(&Value::Array(listing.into_iter().map(|m| with_policy(m, container)).collect())),
        Format::Plain => listing.iter().map(|m| format!("{}\n", name_of(m))).collect(),
        Format::Xml(_) => match container {
            Some(c) => container_xml(&listing, c),
            None => account_xml(&listing, account),
        },
    };
    parts.status = if out.is_empty() { StatusCode::NO_CONTENT } else { StatusCode::OK };
    set(&mut parts.headers, "content-length", &out.len().to_string());
    Ok(Response::from_parts(parts, common::http::full(out)))
}

/// Account listings name each container's storage policy (there is one).
/// One listing row as far as the plain format cares; other fields are skipped unparsed.
#[derive(serde::Deserialize)]
struct NameOnly<'a> {
    #[serde(borrow, default)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    subdir: Option<std::borrow::Cow<'a, str>>,
}

/// `name\n` per row of a JSON listing; `None` when the body is not a JSON listing.
fn plain_names(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return Some(String::new());
    }
    let rows: Vec<NameOnly> = serde_json::from_slice(bytes).ok()?;
    let mut out = String::with_capacity(rows.len() * 32);
    for row in &rows {
        out.push_str(row.name.as_deref().or(row.subdir.as_deref()).unwrap_or(""));
        out.push('\n');
    }
    Some(out)
}

fn with_policy(mut m: Map<String, Value>, container: Option<&str>) -> Value {
    if container.is_none() && m.contains_key("name") && !m.contains_key("storage_policy") {
        m.insert("storage_policy".into(), Value::String(crate::controllers::container::POLICY_NAME.into()));
    }
    Value::Object(m)
}

fn name_of(m: &Map<String, Value>) -> &str {
    m.get("name").or_else(|| m.get("subdir")).and_then(Value::as_str).unwrap_or("")
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => xml_escape(s),
        Some(Value::Null) | None => String::new(),
        Some(other) => xml_escape(&other.to_string()),
    }
}

fn account_xml(listing: &[Map<String, Value>], account: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"{}\">\n", xml_escape(account));
    for m in listing {
        if let Some(s) = m.get("subdir").and_then(Value::as_str) {
            out.push_str(&format!("<subdir name=\"{}\" />\n", xml_escape(s)));
            continue;
        }
        out.push_str("<container>");
        for f in ["name", "count", "bytes", "last_modified"] {
            out.push_str(&format!("<{f}>{}</{f}>", text(m.get(f))));
        }
        out.push_str(&format!("<storage_policy>{}</storage_policy>", crate::controllers::container::POLICY_NAME));
        out.push_str("</container>\n");
    }
    out.push_str("</account>");
    out
}

fn container_xml(listing: &[Map<String, Value>], container: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"{}\">", xml_escape(container));
    for m in listing {
        if let Some(s) = m.get("subdir").and_then(Value::as_str) {
            out.push_str(&format!("<subdir name=\"{0}\"><name>{0}</name></subdir>", xml_escape(s)));
            continue;
        }
        out.push_str("<object>");
        for f in ["name", "hash", "bytes", "content_type", "last_modified"] {
            out.push_str(&format!("<{f}>{}</{f}>", text(m.get(f))));
        }
        out.push_str("</object>");
    }
    out.push_str("</container>");
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JSON as Python's `json.dumps` writes it (what Swift sends): `", "` and `": "`
/// separators and non-ASCII characters escaped.
pub(crate) fn python_json(v: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter);
    // Serializing a Value into memory cannot fail.
    if serde::Serialize::serialize(v, &mut ser).is_err() {
        return v.to_string();
    }
    String::from_utf8(out).unwrap_or_else(|_| v.to_string())
}

struct PyFormatter;

impl serde_json::ser::Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_style_json() {
        assert_eq!(python_json(&json!([{"a": 1, "b": "é"}])), "[{\"a\": 1, \"b\": \"\\u00e9\"}]");
        assert_eq!(python_json(&json!(["😀"])), "[\"\\ud83d\\ude00\"]");
    }

    #[test]
    fn xml_forms() {
        let items: Vec<Map<String, Value>> = vec![
            json!({"name": "a&b", "count": 1, "bytes": 2, "last_modified": "t"}).as_object().unwrap().clone(),
            json!({"subdir": "d/"}).as_object().unwrap().clone(),
        ];
        let x = account_xml(&items, "AUTH_t");
        assert!(x.contains("<container><name>a&amp;b</name><count>1</count><bytes>2</bytes>"), "{x}");
        assert!(x.contains("<subdir name=\"d/\" />"), "{x}");
        let c = container_xml(&[json!({"subdir": "p/"}).as_object().unwrap().clone()], "c");
        assert!(c.ends_with("<subdir name=\"p/\"><name>p/</name></subdir></container>"), "{c}");
    }
}
