//! Bucket lifecycle rules, as S3 writes them and as Swift keeps them: parsing and
//! writing the configuration, which rule expires a key when, and the `x-amz-expiration`
//! an expiring object answers with.

use crate::error::{Result, S3Error};
use crate::signature::{format_iso8601, parse_amz_date};
use crate::xml::{self, XmlWriter};
use common::headers::get;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// Where a bucket's lifecycle rules are kept.
pub(crate) const SYSMETA_LIFECYCLE: &str = "x-container-sysmeta-s3api-lifecycle";
/// The id of the rule that set an object's `X-Delete-At`, for `x-amz-expiration` on reads.
pub(crate) const SYSMETA_EXPIRATION_RULE: &str = "x-object-sysmeta-s3api-expiration-rule";
const MAX_RULES: usize = 1000;
const MAX_ID_LEN: usize = 255;
pub(crate) const DAY: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rule {
    pub id: String,
    pub prefix: String,
    /// The prefix came in a `<Filter>` (written back the same way).
    pub filter: bool,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u64>,
    /// Seconds since the epoch (a midnight UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<u64>,
}

/// `2030-01-01T00:00:00Z`, with optional fraction and `+00:00`, or a bare date.
fn parse_date(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s.strip_suffix("+00:00").or_else(|| s.strip_suffix('Z')).unwrap_or(s);
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00"));
    let time = time.split('.').next()?;
    let compact = format!("{}T{}Z", date.replace('-', ""), time.replace(':', ""));
    parse_amz_date(&compact)
}

fn not_implemented(what: &str) -> S3Error {
    S3Error::NotImplemented(format!("lifecycle {what}"))
}

fn parse_rule(el: &xml::Element) -> Result<Rule> {
    let (mut id, mut prefix, mut filter, mut status, mut expiration) = (None, None, None, None, None);
    for c in &el.children {
        match c.name.as_str() {
            "ID" if id.is_none() => id = Some(c.text.trim().to_string()),
            "Prefix" if prefix.is_none() => prefix = Some(c.text.clone()),
            "Filter" if filter.is_none() => filter = Some(c),
            "Status" if status.is_none() => status = Some(c.text.trim().to_string()),
            "Expiration" if expiration.is_none() => expiration = Some(c),
            "Transition"
            | "NoncurrentVersionExpiration"
            | "NoncurrentVersionTransition"
            | "AbortIncompleteMultipartUpload" => return Err(not_implemented(&format!("{} actions", c.name))),
            _ => return Err(S3Error::MalformedXML),
        }
    }
    let (prefix, in_filter) = match (prefix, filter) {
        (Some(_), Some(_)) | (None, None) => return Err(S3Error::MalformedXML),
        (Some(p), None) => (p, false),
        (None, Some(f)) => {
            let mut p = None;
            for c in &f.children {
                match c.name.as_str() {
                    "Prefix" if p.is_none() => p = Some(c.text.clone()),
                    "Tag" | "And" | "ObjectSizeGreaterThan" | "ObjectSizeLessThan" => {
                        return Err(not_implemented("filters other than Prefix"))
                    }
                    _ => return Err(S3Error::MalformedXML),
                }
            }
            (p.unwrap_or_default(), true)
        }
    };
    let enabled = match status.as_deref() {
        Some("Enabled") => true,
        Some("Disabled") => false,
        _ => return Err(S3Error::MalformedXML),
    };
    let exp = expiration
        .ok_or_else(|| S3Error::InvalidRequest("At least one action needs to be specified in a rule".into()))?;
    let (mut days, mut date) = (None, None);
    for c in &exp.children {
        match c.name.as_str() {
            "Days" if days.is_none() => {
                let d = c.text.trim().parse::<u64>().ok().filter(|d| (1..=365_000).contains(d));
                days = Some(d.ok_or_else(|| {
                    S3Error::InvalidArgument("'Days' for Expiration action must be a positive integer".into())
                })?);
            }
            "Date" if date.is_none() => {
                let t = parse_date(&c.text).ok_or(S3Error::MalformedXML)?;
                if t % DAY != 0 {
                    return Err(S3Error::InvalidArgument("'Date' must be at midnight GMT".into()));
                }
                date = Some(t);
            }
            "ExpiredObjectDeleteMarker" => return Err(not_implemented("ExpiredObjectDeleteMarker")),
            _ => return Err(S3Error::MalformedXML),
        }
    }
    if days.is_some() == date.is_some() {
        return Err(S3Error::MalformedXML);
    }
    let id = match id {
        Some(id) if id.len() > MAX_ID_LEN => {
            return Err(S3Error::InvalidArgument(format!("ID length should not exceed allowed limit of {MAX_ID_LEN}")))
        }
        Some(id) if !id.is_empty() => id,
        // S3 names a rule sent without an id.
        _ => crate::uploads::new_upload_id(),
    };
    Ok(Rule { id, prefix, filter: in_filter, enabled, days, date })
}

