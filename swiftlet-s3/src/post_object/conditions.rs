//! The policy document of a browser upload (POST Object): base64 JSON with an
//! `expiration` and `conditions`, each form field checked against them as S3 does.

use serde_json::Value;

/// One condition of a POST policy (field names lower-case, without `$`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormCondition {
    /// `{"field": "value"}` or `["eq", "$field", "value"]`.
    Eq { field: String, value: String },
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith { field: String, prefix: String },
    /// `["content-length-range", min, max]`: the file's size in bytes.
    LengthRange { min: u64, max: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostPolicy {
    /// Seconds since the epoch.
    pub expiration: u64,
    pub conditions: Vec<FormCondition>,
}

/// Conditions per policy (a 20 KiB document holds far fewer).
const MAX_CONDITIONS: usize = 256;

/// Why the document could not be read (S3's InvalidPolicyDocument).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid Policy: {0}")]
pub(crate) struct InvalidPolicy(pub String);

/// Why a form does not satisfy its policy (after "Invalid according to Policy: ").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Violation(pub String);

fn invalid<T>(why: &str) -> Result<T, InvalidPolicy> {
    Err(InvalidPolicy(why.to_string()))
}

/// Parses the decoded (JSON) policy document.
pub(crate) fn parse(doc: &[u8]) -> Result<PostPolicy, InvalidPolicy> {
    let root: Value = serde_json::from_slice(doc).map_err(|_| InvalidPolicy("Invalid JSON.".into()))?;
    let root = root.as_object().ok_or_else(|| InvalidPolicy("Invalid JSON.".into()))?;
    let expiration = match root.get("expiration") {
        Some(Value::String(s)) => parse_iso8601(s).ok_or_else(|| InvalidPolicy("Invalid 'expiration' value".into()))?,
        _ => return invalid("Policy missing expiration."),
    };
    let list = match root.get("conditions") {
        Some(Value::Array(list)) => list,
        _ => return invalid("Policy missing conditions."),
    };
    if list.len() > MAX_CONDITIONS {
        return invalid("Too many conditions.");
    }
    let mut conditions = Vec::new();
    for c in list {
        match c {
            Value::Object(map) => {
                for (field, value) in map {
                    let value =
                        value.as_str().ok_or_else(|| InvalidPolicy("Condition values must be strings".into()))?;
                    conditions.push(FormCondition::Eq { field: field.to_ascii_lowercase(), value: value.to_string() });
                }
            }
            Value::Array(items) => conditions.push(array_condition(items)?),
            _ => return invalid("Each condition must be an object or an array."),
        }
    }
    Ok(PostPolicy { expiration, conditions })
}

fn array_condition(items: &[Value]) -> Result<FormCondition, InvalidPolicy> {
    let op = items.first().and_then(Value::as_str).map(str::to_ascii_lowercase);
    match (op.as_deref(), items.len()) {
        (Some("content-length-range"), 3) => {
            let num = |v: &Value| {
                v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())).ok_or_else(|| {
                    InvalidPolicy("content-length-range bounds must be non-negative integers".into())
                })
            };
            let (min, max) = (num(&items[1])?, num(&items[2])?);
            Ok(FormCondition::LengthRange { min, max })
        }
        (Some(op @ ("eq" | "starts-with")), 3) => {
            let field = items[1].as_str().and_then(|f| f.strip_prefix('$')).map(str::to_ascii_lowercase);
            let Some(field) = field.filter(|f| !f.is_empty()) else {
                return invalid("Condition field names must start with $");
            };
            let value = items[2].as_str().ok_or_else(|| InvalidPolicy("Condition values must be strings".into()))?;
            Ok(if op == "eq" {
                FormCondition::Eq { field, value: value.to_string() }
            } else {
                FormCondition::StartsWith { field, prefix: value.to_string() }
            })
        }
        _ => invalid("Invalid condition: expected [\"eq\"|\"starts-with\", \"$field\", value] or [\"content-length-range\", min, max]"),
    }
}

/// Form fields no condition needs to name (S3's list, and `x-ignore-*`).
fn exempt(field: &str) -> bool {
    matches!(field, "policy" | "x-amz-signature" | "signature" | "awsaccesskeyid" | "file")
        || field.starts_with("x-ignore-")
}

impl PostPolicy {
    /// Checks every condition against the form's fields (names lower-case) and the
    /// bucket the URL names, and that every field is named by some condition; the file's
    /// size is checked as it streams, against [`Self::length_range`].
    pub(crate) fn check(&self, fields: &[(String, String)], bucket: &str, now: u64) -> Result<(), Violation> {
        if now >= self.expiration {
            return Err(Violation("Policy expired.".into()));
        }
        let value_of = |field: &str| -> Option<&str> {
            if field == "bucket" {
                return Some(bucket);
            }
            fields.iter().find(|(n, _)| n == field).map(|(_, v)| v.as_str())
        };
        for c in &self.conditions {
            let holds = match c {
                FormCondition::Eq { field, value } => value_of(field) == Some(value.as_str()),
                FormCondition::StartsWith { field, prefix } if field == "content-type" => value_of(field)
                    .is_some_and(|v| v.split(',').all(|part| part.trim_start().starts_with(prefix.as_str()))),
                FormCondition::StartsWith { field, prefix } => {
                    value_of(field).is_some_and(|v| v.starts_with(prefix.as_str())) || prefix.is_empty()
                }
                FormCondition::LengthRange { .. } => true,
            };
            if !holds {
                return Err(Violation(format!("Policy Condition failed: {}", describe(c))));
            }
        }
        let named = |field: &str| {
            self.conditions.iter().any(|c| match c {
                FormCondition::Eq { field: f, .. } | FormCondition::StartsWith { field: f, .. } => f == field,
                FormCondition::LengthRange { .. } => false,
            })
        };
        let extra: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).filter(|n| !exempt(n) && !named(n)).collect();
        if !extra.is_empty() {
            return Err(Violation(format!("Extra input fields: {}", extra.join(", "))));
        }
        Ok(())
    }

    /// The narrowest `content-length-range` (every one must hold).
    pub(crate) fn length_range(&self) -> Option<(u64, u64)> {
        self.conditions.iter().fold(None, |acc, c| match (c, acc) {
            (FormCondition::LengthRange { min, max }, None) => Some((*min, *max)),
            (FormCondition::LengthRange { min, max }, Some((lo, hi))) => Some((lo.max(*min), hi.min(*max))),
            (_, acc) => acc,
        })
    }
}

