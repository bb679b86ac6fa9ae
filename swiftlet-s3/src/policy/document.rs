//! A bucket policy document (JSON), parsed and validated before it is stored: every
//! element this server cannot enforce is refused (MalformedPolicy with the reason), so a
//! Deny it would not apply is never accepted silently.

use super::cidr::Cidr;
use serde_json::{Map, Value};

/// S3's cap on a bucket policy.
pub(crate) const MAX_POLICY_BYTES: usize = 20 * 1024;
/// Statements per policy (a 20 KiB document holds far fewer real ones).
const MAX_STATEMENTS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub effect: Effect,
    pub principals: Vec<Principal>,
    pub actions: Vec<Action>,
    pub resources: Vec<Resource>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

/// Whom a statement names. Tempauth accounts are AWS accounts (`test` is
/// `arn:aws:iam::test:root` or plain `test`) and their users IAM users
/// (`arn:aws:iam::test:user/tester` is `test:tester`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// `"*"`: everyone, anonymous callers included.
    Everyone,
    Account(String),
    User {
        account: String,
        user: String,
    },
}

/// The operations a policy can grant or deny here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    GetObject,
    PutObject,
    DeleteObject,
    ListBucket,
}

impl Action {
    const ALL: [Action; 4] = [Action::GetObject, Action::PutObject, Action::DeleteObject, Action::ListBucket];

    /// Whether its resource is an object (`bucket/key`) rather than the bucket.
    pub(crate) fn on_objects(self) -> bool {
        !matches!(self, Action::ListBucket)
    }
}

/// `arn:aws:s3:::bucket` (`key` None) or `arn:aws:s3:::bucket/<pattern>` with `*` and `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resource {
    pub key_pattern: Option<String>,
}

/// `IpAddress` / `NotIpAddress` on `aws:SourceIp`: the peer must be in (or outside) one
/// of the blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    pub negated: bool,
    pub blocks: Vec<Cidr>,
}

/// Why a policy was refused (the message of S3's MalformedPolicy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Malformed(pub String);

fn bad<T>(why: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed(why.into()))
}

/// Parses and validates the policy of `bucket`.
pub(crate) fn parse(doc: &[u8], bucket: &str) -> Result<Policy, Malformed> {
    if doc.len() > MAX_POLICY_BYTES {
        return bad(format!("Policies must be at most {MAX_POLICY_BYTES} bytes"));
    }
    let root: Value = serde_json::from_slice(doc).map_err(|_| Malformed("Policies must be valid JSON".into()))?;
    let root = root.as_object().ok_or_else(|| Malformed("Policies must be a JSON object".into()))?;
    for key in root.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return bad(format!("Unknown field {key}"));
        }
    }
    match root.get("Version") {
        None => {}
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
        Some(_) => return bad("The policy's Version must be 2012-10-17 or 2008-10-17"),
    }
    if root.get("Id").is_some_and(|id| !id.is_string()) {
        return bad("The policy's Id must be a string");
    }
    let statements = match root.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return bad("Missing required field Statement"),
    };
    if statements.is_empty() {
        return bad("Missing required field Statement");
    }
    if statements.len() > MAX_STATEMENTS {
        return bad(format!("A policy may hold at most {MAX_STATEMENTS} statements"));
    }
    let statements = statements.into_iter().map(|s| statement(s, bucket)).collect::<Result<_, _>>()?;
    Ok(Policy { statements })
}

fn statement(v: &Value, bucket: &str) -> Result<Statement, Malformed> {
    let s = v.as_object().ok_or_else(|| Malformed("Each Statement must be a JSON object".into()))?;
    for key in s.keys() {
        match key.as_str() {
            "Sid" | "Effect" | "Principal" | "Action" | "Resource" | "Condition" => {}
            "NotPrincipal" | "NotAction" | "NotResource" => return bad(format!("{key} is not supported")),
            other => return bad(format!("Unknown field {other}")),
        }
    }
    if s.get("Sid").is_some_and(|sid| !sid.is_string()) {
        return bad("Sid must be a string");
    }
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(_) => return bad("Invalid effect: Effect must be Allow or Deny"),
        None => return bad("Missing required field Effect"),
    };
    let principals =
        principals(s.get("Principal").ok_or_else(|| Malformed("Missing required field Principal".into()))?)?;
    let actions = actions(s.get("Action").ok_or_else(|| Malformed("Missing required field Action".into()))?)?;
    let resources = strings(s.get("Resource"), "Resource")?
        .into_iter()
        .map(|r| resource(r, bucket))
        .collect::<Result<Vec<_>, _>>()?;
    if resources.is_empty() {
        return bad("Missing required field Resource");
    }
    let fits = actions.iter().any(|a| resources.iter().any(|r| r.key_pattern.is_some() == a.on_objects()));
    if !fits {
        return bad("Action does not apply to any resource(s) in statement");
    }
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(c)) => conditions(c)?,
        Some(_) => return bad("Condition must be a JSON object"),
    };
    Ok(Statement { effect, principals, actions, resources, conditions })
}