/// A `LifecycleConfiguration` document, validated as S3 does.
pub(crate) fn parse_config(doc: &[u8]) -> Result<Vec<Rule>> {
    let root = xml::parse(doc)?;
    if root.name != "LifecycleConfiguration" || root.children.iter().any(|c| c.name != "Rule") {
        return Err(S3Error::MalformedXML);
    }
    if root.children.is_empty() || root.children.len() > MAX_RULES {
        return Err(S3Error::MalformedXML);
    }
    let rules = root.children.iter().map(parse_rule).collect::<Result<Vec<Rule>>>()?;
    for (i, r) in rules.iter().enumerate() {
        if rules[..i].iter().any(|o| o.id == r.id) {
            return Err(S3Error::InvalidArgument(
                "Rule ID must be unique. Found same ID for more than one rule".into(),
            ));
        }
    }
    Ok(rules)
}

/// The rules as a GetBucketLifecycleConfiguration document.
pub(crate) fn to_xml(rules: &[Rule]) -> String {
    let mut x = XmlWriter::new();
    x.root("LifecycleConfiguration");
    for r in rules {
        x.open("Rule");
        x.elem("ID", &r.id);
        if r.filter {
            x.open("Filter");
            x.elem("Prefix", &r.prefix);
            x.close("Filter");
        } else {
            x.elem("Prefix", &r.prefix);
        }
        x.elem("Status", if r.enabled { "Enabled" } else { "Disabled" });
        x.open("Expiration");
        if let Some(d) = r.days {
            x.elem("Days", &d.to_string());
        }
        if let Some(t) = r.date {
            x.elem("Date", &format_iso8601(t, 0));
        }
        x.close("Expiration");
        x.close("Rule");
    }
    x.close("LifecycleConfiguration");
    x.finish()
}

/// When an object written at `now` under `key` expires, and by which rule: the earliest
/// of the enabled rules matching it. `Days` count from the write, rounded up to the next
/// midnight UTC, as S3 does.
pub(crate) fn expiry<'a>(rules: &'a [Rule], key: &str, now: u64) -> Option<(u64, &'a Rule)> {
    rules
        .iter()
        .filter(|r| r.enabled && key.starts_with(&r.prefix))
        .filter_map(|r| {
            let at = match (r.days, r.date) {
                (Some(d), _) => (now + d * DAY).div_ceil(DAY) * DAY,
                (None, Some(t)) => t,
                (None, None) => return None,
            };
            Some((at, r))
        })
        .min_by_key(|(at, _)| *at)
}

/// The `x-amz-expiration` value for an expiry.
pub(crate) fn expiration_header(at: u64, rule_id: &str) -> String {
    let date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at));
    format!("expiry-date=\"{date}\", rule-id=\"{}\"", rule_id.replace(['"', '\\'], ""))
}

/// `x-amz-expiration` for an object's stored headers (GET/HEAD), if a rule expires it.
pub(crate) fn expiration_of_object(swift: &HeaderMap) -> Option<String> {
    let at = get(swift, "x-delete-at")?.parse::<u64>().ok()?;
    let rule = get(swift, SYSMETA_EXPIRATION_RULE).filter(|r| !r.is_empty())?;
    Some(expiration_header(at, rule))
}