fn describe(c: &FormCondition) -> String {
    match c {
        FormCondition::Eq { field, value } => format!("[\"eq\", \"${field}\", \"{value}\"]"),
        FormCondition::StartsWith { field, prefix } => format!("[\"starts-with\", \"${field}\", \"{prefix}\"]"),
        FormCondition::LengthRange { min, max } => format!("[\"content-length-range\", {min}, {max}]"),
    }
}

/// `2024-01-01T12:00:00Z` or with fractional seconds (`.000Z`), to seconds.
pub(crate) fn parse_iso8601(s: &str) -> Option<u64> {
    // ASCII only: the slices below then always fall on character boundaries.
    let b = s.as_bytes();
    if !s.is_ascii() || b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':'
    {
        return None;
    }
    let rest = &s[19..];
    let frac_ok = match rest.strip_suffix('Z') {
        Some("") => true,
        Some(f) => f.len() >= 2 && f.starts_with('.') && f[1..].bytes().all(|c| c.is_ascii_digit()),
        None => false,
    };
    if !frac_ok {
        return None;
    }
    let compact = format!("{}{}{}T{}{}{}Z", &s[0..4], &s[5..7], &s[8..10], &s[11..13], &s[14..16], &s[17..19]);
    crate::signature::parse_amz_date(&compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const DOC: &str = r#"{"expiration":"2030-01-01T00:00:00.000Z","conditions":[
        {"bucket":"photos"},["starts-with","$key","user/"],{"acl":"public-read"},
        ["content-length-range",1,1048576],["starts-with","$Content-Type","image/"],
        ["eq","$x-amz-meta-tag","cats"],{"success_action_status":"201"}]}"#;

    fn good() -> Vec<(String, String)> {
        fields(&[
            ("key", "user/${filename}"),
            ("acl", "public-read"),
            ("content-type", "image/jpeg"),
            ("x-amz-meta-tag", "cats"),
            ("success_action_status", "201"),
            ("policy", "..."),
            ("x-ignore-me", "1"),
        ])
    }

    #[test]
    fn every_condition_holds_or_is_named() {
        let p = parse(DOC.as_bytes()).unwrap();
        assert_eq!(p.expiration, 1_893_456_000);
        assert_eq!(p.length_range(), Some((1, 1_048_576)));
        let now = 1_700_000_000;
        p.check(&good(), "photos", now).unwrap();
        assert_eq!(p.check(&good(), "photos", p.expiration).unwrap_err().0, "Policy expired.");
        assert!(p.check(&good(), "other", now).unwrap_err().0.contains("$bucket"));
        let replace = |name: &str, value: &str| {
            good().into_iter().map(|(n, v)| if n == name { (n, value.to_string()) } else { (n, v) }).collect::<Vec<_>>()
        };
        for (name, value, failing) in [
            ("key", "other/x", "$key"),
            ("acl", "private", "$acl"),
            ("content-type", "text/plain", "$content-type"),
            ("content-type", "image/png, text/html", "$content-type"),
            ("x-amz-meta-tag", "dogs", "$x-amz-meta-tag"),
            ("success_action_status", "200", "$success_action_status"),
        ] {
            let err = p.check(&replace(name, value), "photos", now).unwrap_err().0;
            assert!(err.starts_with("Policy Condition failed") && err.contains(failing), "{name}: {err}");
        }
        let mut extra = good();
        extra.push(("x-amz-meta-extra".into(), "1".into()));
        assert_eq!(p.check(&extra, "photos", now).unwrap_err().0, "Extra input fields: x-amz-meta-extra");
        let missing: Vec<_> = good().into_iter().filter(|(n, _)| n != "acl").collect();
        assert!(p.check(&missing, "photos", now).is_err());
    }

    #[test]
    fn refuses_unreadable_documents() {
        for bad in [
            "nope",
            "[]",
            r#"{"conditions":[]}"#,
            r#"{"expiration":"tomorrow","conditions":[]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z"}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","key","x"]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",-1,5]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["between","$key","a","b"]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"key":5}]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[7]}"#,
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(parse_iso8601("2030-01-01T00:00:00Z"), Some(1_893_456_000));
        assert_eq!(parse_iso8601("2030-01-01T00:00:00.5Z"), Some(1_893_456_000));
        // The fuzz target's find: a multi-byte character across byte 19 panicked the slicing.
        for bad in [
            "2030-01-01",
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00.Z",
            "2030-13-01T00:00:00Z",
            "1015-01-81T00:+0:9\u{42e}",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}
