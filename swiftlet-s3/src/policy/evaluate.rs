//! Evaluating a bucket policy for one request, deny-overrides: an explicit Deny that
//! applies wins over everything; else an Allow that applies grants; else the policy has
//! nothing to say and the ACLs decide (see [`crate::access`]).

use super::document::{Action, Condition, Effect, Policy, Principal, Resource, Statement};
use std::net::IpAddr;

/// Who asks, for what, from where.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyRequest<'a> {
    /// The tempauth account and user of a signed request; `None` when anonymous.
    pub principal: Option<(&'a str, &'a str)>,
    pub action: Action,
    /// The object key of an object action.
    pub key: Option<&'a str>,
    /// The TCP peer's address (never a header a client sent).
    pub source_ip: Option<IpAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Deny,
    Allow,
    /// No statement applies.
    Silent,
}

impl Policy {
    pub(crate) fn evaluate(&self, req: &PolicyRequest<'_>) -> Decision {
        let mut allowed = false;
        for s in self.statements.iter().filter(|s| s.applies(req)) {
            match s.effect {
                Effect::Deny => return Decision::Deny,
                Effect::Allow => allowed = true,
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::Silent
        }
    }

    /// For a request whose keys are not known yet (DeleteObjects): a Deny that applies to
    /// some key refuses it; an Allow grants nothing (the ACLs decide).
    pub(crate) fn evaluate_any_key(&self, req: &PolicyRequest<'_>) -> Decision {
        let denies = self.statements.iter().any(|s| {
            s.effect == Effect::Deny
                && s.names(req)
                && s.resources.iter().any(|r| r.key_pattern.is_some() == req.action.on_objects())
        });
        if denies {
            Decision::Deny
        } else {
            Decision::Silent
        }
    }

    /// S3's `IsPublic`: some Allow grants everyone without narrowing by address.
    pub(crate) fn is_public(&self) -> bool {
        self.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.principals.contains(&Principal::Everyone)
                && !s.conditions.iter().any(|c| !c.negated && c.blocks.iter().all(|b| b.is_narrow()))
        })
    }
}

impl Statement {
    fn applies(&self, req: &PolicyRequest<'_>) -> bool {
        self.names(req) && self.resources.iter().any(|r| r.matches(req.action, req.key))
    }

    /// Its action, principal and conditions fit the request (the resource aside).
    fn names(&self, req: &PolicyRequest<'_>) -> bool {
        self.actions.contains(&req.action)
            && self.principals.iter().any(|p| p.names(req.principal))
            && self.conditions.iter().all(|c| c.holds(req.source_ip))
    }
}

impl Principal {
    fn names(&self, who: Option<(&str, &str)>) -> bool {
        match (self, who) {
            (Principal::Everyone, _) => true,
            (Principal::Account(a), Some((account, _))) => a == account,
            (Principal::User { account: a, user: u }, Some((account, user))) => a == account && u == user,
            (_, None) => false,
        }
    }
}

impl Resource {
    fn matches(&self, action: Action, key: Option<&str>) -> bool {
        match (&self.key_pattern, action.on_objects()) {
            (None, false) => true,
            (Some(pattern), true) => wildcard_match(pattern.as_bytes(), key.unwrap_or("").as_bytes()),
            _ => false,
        }
    }
}

impl Condition {
    /// An unknown peer address is in no block: an `IpAddress` Allow does not apply to it
    /// and a `NotIpAddress` Deny does.
    fn holds(&self, ip: Option<IpAddr>) -> bool {
        let inside = ip.is_some_and(|ip| self.blocks.iter().any(|b| b.contains(ip)));
        inside != self.negated
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one (of bytes here: keys are UTF-8,
/// and a `?` meant for one multi-byte character is rare in resource patterns). Greedy
/// with backtracking to the last `*`, so linear in practice and never exponential.
pub(crate) fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::super::document::parse;
    use super::*;

    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/*"},
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::test2:user/tester2"},"Action":["s3:PutObject","s3:ListBucket"],
         "Resource":["arn:aws:s3:::b","arn:aws:s3:::b/drop/*"]},
        {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/secret*"},
        {"Effect":"Allow","Principal":{"AWS":"test5"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*",
         "Condition":{"IpAddress":{"aws:SourceIp":"10.1.0.0/16"}}},
        {"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*",
         "Condition":{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","::1"]}}}
    ]}"#;

    fn decide(who: Option<(&str, &str)>, action: Action, key: Option<&str>, ip: &str) -> Decision {
        let policy = parse(POLICY.as_bytes(), "b").unwrap();
        policy.evaluate(&PolicyRequest { principal: who, action, key, source_ip: ip.parse().ok() })
    }

    #[test]
    fn deny_overrides_allow() {
        use Action::*;
        use Decision::*;
        assert_eq!(decide(None, GetObject, Some("public/cat.jpg"), "192.0.2.1"), Allow);
        assert_eq!(decide(None, GetObject, Some("public/secret.txt"), "192.0.2.1"), Deny);
        assert_eq!(decide(None, GetObject, Some("private/cat.jpg"), "192.0.2.1"), Silent);
        assert_eq!(decide(None, PutObject, Some("public/cat.jpg"), "192.0.2.1"), Silent);
        let tester2 = Some(("test2", "tester2"));
        assert_eq!(decide(tester2, PutObject, Some("drop/x"), "192.0.2.1"), Allow);
        assert_eq!(decide(tester2, PutObject, Some("elsewhere"), "192.0.2.1"), Silent);
        assert_eq!(decide(tester2, ListBucket, None, "192.0.2.1"), Allow);
        assert_eq!(decide(Some(("test2", "other")), ListBucket, None, "192.0.2.1"), Silent);
        assert_eq!(decide(Some(("test5", "anyone")), GetObject, Some("k"), "10.1.2.3"), Allow);
        assert_eq!(decide(Some(("test5", "anyone")), GetObject, Some("k"), "10.2.2.3"), Silent);
        assert_eq!(decide(Some(("test5", "anyone")), DeleteObject, Some("k"), "10.1.2.3"), Deny);
        assert_eq!(decide(Some(("test5", "anyone")), DeleteObject, Some("k"), "127.0.0.1"), Silent);
        assert_eq!(decide(Some(("test5", "anyone")), DeleteObject, Some("k"), "not an address"), Deny);
    }

    #[test]
    fn public_means_everyone_unnarrowed() {
        let public = |s: &str| parse(s.as_bytes(), "b").unwrap().is_public();
        assert!(public(POLICY));
        let st = |extra: &str| {
            format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"{extra}}}}}"#
            )
        };
        assert!(public(&st("")));
        assert!(!public(&st(r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)));
        assert!(public(&st(r#","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/1"}}"#)));
        assert!(public(&st(r#","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)));
        let account = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"test2"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        assert!(!public(account));
    }

    #[test]
    fn wildcards() {
        let m = |p: &str, t: &str| wildcard_match(p.as_bytes(), t.as_bytes());
        assert!(m("*", "") && m("*", "anything") && m("a*", "a") && m("a?c", "abc") && m("*.jpg", "x/y.jpg"));
        assert!(!m("a?c", "ac") && !m("ab*ba", "aba") && !m("public/*", "publicx") && !m("", "x"));
        assert!(m("a*b*c", "aXbYbZc") && !m("a*b*c", "aXbYbZ"));
        let long = "a".repeat(5000);
        assert!(!m(&"*a".repeat(50), &format!("{long}b")[..5000].replace('a', "b")));
    }
}