pub(crate) fn rules_of(h: &HeaderMap) -> Option<Vec<Rule>> {
    let v = get(h, SYSMETA_LIFECYCLE).filter(|v| !v.is_empty())?;
    match serde_json::from_str(v) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "unreadable stored lifecycle configuration");
            None
        }
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::headers::set;

    fn doc(rules: &str) -> String {
        format!("<LifecycleConfiguration xmlns=\"{}\">{rules}</LifecycleConfiguration>", xml::S3_NS)
    }

    #[test]
    fn parses_and_round_trips() {
        let d = doc("<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
                     <Expiration><Days>3</Days></Expiration></Rule>\
                     <Rule><ID>old</ID><Prefix>tmp/</Prefix><Status>Disabled</Status>\
                     <Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>\
                     <Rule><Filter/><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>");
        let rules = parse_config(d.as_bytes()).unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!((rules[0].prefix.as_str(), rules[0].filter, rules[0].days), ("logs/", true, Some(3)));
        assert_eq!((rules[1].filter, rules[1].enabled), (false, false));
        assert_eq!(rules[1].date, parse_date("2030-01-01"));
        assert_eq!(rules[2].prefix, "");
        assert!(!rules[2].id.is_empty());
        assert_eq!(parse_config(to_xml(&rules).as_bytes()).unwrap(), rules);
    }

    #[test]
    fn refuses_what_s3_refuses() {
        let one = |body: &str| parse_config(doc(&format!("<Rule>{body}</Rule>")).as_bytes());
        let exp = "<Expiration><Days>1</Days></Expiration>";
        assert!(matches!(one(&format!("<Prefix/><Status>Maybe</Status>{exp}")), Err(S3Error::MalformedXML)));
        assert!(matches!(one(&format!("<Status>Enabled</Status>{exp}")), Err(S3Error::MalformedXML)));
        assert!(matches!(one(&format!("<Prefix/><Filter/><Status>Enabled</Status>{exp}")), Err(S3Error::MalformedXML)));
        assert!(matches!(one("<Prefix/><Status>Enabled</Status>"), Err(S3Error::InvalidRequest(_))));
        let days0 = "<Prefix/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>";
        assert!(matches!(one(days0), Err(S3Error::InvalidArgument(_))));
        let noon = "<Prefix/><Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>";
        assert!(matches!(one(noon), Err(S3Error::InvalidArgument(_))));
        let both = "<Prefix/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01</Date></Expiration>";
        assert!(matches!(one(both), Err(S3Error::MalformedXML)));
        let tr = "<Prefix/><Status>Enabled</Status><Transition><Days>1</Days></Transition>";
        assert!(matches!(one(tr), Err(S3Error::NotImplemented(_))));
        let tag = format!("<Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status>{exp}");
        assert!(matches!(one(&tag), Err(S3Error::NotImplemented(_))));
        let dup = format!("<Rule><ID>a</ID><Prefix/><Status>Enabled</Status>{exp}</Rule>").repeat(2);
        assert!(matches!(parse_config(doc(&dup).as_bytes()), Err(S3Error::InvalidArgument(_))));
        assert!(matches!(parse_config(doc("").as_bytes()), Err(S3Error::MalformedXML)));
    }

    #[test]
    fn earliest_matching_enabled_rule_wins() {
        let rule = |id: &str, prefix: &str, enabled, days, date| Rule {
            id: id.into(),
            prefix: prefix.into(),
            filter: true,
            enabled,
            days,
            date,
        };
        let rules = [
            rule("long", "", true, Some(30), None),
            rule("logs", "logs/", true, Some(1), None),
            rule("off", "", false, Some(1), None),
            rule("fixed", "tmp/", true, None, Some(10 * DAY)),
        ];
        let now = 5 * DAY + 3600;
        let (at, r) = expiry(&rules, "logs/a", now).unwrap();
        assert_eq!((at, r.id.as_str()), (7 * DAY, "logs"));
        assert_eq!(expiry(&rules, "x", now).map(|(a, r)| (a, r.id.as_str())), Some((36 * DAY, "long")));
        assert_eq!(expiry(&rules, "tmp/x", now).map(|(a, r)| (a, r.id.as_str())), Some((10 * DAY, "fixed")));
        assert!(expiry(&rules[2..3], "x", now).is_none());
        assert_eq!(expiry(&rules[1..2], "logs/a", 6 * DAY).map(|x| x.0), Some(7 * DAY));
    }

    #[test]
    fn expiration_headers() {
        assert_eq!(expiration_header(0, "r\"1"), "expiry-date=\"Thu, 01 Jan 1970 00:00:00 GMT\", rule-id=\"r1\"");
        let mut h = HeaderMap::new();
        set(&mut h, "x-delete-at", "86400");
        assert!(expiration_of_object(&h).is_none());
        set(&mut h, SYSMETA_EXPIRATION_RULE, "r");
        assert!(expiration_of_object(&h).unwrap().starts_with("expiry-date=\"Fri, 02 Jan 1970"));
    }
}
