//! The result report bulk operations return (bulk delete, SLO manifest upload and
//! delete), in the format the client's `Accept` asks for, as Swift writes it.

use http::HeaderMap;
use serde_json::{Map, Value};

/// The formats a report can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Plain,
    Json,
    Xml,
}

impl Format {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Plain => "text/plain",
            Format::Json => "application/json",
            Format::Xml => "application/xml",
        }
    }
}

/// The best of text/plain, application/json, application/xml, text/xml for `Accept`
/// (quality values honoured); `None` when the client accepts none of them.
pub(crate) fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Format::Plain);
    };
    let offers = [
        ("text/plain", Format::Plain),
        ("application/json", Format::Json),
        ("application/xml", Format::Xml),
        ("text/xml", Format::Xml),
    ];
    let mut best: Option<(f32, usize, Format)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let mime = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts.filter_map(|p| p.strip_prefix("q=")).filter_map(|q| q.parse::<f32>().ok()).next().unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        for (i, (offer, f)) in offers.iter().enumerate() {
            let (ot, os) = offer.split_once('/').unwrap_or((offer, ""));
            let (mt, ms) = mime.split_once('/').unwrap_or((&mime, ""));
            let matches = mime == "*/*" || (mt == ot && (ms == "*" || ms == os));
            if matches && best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                best = Some((q, i, *f));
            }
        }
    }
    best.map(|(_, _, f)| f)
}

/// A finished bulk operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    /// `(key, value)` lines such as `Number Deleted`, `Response Status`.
    pub fields: Vec<(String, Value)>,
    /// `(quoted name, status)` of what failed.
    pub errors: Vec<(String, String)>,
}

impl Report {
    /// A delete's report before any work: 200, nothing deleted yet.
    pub(crate) fn for_delete() -> Report {
        let mut report = Report::default();
        report.set("Response Status", status_line(http::StatusCode::OK));
        report.set("Response Body", "");
        report.set("Number Deleted", 0);
        report.set("Number Not Found", 0);
        report
    }

    pub(crate) fn set(&mut self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key.to_string(), value)),
        }
    }

    /// The body; `root` names the XML root element (`delete`, `upload`).
    pub(crate) fn render(&self, format: Format, root: &str) -> String {
        let mut fields = self.fields.clone();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match format {
            Format::Json => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert(k, v);
                }
                let errs: Vec<Value> =
                    self.errors.iter().map(|(n, s)| Value::Array(vec![n.clone().into(), s.clone().into()])).collect();
                m.insert("Errors".into(), Value::Array(errs));
                Value::Object(m).to_string()
            }
            Format::Xml => {
                let mut out = format!("<{root}>\n");
                for (k, v) in &fields {
                    let tag = k.replace(' ', "_").to_lowercase();
                    out.push_str(&format!("<{tag}>{}</{tag}>\n", escape(&text(v))));
                }
                out.push_str("<errors>\n");
                for (n, s) in &self.errors {
                    out.push_str(&format!(
                        "<object><name>{}</name><status>{}</status></object>\n",
                        escape(n),
                        escape(s)
                    ));
                }
                out.push_str(&format!("</errors>\n</{root}>\n"));
                out
            }
            Format::Plain => {
                let mut out = String::new();
                for (k, v) in &fields {
                    out.push_str(&format!("{k}: {}\n", text(v)));
                }
                out.push_str("Errors:\n");
                for (n, s) in &self.errors {
                    out.push_str(&format!("{n}, {s}\n"));
                }
                out
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `404 Not Found`, the way Swift prints a status in reports.
pub(crate) fn status_line(status: http::StatusCode) -> String {
    format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::ACCEPT, v.parse().unwrap());
        h
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Format::Plain));
        assert_eq!(negotiate(&accept("application/json")), Some(Format::Json));
        assert_eq!(negotiate(&accept("text/xml")), Some(Format::Xml));
        assert_eq!(negotiate(&accept("*/*")), Some(Format::Plain));
        assert_eq!(negotiate(&accept("text/plain;q=0.5, application/json")), Some(Format::Json));
        assert_eq!(negotiate(&accept("image/png")), None);
    }

    #[test]
    fn renders_like_swift() {
        let mut r = Report::default();
        r.set("Number Deleted", 2);
        r.set("Response Status", "400 Bad Request");
        r.errors.push(("/c/o".into(), "409 Conflict".into()));
        assert_eq!(
            r.render(Format::Plain, "delete"),
            "Number Deleted: 2\nResponse Status: 400 Bad Request\nErrors:\n/c/o, 409 Conflict\n"
        );
        let j: Value = serde_json::from_str(&r.render(Format::Json, "delete")).unwrap();
        assert_eq!(j["Errors"][0][1], "409 Conflict");
        assert!(r.render(Format::Xml, "delete").contains("<number_deleted>2</number_deleted>"));
    }
}
