//! Conditional writes: `If-None-Match: *` (create only) and `If-Match: <etag>` (replace
//! only the version the client saw) on PutObject, CopyObject and CompleteMultipartUpload.
//!
//! The check is a HEAD of the key through the proxy (present once any primary answers
//! with it, absent once a quorum of primaries says 404), made while this proxy holds a
//! lock on the key, and the lock is kept until the write is answered: conditional writes
//! of one key through one proxy are serialized, so of two racing writers the second
//! sees the first's object (412). `If-None-Match: *` also goes down with a PutObject to
//! every object server, which refuses to write over an object it already holds: when
//! storage refuses a write the check let through, another writer (through another
//! proxy) got in between, and the answer is S3's 409 ConditionalRequestConflict.
//! Not atomic: a write through another proxy, or an unconditional one, that commits
//! between the check and this write (If-Match then overwrites it; If-None-Match is
//! refused only by the replicas that already hold it).

use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::headers::s3_etag;
use crate::key_locks::KeyGuard;
#[cfg(test)]
use crate::key_locks::KeyLocks;
use crate::objects::missing_object_error;
use common::headers::get;
use http::{HeaderMap, Method};

/// What a conditional write asks of the key's current object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    /// `If-None-Match: *`: no object has the key.
    Absent,
    /// `If-Match`: the object exists and its ETag is one of these (`*`: any).
    Matches(Vec<String>),
}

impl Condition {
    /// The write conditions of a request's headers; S3 supports no others on writes.
    pub(crate) fn parse(h: &HeaderMap) -> Result<Option<Condition>> {
        if h.contains_key("if-modified-since") || h.contains_key("if-unmodified-since") {
            return Err(S3Error::NotImplemented("conditional writes by date".into()));
        }
        match (get(h, "if-none-match").map(str::trim), get(h, "if-match")) {
            (None, None) => Ok(None),
            (Some("*"), None) => Ok(Some(Condition::Absent)),
            (None, Some(list)) => Ok(Some(Condition::Matches(
                list.split(',').map(|e| e.trim().trim_matches('"').to_string()).filter(|e| !e.is_empty()).collect(),
            ))),
            (Some(_), None) => Err(S3Error::NotImplemented("If-None-Match other than * on writes".into())),
            (Some(_), Some(_)) => Err(S3Error::NotImplemented("If-Match together with If-None-Match".into())),
        }
    }

    /// Whether an object with this S3 ETag (or none) satisfies the condition; a missing
    /// object fails `If-Match` as S3 does (NoSuchKey), which the caller decides.
    fn holds(&self, etag: Option<&str>) -> bool {
        match (self, etag) {
            (Condition::Absent, found) => found.is_none(),
            (Condition::Matches(_), None) => false,
            (Condition::Matches(list), Some(e)) => list.iter().any(|m| m == "*" || m == e),
        }
    }
}

/// A condition that held when checked, and the key's lock, kept until the write is
/// answered.
pub(crate) struct Checked {
    pub condition: Condition,
    _lock: KeyGuard,
}

impl Checked {
    /// A write the storage refused with 412 after this check passed raced another one.
    pub(crate) fn refused(&self, e: S3Error) -> S3Error {
        match e {
            S3Error::PreconditionFailed => S3Error::ConditionalRequestConflict,
            e => e,
        }
    }
}

/// Checks the request's write condition against the key's current object, holding the
/// key's lock from now on; `None` for an unconditional write.
pub(crate) async fn check(ctx: &S3Ctx<'_>) -> Result<Option<Checked>> {
    let Some(condition) = Condition::parse(&ctx.headers)? else { return Ok(None) };
    let lock = ctx.write_locks.lock(format!("{}/{}/{}", ctx.swift.account, ctx.bucket(), ctx.key())).await;
    let r = ctx.swift.small(Method::HEAD, Some(ctx.bucket()), Some(ctx.key()), &[], HeaderMap::new()).await?;
    let etag = if r.status.is_success() {
        Some(s3_etag(&r.headers).unwrap_or_default().trim_matches('"').to_string())
    } else if r.status == http::StatusCode::NOT_FOUND {
        if matches!(condition, Condition::Matches(_)) {
            return Err(missing_object_error(ctx, r.status, &r.body).await);
        }
        None
    } else {
        return Err(crate::swift::error_for(r.status, &r.body, S3Error::NoSuchKey));
    };
    if !condition.holds(etag.as_deref()) {
        return Err(S3Error::PreconditionFailed);
    }
    Ok(Some(Checked { condition, _lock: lock }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            common::headers::set(&mut h, k, v);
        }
        h
    }

    #[test]
    fn parses_what_s3_supports() {
        assert_eq!(Condition::parse(&hm(&[])).unwrap(), None);
        assert_eq!(Condition::parse(&hm(&[("if-none-match", "*")])).unwrap(), Some(Condition::Absent));
        assert_eq!(
            Condition::parse(&hm(&[("if-match", "\"abc\", def")])).unwrap(),
            Some(Condition::Matches(vec!["abc".into(), "def".into()]))
        );
        for bad in [
            hm(&[("if-none-match", "\"abc\"")]),
            hm(&[("if-none-match", "*"), ("if-match", "a")]),
            hm(&[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")]),
        ] {
            assert!(matches!(Condition::parse(&bad), Err(S3Error::NotImplemented(_))));
        }
    }

    #[test]
    fn holds() {
        assert!(Condition::Absent.holds(None));
        assert!(!Condition::Absent.holds(Some("a")));
        let m = Condition::Matches(vec!["a".into()]);
        assert!(m.holds(Some("a")) && !m.holds(Some("b")) && !m.holds(None));
        assert!(Condition::Matches(vec!["*".into()]).holds(Some("b")));
    }

    #[tokio::test]
    async fn one_writer_per_key_and_entries_go() {
        let locks = KeyLocks::default();
        let first = locks.lock("k".into()).await;
        let other = locks.lock("other".into()).await;
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), locks.lock("k".into())).await;
        assert!(waiting.is_err(), "a second writer of the key waits");
        drop(first);
        drop(other);
        let again = locks.lock("k".into()).await;
        drop(again);
        assert!(locks.held.lock().unwrap().is_empty());
    }
}
