//! Revocation events: recorded in the same transaction as the change that causes them
//! (a token revoked, a user disabled, deleted or given a new password, a role assignment
//! removed, a project disabled or deleted), applied at once to this process's validator,
//! and served to other validators at `GET /v3/OS-REVOKE/events`.
//!
//! A user may revoke their own tokens, and new tokens are cheap to make from an old one,
//! so one user could grow the list without end: past [`MAX_TOKEN_EVENTS_PER_USER`] token
//! events of one user, they are replaced by one event revoking every token that user holds.

use super::IdentityService;
use crate::error::{Result, ShimError};
use crate::web;
use common::http::Body;
use http::{HeaderMap, Response, StatusCode};
use rusqlite::{params, Connection, Row};
use serde_json::json;
use swiftlet_token::feed::FEED_AUTH_HEADER;
use swiftlet_token::RevocationEvent;

pub const MAX_TOKEN_EVENTS_PER_USER: usize = 64;

fn event_row(r: &Row) -> rusqlite::Result<RevocationEvent> {
    Ok(RevocationEvent {
        audit_id: r.get(0)?,
        user_id: r.get(1)?,
        project_id: r.get(2)?,
        issued_before: r.get::<_, i64>(3)? as u64,
        revoked_at: r.get::<_, i64>(4)? as u64,
        expires_at: r.get::<_, i64>(5)? as u64,
    })
}

fn insert(c: &Connection, e: &RevocationEvent) -> Result<()> {
    c.execute(
        "INSERT INTO revocation_events (audit_id, user_id, project_id, issued_before, revoked_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![e.audit_id, e.user_id, e.project_id, e.issued_before as i64, e.revoked_at as i64, e.expires_at as i64],
    )?;
    Ok(())
}

/// What recording an event did to the list.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The event was added.
    Added(RevocationEvent),
    /// The user's token events were folded into one event for all their tokens: the list
    /// must be reloaded.
    Folded(RevocationEvent),
}