/// A string or a non-empty array of strings.
fn strings<'a>(v: Option<&'a Value>, field: &str) -> Result<Vec<&'a str>, Malformed> {
    let list: Vec<&Value> = match v {
        Some(Value::String(_)) => v.into_iter().collect(),
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        None => return bad(format!("Missing required field {field}")),
        Some(_) => return bad(format!("{field} must be a string or a non-empty list of strings")),
    };
    list.into_iter()
        .map(|s| s.as_str().ok_or_else(|| Malformed(format!("{field} must be a string or a list of strings"))))
        .collect()
}

fn principals(v: &Value) -> Result<Vec<Principal>, Malformed> {
    match v {
        Value::String(s) if s == "*" => Ok(vec![Principal::Everyone]),
        Value::Object(map) => {
            if map.keys().any(|k| k != "AWS") {
                return bad("Only AWS principals are supported");
            }
            strings(map.get("AWS"), "Principal")?.into_iter().map(principal).collect()
        }
        _ => bad("Invalid principal in policy"),
    }
}

fn principal(s: &str) -> Result<Principal, Malformed> {
    let invalid = || Malformed(format!("Invalid principal in policy: {s}"));
    if s == "*" {
        return Ok(Principal::Everyone);
    }
    let account_name = |a: &str| -> Result<String, Malformed> {
        if a.is_empty() || a.contains([':', '/', '*']) {
            return Err(invalid());
        }
        Ok(a.to_string())
    };
    let Some(rest) = s.strip_prefix("arn:aws:iam::") else { return Ok(Principal::Account(account_name(s)?)) };
    let (account, what) = rest.split_once(':').ok_or_else(invalid)?;
    let account = account_name(account)?;
    match what {
        "root" => Ok(Principal::Account(account)),
        _ => match what.strip_prefix("user/") {
            Some(user) if !user.is_empty() && !user.contains(['/', '*', ':']) => {
                Ok(Principal::User { account, user: user.to_string() })
            }
            _ => Err(invalid()),
        },
    }
}

fn actions(v: &Value) -> Result<Vec<Action>, Malformed> {
    let mut out = Vec::new();
    for a in strings(Some(v), "Action")? {
        let named: &[Action] = match a {
            "*" | "s3:*" => &Action::ALL,
            "s3:GetObject" => &[Action::GetObject],
            "s3:PutObject" => &[Action::PutObject],
            "s3:DeleteObject" => &[Action::DeleteObject],
            "s3:ListBucket" => &[Action::ListBucket],
            other if other.starts_with("s3:") => {
                return bad(format!("Policy has an action this server does not support: {other}"))
            }
            other => return bad(format!("Policy has invalid action: {other}")),
        };
        for action in named {
            if !out.contains(action) {
                out.push(*action);
            }
        }
    }
    Ok(out)
}

fn resource(r: &str, bucket: &str) -> Result<Resource, Malformed> {
    let invalid = || Malformed(format!("Policy has invalid resource: {r}"));
    let path = r.strip_prefix("arn:aws:s3:::").ok_or_else(invalid)?;
    let (b, key) = match path.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (path, None),
    };
    if b != bucket {
        return Err(invalid());
    }
    Ok(Resource { key_pattern: key.map(str::to_string) })
}

