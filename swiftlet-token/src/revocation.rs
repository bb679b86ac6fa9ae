//! Revocation events: what makes a genuine, unexpired token invalid before its expiry (a
//! subset of Keystone's `OS-REVOKE` events). The identity service records one when a token
//! is revoked, a user is disabled or deleted or changes password, a role assignment is
//! removed, or a project is disabled or deleted; every service that validates tokens
//! locally checks them through [`Revocations`].
//!
//! An event names a token (`audit_id`) or selects tokens by user, by project, or by both;
//! it revokes the tokens it selects that were issued at or before `issued_before`. Token
//! times are whole seconds, so a token issued in the same second as an event that selects
//! it is revoked too (the safe side).

use crate::iso_time;
use crate::TokenClaims;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// One event, as `GET /v3/OS-REVOKE/events` lists it (times as ISO 8601 strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEvent {
    /// A token's id (its audit id): that token only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Tokens issued at or before this (unix seconds) are revoked.
    #[serde(with = "iso_time")]
    pub issued_before: u64,
    #[serde(with = "iso_time")]
    pub revoked_at: u64,
    /// No token the event selects is valid after this, so the event can be forgotten.
    #[serde(with = "iso_time")]
    pub expires_at: u64,
}

impl RevocationEvent {
    /// One token, revoked at `now`; it would have expired at `expires`.
    pub fn token(token_id: &str, user_id: &str, expires: u64, now: u64) -> Self {
        RevocationEvent {
            audit_id: Some(token_id.to_string()),
            user_id: Some(user_id.to_string()),
            project_id: None,
            issued_before: now,
            revoked_at: now,
            expires_at: expires,
        }
    }

    /// Every token issued until `now` for the user and/or project (at least one of them),
    /// kept for `token_life` seconds: no such token outlives that.
    pub fn tokens_of(user_id: Option<&str>, project_id: Option<&str>, now: u64, token_life: u64) -> Self {
        RevocationEvent {
            audit_id: None,
            user_id: user_id.map(str::to_owned),
            project_id: project_id.map(str::to_owned),
            issued_before: now,
            revoked_at: now,
            expires_at: now.saturating_add(token_life),
        }
    }

    /// Whether the event revokes the token: every field it sets matches, and the token was
    /// issued at or before `issued_before`.
    pub fn matches(&self, claims: &TokenClaims) -> bool {
        let selects_something = self.audit_id.is_some() || self.user_id.is_some() || self.project_id.is_some();
        selects_something
            && self.audit_id.as_ref().is_none_or(|id| *id == claims.id)
            && self.user_id.as_ref().is_none_or(|u| *u == claims.uid)
            && self.project_id.as_ref().is_none_or(|p| claims.pid.as_ref() == Some(p))
            && claims.iat <= self.issued_before
    }