/// Adds `e` (forgetting events expired at `now`), folding a user's token events when there
/// are too many.
pub fn record(c: &Connection, e: RevocationEvent, now: u64) -> Result<Recorded> {
    c.execute("DELETE FROM revocation_events WHERE expires_at <= ?1", [now as i64])?;
    insert(c, &e)?;
    let (Some(_), Some(uid)) = (&e.audit_id, &e.user_id) else { return Ok(Recorded::Added(e)) };
    let (count, last_expiry): (i64, i64) = c.query_row(
        "SELECT COUNT(*), COALESCE(MAX(expires_at), 0) FROM revocation_events
         WHERE audit_id IS NOT NULL AND user_id = ?1",
        [uid],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if count as usize <= MAX_TOKEN_EVENTS_PER_USER {
        return Ok(Recorded::Added(e));
    }
    c.execute("DELETE FROM revocation_events WHERE audit_id IS NOT NULL AND user_id = ?1", [uid])?;
    let all = RevocationEvent { expires_at: last_expiry as u64, ..RevocationEvent::tokens_of(Some(uid), None, now, 0) };
    insert(c, &all)?;
    tracing::warn!(user = %uid, "identity: too many revoked tokens of one user: all their tokens are revoked");
    Ok(Recorded::Folded(all))
}

/// The events still in force at `now`.
pub fn load(c: &Connection, now: u64) -> Result<Vec<RevocationEvent>> {
    let mut st = c.prepare(
        "SELECT audit_id, user_id, project_id, issued_before, revoked_at, expires_at FROM revocation_events
         WHERE expires_at > ?1 ORDER BY id",
    )?;
    let rows = st.query_map([now as i64], event_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Moves the token ids an older version kept in `revoked` into events.
pub fn migrate_revoked_tokens(c: &mut Connection, now: u64) -> Result<()> {
    let tx = c.transaction()?;
    tx.execute(
        "INSERT INTO revocation_events (audit_id, issued_before, revoked_at, expires_at)
         SELECT token_id, ?1, ?1, expires FROM revoked WHERE expires > ?1",
        [now as i64],
    )?;
    tx.execute("DELETE FROM revoked", [])?;
    tx.commit()?;
    Ok(())
}

impl IdentityService {
    /// Runs `change` and records the events it returns in one transaction, then makes them
    /// count in this process at once (the image and compute services share the validator).
    pub(super) async fn change_and_revoke<T, F>(&self, change: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<RevocationEvent>)> + Send + 'static,
    {
        let now = web::now_secs();
        let (out, recorded, all) = self
            .db
            .call(move |c| {
                let tx = c.transaction()?;
                let (out, events) = change(&tx)?;
                let mut recorded = Vec::new();
                for e in events {
                    recorded.push(record(&tx, e, now)?);
                }
                let folded = recorded.iter().any(|r| matches!(r, Recorded::Folded(_)));
                let all = if folded { Some(load(&tx, now)?) } else { None };
                tx.commit()?;
                Ok((out, recorded, all))
            })
            .await?;
        match all {
            // A fold dropped events: the list is rebuilt rather than grown.
            Some(all) => {
                self.validator.revoked.replace(all, now).map_err(|e| ShimError::Internal(e.to_string()))?;
            }
            None => {
                for r in recorded {
                    let (Recorded::Added(e) | Recorded::Folded(e)) = r;
                    self.validator.revoked.insert(e, now);
                }
            }
        }
        Ok(out)
    }

    /// An event for every token of the user and/or project issued until now.
    /// Runs `delete` and, when it found something, ends the tokens `event` names, in one
    /// transaction.
    pub(super) async fn delete_revoking<F>(&self, event: RevocationEvent, delete: F) -> Result<bool>
    where
        F: FnOnce(&Connection) -> Result<bool> + Send + 'static,
    {
        self.change_and_revoke(move |c| {
            let found = delete(c)?;
            Ok((found, if found { vec![event] } else { Vec::new() }))
        })
        .await
    }

    pub(super) fn tokens_of(&self, user: Option<&str>, project: Option<&str>) -> RevocationEvent {
        RevocationEvent::tokens_of(user, project, web::now_secs(), self.cfg.token_life)
    }

    /// `GET /v3/OS-REVOKE/events`: for a request signed with the feed key (the proxy's
    /// poller) or an admin token.
    pub(super) async fn revocation_events(&self, h: &HeaderMap) -> Result<Response<Body>> {
        let now = web::now_secs();
        let signed = web::header(h, FEED_AUTH_HEADER).is_some_and(|v| self.feed_key.verify(v, now));
        if !signed && !self.validator.caller(h)?.is_admin() {
            return Err(ShimError::Forbidden("You are not authorized to perform the requested action.".into()));
        }
        let events = self.db.call(move |c| load(c, now)).await?;
        let link = format!("{}/v3/OS-REVOKE/events", self.endpoints.identity);
        Ok(web::json(
            StatusCode::OK,
            &json!({"events": events, "links": {"self": link, "next": null, "previous": null}}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(super::super::store::SCHEMA).unwrap();
        c
    }

    #[test]
    fn events_expire_and_one_users_token_events_fold() {
        let c = db();
        record(&c, RevocationEvent::tokens_of(Some("u0"), None, 10, 100), 10).unwrap();
        assert_eq!(load(&c, 50).unwrap().len(), 1);
        assert!(load(&c, 110).unwrap().is_empty(), "expired");
        for i in 0..MAX_TOKEN_EVENTS_PER_USER {
            let r = record(&c, RevocationEvent::token(&format!("t{i}"), "u1", 5000 + i as u64, 200), 200).unwrap();
            assert!(matches!(r, Recorded::Added(_)));
        }
        record(&c, RevocationEvent::token("other", "u2", 5000, 200), 200).unwrap();
        let r = record(&c, RevocationEvent::token("last", "u1", 4000, 300), 300).unwrap();
        let all = RevocationEvent {
            audit_id: None,
            user_id: Some("u1".into()),
            project_id: None,
            issued_before: 300,
            revoked_at: 300,
            expires_at: 5000 + MAX_TOKEN_EVENTS_PER_USER as u64 - 1,
        };
        assert_eq!(r, Recorded::Folded(all.clone()));
        let left = load(&c, 300).unwrap();
        assert_eq!(left.len(), 2, "u2's token event and u1's one event: {left:?}");
        assert!(left.contains(&all));
    }

    #[test]
    fn an_older_databases_revoked_tokens_become_events() {
        let mut c = db();
        c.execute("INSERT INTO revoked VALUES ('t1', 500), ('gone', 5)", []).unwrap();
        migrate_revoked_tokens(&mut c, 100).unwrap();
        let events = load(&c, 100).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].audit_id.as_deref(), events[0].expires_at), (Some("t1"), 500));
        assert_eq!(c.query_row("SELECT COUNT(*) FROM revoked", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    }
}