fn conditions(c: &Map<String, Value>) -> Result<Vec<Condition>, Malformed> {
    let mut out = Vec::new();
    for (operator, body) in c {
        let negated = match operator.as_str() {
            "IpAddress" => false,
            "NotIpAddress" => true,
            other => return bad(format!("Condition operator {other} is not supported")),
        };
        let body = body.as_object().ok_or_else(|| Malformed(format!("{operator} must map keys to values")))?;
        if body.is_empty() {
            return bad(format!("{operator} names no condition key"));
        }
        for (key, values) in body {
            if !key.eq_ignore_ascii_case("aws:SourceIp") {
                return bad(format!("Condition key {key} is not supported"));
            }
            let blocks = strings(Some(values), "aws:SourceIp")?
                .into_iter()
                .map(|v| Cidr::parse(v).ok_or_else(|| Malformed(format!("Invalid IP address or block: {v}"))))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Condition { negated, blocks });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(statement: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#)
    }

    #[test]
    fn parses_the_documented_shapes() {
        let p = parse(
            doc(r#"{"Sid":"pub","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],
                  "Resource":"arn:aws:s3:::photos/public/*"},
                 {"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::test2:user/tester2","test5","arn:aws:iam::test:root"]},
                  "Action":"s3:*","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"],
                  "Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]}}}"#)
            .as_bytes(),
            "photos",
        )
        .unwrap();
        assert_eq!(p.statements.len(), 2);
        assert_eq!(p.statements[0].principals, [Principal::Everyone]);
        assert_eq!(p.statements[0].resources[0].key_pattern.as_deref(), Some("public/*"));
        let deny = &p.statements[1];
        assert_eq!(deny.effect, Effect::Deny);
        assert_eq!(
            deny.principals,
            [
                Principal::User { account: "test2".into(), user: "tester2".into() },
                Principal::Account("test5".into()),
                Principal::Account("test".into())
            ]
        );
        assert_eq!(deny.actions.len(), 4);
        assert!(deny.conditions[0].negated && deny.conditions[0].blocks.len() == 2);
        let single = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos"}}"#;
        assert_eq!(parse(single.as_bytes(), "photos").unwrap().statements[0].principals, [Principal::Everyone]);
    }

    #[test]
    fn refuses_with_a_reason() {
        let ok = r#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#;
        let cases = [
            ("not json".to_string(), "valid JSON"),
            ("[]".into(), "JSON object"),
            (r#"{"Version":"2012-10-17"}"#.into(), "Statement"),
            (r#"{"Statement":[]}"#.into(), "Statement"),
            (r#"{"Version":"2020-01-01","Statement":[]}"#.into(), "Version"),
            (doc(&format!("{{{ok},\"Bogus\":1}}")), "Unknown field"),
            (
                doc(r#"{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#),
                "effect",
            ),
            (doc(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#), "Principal"),
            (
                doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObjectAcl","Resource":"arn:aws:s3:::b/*"}"#),
                "not support",
            ),
            (
                doc(r#"{"Effect":"Allow","Principal":"*","Action":"ec2:Run","Resource":"arn:aws:s3:::b/*"}"#),
                "invalid action",
            ),
            (
                doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}"#),
                "invalid resource",
            ),
            (
                doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b"}"#),
                "does not apply",
            ),
            (
                doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b/*"}"#),
                "does not apply",
            ),
            (
                doc(
                    r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::a:group/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
                ),
                "principal",
            ),
            (
                doc(
                    r#"{"Effect":"Allow","Principal":{"Service":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
                ),
                "principals",
            ),
            (doc(&format!("{{{ok},\"Condition\":{{\"StringEquals\":{{\"aws:Referer\":\"x\"}}}}}}")), "not supported"),
            (doc(&format!("{{{ok},\"Condition\":{{\"IpAddress\":{{\"aws:UserAgent\":\"x\"}}}}}}")), "not supported"),
            (
                doc(&format!("{{{ok},\"Condition\":{{\"IpAddress\":{{\"aws:SourceIp\":\"10.0.0.0/33\"}}}}}}")),
                "Invalid IP",
            ),
            (
                doc(r#"{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#),
                "not supported",
            ),
            (doc(&format!("{{{ok},\"Sid\":7}}")), "Sid"),
            (format!("{{\"Statement\":[{{{ok}}}],\"x\":\"{}\"}}", "y".repeat(MAX_POLICY_BYTES)), "at most"),
        ];
        for (text, reason) in cases {
            let err = parse(text.as_bytes(), "b").expect_err(&text);
            assert!(err.0.contains(reason), "{text}: {err}");
        }
    }
}