    /// Where the index files the event: by its most specific selector.
    fn key(&self) -> Option<Key> {
        match (&self.audit_id, &self.user_id, &self.project_id) {
            (Some(id), _, _) => Some(Key::Token(id.clone())),
            (None, Some(u), Some(p)) => Some(Key::UserProject(u.clone(), p.clone())),
            (None, Some(u), None) => Some(Key::User(u.clone())),
            (None, None, Some(p)) => Some(Key::Project(p.clone())),
            // An event that selects nothing would revoke every token: never accepted.
            (None, None, None) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Token(String),
    UserProject(String, String),
    User(String),
    Project(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RevocationError {
    #[error("{count} revocation events is more than the {max} kept")]
    TooMany { count: usize, max: usize },
}

/// Events by what they select. Two events of one key merge into the wider one, so the
/// set is bounded by the number of distinct tokens, users and projects revoked.
#[derive(Debug, Default)]
struct Index {
    events: HashMap<Key, RevocationEvent>,
}

impl Index {
    fn add(&mut self, event: RevocationEvent) {
        let Some(key) = event.key() else { return };
        match self.events.get_mut(&key) {
            Some(old) => {
                old.issued_before = old.issued_before.max(event.issued_before);
                old.revoked_at = old.revoked_at.max(event.revoked_at);
                old.expires_at = old.expires_at.max(event.expires_at);
            }
            None => {
                self.events.insert(key, event);
            }
        }
    }

    fn is_revoked(&self, claims: &TokenClaims) -> bool {
        let mut keys = vec![Key::Token(claims.id.clone()), Key::User(claims.uid.clone())];
        if let Some(p) = &claims.pid {
            keys.push(Key::UserProject(claims.uid.clone(), p.clone()));
            keys.push(Key::Project(p.clone()));
        }
        keys.iter().any(|k| self.events.get(k).is_some_and(|e| e.matches(claims)))
    }
}

/// The revocation events a validator checks, shared by every clone of the handle: the
/// identity service adds to it as it records events; a [`crate::poller::RevocationPoller`]
/// replaces it with each list it fetches.
#[derive(Clone, Debug)]
pub struct Revocations {
    inner: Arc<RwLock<Index>>,
    max_events: usize,
}

impl Default for Revocations {
    fn default() -> Self {
        Revocations::with_limit(usize::MAX)
    }
}

impl Revocations {
    /// A set that refuses lists of more than `max_events` events.
    pub fn with_limit(max_events: usize) -> Self {
        Revocations { inner: Arc::default(), max_events }
    }

    /// Whether an event revokes this (genuine, unexpired) token.
    pub fn is_revoked(&self, claims: &TokenClaims) -> bool {
        self.read().is_revoked(claims)
    }

    /// Adds one event; events that have expired at `now` are forgotten on the way.
    pub fn insert(&self, event: RevocationEvent, now: u64) {
        let mut index = self.write();
        index.events.retain(|_, e| e.expires_at > now);
        index.add(event);
    }

    /// Replaces the whole set with `events` (the ones not expired at `now`), or keeps the
    /// current set if there are more than the limit. Returns how many are kept.
    pub fn replace(&self, events: Vec<RevocationEvent>, now: u64) -> Result<usize, RevocationError> {
        let mut fresh = Index::default();
        for e in events.into_iter().filter(|e| e.expires_at > now) {
            fresh.add(e);
            if fresh.events.len() > self.max_events {
                return Err(RevocationError::TooMany { count: fresh.events.len(), max: self.max_events });
            }
        }
        let kept = fresh.events.len();
        *self.write() = fresh;
        Ok(kept)
    }

    pub fn len(&self) -> usize {
        self.read().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The events, for serving or inspection (in no particular order).
    pub fn events(&self) -> Vec<RevocationEvent> {
        self.read().events.values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        // A panic under the lock leaves whole events behind: the set is still usable.
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(id: &str, uid: &str, pid: Option<&str>, iat: u64) -> TokenClaims {
        TokenClaims {
            id: id.into(),
            iat,
            exp: iat + 3600,
            uid: uid.into(),
            uname: "n".into(),
            pid: pid.map(str::to_owned),
            pname: None,
            roles: vec!["member".into()],
            methods: vec!["password".into()],
        }
    }

    #[test]
    fn events_select_by_token_user_project_and_issue_time() {
        let r = Revocations::default();
        let t1 = claims("t1", "u1", Some("p1"), 100);
        assert!(!r.is_revoked(&t1));
        r.insert(RevocationEvent::token("t1", "u1", 3700, 150), 150);
        assert!(r.is_revoked(&t1));
        assert!(!r.is_revoked(&claims("t2", "u1", Some("p1"), 100)), "another token of the same user");

        r.insert(RevocationEvent::tokens_of(Some("u2"), None, 200, 3600), 200);
        assert!(r.is_revoked(&claims("a", "u2", Some("p9"), 200)), "issued in the same second");
        assert!(!r.is_revoked(&claims("b", "u2", Some("p9"), 201)), "issued after: the user logged in again");

        r.insert(RevocationEvent::tokens_of(Some("u3"), Some("p3"), 300, 3600), 300);
        assert!(r.is_revoked(&claims("c", "u3", Some("p3"), 250)));
        assert!(!r.is_revoked(&claims("d", "u3", Some("p4"), 250)), "the user's other projects");
        assert!(!r.is_revoked(&claims("e", "u3", None, 250)), "unscoped tokens");

        r.insert(RevocationEvent::tokens_of(None, Some("p5"), 400, 3600), 400);
        assert!(r.is_revoked(&claims("f", "anyone", Some("p5"), 399)));
        assert!(!r.is_revoked(&claims("g", "anyone", Some("p6"), 399)));

        // A later event of the same kind widens the earlier one instead of adding another.
        r.insert(RevocationEvent::tokens_of(Some("u2"), None, 500, 3600), 500);
        assert!(r.is_revoked(&claims("b", "u2", Some("p9"), 201)));
        assert_eq!(r.len(), 4);

        // An event selecting nothing is ignored, never "revoke everything".
        let everything = RevocationEvent {
            audit_id: None,
            user_id: None,
            project_id: None,
            ..RevocationEvent::token("x", "y", 9999, 1)
        };
        r.insert(everything, 500);
        assert_eq!(r.len(), 4);
        assert!(!r.is_revoked(&claims("h", "other", None, 1)));

        // Expired events go: the tokens they revoked have expired too.
        r.insert(RevocationEvent::tokens_of(Some("u9"), None, 5000, 10), 5000);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn replace_keeps_the_last_good_set_when_a_list_is_too_long() {
        let r = Revocations::with_limit(2);
        let ev = |id: &str| RevocationEvent::token(id, "u", 1000, 10);
        assert_eq!(r.replace(vec![ev("a"), ev("b")], 10), Ok(2));
        assert_eq!(r.replace(vec![ev("a"), ev("b"), ev("c")], 10), Err(RevocationError::TooMany { count: 3, max: 2 }));
        assert!(r.is_revoked(&claims("a", "u", None, 5)), "the last good list stays");
        assert_eq!(r.replace(vec![ev("c"), RevocationEvent::token("old", "u", 5, 1)], 10), Ok(1), "expired dropped");
        assert!(!r.is_revoked(&claims("a", "u", None, 5)) && r.is_revoked(&claims("c", "u", None, 5)));
    }

    #[test]
    fn wire_format_is_keystones() {
        let e = RevocationEvent::tokens_of(Some("u1"), Some("p1"), 1_700_000_000, 3600);
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["issued_before"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(v["expires_at"], "2023-11-14T23:13:20.000000Z");
        assert!(v.get("audit_id").is_none());
        assert_eq!(serde_json::from_value::<RevocationEvent>(v).unwrap(), e);
        let keystone = serde_json::json!({"audit_id": "t", "issued_before": "2023-11-14T22:13:20Z",
            "revoked_at": "2023-11-14T22:13:20.123456Z", "expires_at": "2023-11-14T22:13:21.000000Z"});
        let parsed: RevocationEvent = serde_json::from_value(keystone).unwrap();
        assert_eq!(
            (parsed.issued_before, parsed.revoked_at, parsed.expires_at),
            (1_700_000_000, 1_700_000_000, 1_700_000_001)
        );
    }
}
