//! Account quotas (Swift's `account_quotas`): `X-Account-Quota-Bytes` and
//! `X-Account-Quota-Count` (and their `-Policy-<name>` forms) cap what object PUTs may add
//! to an account. Only a reseller admin may set or remove them; anyone who can read the
//! account sees them. Reseller admins' own uploads are never limited.
//!
//! Where they are kept: Swift keeps them in account sysmeta, but Swiftlet's account
//! controller forwards only user metadata, so they are stored as
//! `X-Account-Meta-Quota-Bytes` (Swift's legacy spelling, which Swift also still honours),
//! `X-Account-Meta-Quota-Count` and `X-Account-Meta-Quota-{Bytes,Count}-Policy-<index>`.
//! This middleware therefore treats those names as quota headers too: a non-reseller may
//! neither set nor remove them.
//!
//! The stats checked are the account server's, which container servers update within
//! about a second of a change: as in Swift, a quota is enforced a little after the fact.

use super::refusal::{content_length, refusal, OVER_QUOTA};
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::lookups::account::account_info;
use crate::lookups::container::container_info;
use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use crate::route::Route;
use common::headers::get;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;

/// The cluster's storage policies (name, index), as `/info` lists them.
const POLICIES: [(&str, u32); 1] = [("Policy-0", 0)];
const KINDS: [&str; 2] = ["quota-bytes", "quota-count"];

pub(crate) struct AccountQuotas;

impl Step for AccountQuotas {
    fn name(&self) -> &'static str {
        "account_quotas"
    }

    /// Listed with no settings, as Swift lists it.
    fn info(&self) -> Option<Value> {
        Some(Value::Object(serde_json::Map::new()))
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let reseller = req.ctx.identity.as_ref().is_some_and(|id| id.reseller_admin);
            match &req.route {
                Route::Account { .. } => {
                    let mut req = req;
                    if matches!(*req.method(), Method::PUT | Method::POST) {
                        translate(req.headers_mut(), reseller)?;
                    }
                    let mut resp = next.run(req).await?;
                    show_quotas(resp.headers_mut());
                    Ok(resp)
                }
                Route::Object { account, container, .. } if req.method() == Method::PUT && !reseller => {
                    check_upload(&next, &req.ctx, account, container, content_length(req.headers())).await?;
                    next.run(req).await
                }
                _ => next.run(req).await,
            }
        })
    }
}

/// One quota: its name for clients (`x-account-quota-bytes[-policy-<name>]`) and where it
/// is stored (`x-account-meta-quota-bytes[-policy-<index>]`).
struct Quota {
    client: String,
    stored: String,
}

fn quotas() -> Vec<Quota> {
    let mut out = Vec::new();
    for kind in KINDS {
        out.push(Quota { client: format!("x-account-{kind}"), stored: format!("x-account-meta-{kind}") });
        for (name, idx) in POLICIES {
            out.push(Quota {
                client: format!("x-account-{kind}-policy-{}", name.to_ascii_lowercase()),
                stored: format!("x-account-meta-{kind}-policy-{idx}"),
            });
        }
    }
    out
}

fn insert(h: &mut HeaderMap, name: &str, value: &str) -> Result<()> {
    let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| ProxyError::Internal(e.to_string()))?;
    let v = HeaderValue::from_str(value).map_err(|_| ProxyError::BadRequest("Invalid quota value".into()))?;
    h.insert(n, v);
    Ok(())
}

/// Turns an account PUT/POST's quota headers (either spelling, or an `X-Remove-`, which
/// wins) into the stored ones; 403 for a non-reseller who names any, 400 for a reseller's
/// value that is not a whole number.
fn translate(h: &mut HeaderMap, reseller: bool) -> Result<()> {
    for q in quotas() {
        let removes = [format!("x-remove-{}", &q.client[2..]), format!("x-remove-{}", &q.stored[2..])];
        let removed = removes.iter().any(|r| h.contains_key(r.as_str()));
        // Raw bytes, so a value that is not text still counts as naming the quota.
        let raw = |name: &str| h.get(name).map(|v| v.as_bytes().to_vec());
        let client = raw(&q.client).filter(|v| !v.is_empty());
        let value = match (removed, client, raw(&q.stored)) {
            (true, _, _) => Some(Vec::new()),
            (false, Some(v), _) | (false, None, Some(v)) => Some(v),
            (false, None, None) => raw(&q.client),
        };
        let Some(value) = value else { continue };
        if !reseller {
            return Err(ProxyError::Forbidden);
        }
        if !value.iter().all(u8::is_ascii_digit) {
            return Err(ProxyError::BadRequest(
                "The server could not comply with the request since it is either malformed or otherwise incorrect."
                    .into(),
            ));
        }
        // Only digits (or nothing) are left, so this is text.
        let value = String::from_utf8_lossy(&value).into_owned();
        for name in removes.iter().chain([&q.client]) {
            h.remove(name.as_str());
        }
        // An empty value removes the stored quota.
        insert(h, &q.stored, &value)?;
    }
    Ok(())
}

/// Adds the client spelling of every stored quota to an account response.
fn show_quotas(h: &mut HeaderMap) {
    for q in quotas() {
        if let Some(v) = h.get(q.stored.as_str()).filter(|v| !v.is_empty()).cloned() {
            if let Ok(n) = HeaderName::from_bytes(q.client.as_bytes()) {
                h.insert(n, v);
            }
        }
    }
}

/// A stored quota as Swift reads one (`int()`): a negative or unreadable value is none.
fn limit(h: &HeaderMap, name: &str) -> Option<u128> {
    get(h, name)?.trim().parse::<i128>().ok().and_then(|q| u128::try_from(q).ok())
}

fn stat(h: &HeaderMap, name: &str) -> u128 {
    get(h, name).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// Which message an upload of `length` bytes to an account with headers `h` earns, if any.
fn exceeded(h: &HeaderMap, length: u64) -> Option<&'static str> {
    let bytes = stat(h, "x-account-bytes-used") + u128::from(length);
    let objects = stat(h, "x-account-object-count") + 1;
    if limit(h, "x-account-meta-quota-bytes").is_some_and(|q| q < bytes)
        || limit(h, "x-account-meta-quota-count").is_some_and(|q| q < objects)
    {
        return Some(OVER_QUOTA);
    }
    // With one storage policy, every container is in it and its stats are the account's.
    let (_, idx) = POLICIES[0];
    if limit(h, &format!("x-account-meta-quota-bytes-policy-{idx}")).is_some_and(|q| q < bytes)
        || limit(h, &format!("x-account-meta-quota-count-policy-{idx}")).is_some_and(|q| q < objects)
    {
        return Some("Upload exceeds policy quota.");
    }
    None
}

/// Refuses an upload that would take the account past a quota. An account this proxy
/// cannot read passes: the PUT itself will answer for it.
async fn check_upload(next: &Next, ctx: &Ctx, account: &str, container: &str, length: u64) -> Result<()> {
    let p = next.cluster();
    let Ok(Some(h)) = account_info(p, ctx, account).await else { return Ok(()) };
    let Some(message) = exceeded(&h, length) else { return Ok(()) };
    let acl = container_info(p, ctx, account, container).await.ok().flatten().map(|i| i.acl.clone());
    Err(match refusal(ctx, account, container, &acl.unwrap_or_default()) {
        ProxyError::EntityTooLarge(_) => ProxyError::EntityTooLarge(message.into()),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::headers::set;

    fn headers(list: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in list {
            set(&mut h, n, v);
        }
        h
    }

    #[test]
    fn resellers_set_and_remove_quotas() {
        let mut h = headers(&[("x-account-quota-bytes", "100"), ("x-account-meta-color", "red")]);
        translate(&mut h, true).unwrap();
        assert_eq!(get(&h, "x-account-meta-quota-bytes"), Some("100"));
        assert!(!h.contains_key("x-account-quota-bytes"));
        assert!(!h.contains_key("x-account-meta-quota-count"));

        // The legacy spelling, and a removal that dominates a value.
        let mut h = headers(&[("x-account-meta-quota-bytes", "7")]);
        translate(&mut h, true).unwrap();
        assert_eq!(get(&h, "x-account-meta-quota-bytes"), Some("7"));
        let mut h = headers(&[("x-account-quota-count", "3"), ("x-remove-account-quota-count", "x")]);
        translate(&mut h, true).unwrap();
        assert_eq!(get(&h, "x-account-meta-quota-count"), Some(""));
        let mut h = headers(&[("x-account-quota-bytes-policy-policy-0", "9")]);
        translate(&mut h, true).unwrap();
        assert_eq!(get(&h, "x-account-meta-quota-bytes-policy-0"), Some("9"));

        let mut h = headers(&[("x-account-quota-bytes", "ten")]);
        assert!(matches!(translate(&mut h, true), Err(ProxyError::BadRequest(_))));
    }

    #[test]
    fn others_may_not_touch_quotas() {
        for name in [
            "x-account-quota-bytes",
            "x-account-meta-quota-bytes",
            "x-remove-account-meta-quota-bytes",
            "x-account-meta-quota-count",
            "x-remove-account-quota-count",
            "x-account-meta-quota-bytes-policy-0",
        ] {
            let mut h = headers(&[(name, "1")]);
            assert!(matches!(translate(&mut h, false), Err(ProxyError::Forbidden)), "{name}");
        }
        // A value that is not text still names the quota.
        let mut h = HeaderMap::new();
        h.insert("x-account-meta-quota-bytes", HeaderValue::from_bytes(b"\xff").unwrap());
        assert!(matches!(translate(&mut h, false), Err(ProxyError::Forbidden)));
        assert!(matches!(translate(&mut h, true), Err(ProxyError::BadRequest(_))));
        let mut h = headers(&[("x-account-meta-color", "red")]);
        translate(&mut h, false).unwrap();
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn uploads_against_quotas() {
        let h = headers(&[
            ("x-account-bytes-used", "90"),
            ("x-account-object-count", "2"),
            ("x-account-meta-quota-bytes", "100"),
        ]);
        assert_eq!(exceeded(&h, 10), None);
        assert_eq!(exceeded(&h, 11), Some(OVER_QUOTA));
        let h = headers(&[("x-account-object-count", "2"), ("x-account-meta-quota-count", "2")]);
        assert_eq!(exceeded(&h, 0), Some(OVER_QUOTA));
        let h = headers(&[("x-account-bytes-used", "5"), ("x-account-meta-quota-bytes-policy-0", "4")]);
        assert_eq!(exceeded(&h, 0), Some("Upload exceeds policy quota."));
        for unset in ["-1", "abc", ""] {
            let h = headers(&[("x-account-bytes-used", "5"), ("x-account-meta-quota-bytes", unset)]);
            assert_eq!(exceeded(&h, 100), None, "{unset:?}");
        }
    }

    #[test]
    fn responses_show_quotas() {
        let mut h = headers(&[("x-account-meta-quota-bytes", "5"), ("x-account-meta-quota-count", "")]);
        show_quotas(&mut h);
        assert_eq!(get(&h, "x-account-quota-bytes"), Some("5"));
        assert!(!h.contains_key("x-account-quota-count"));
    }
}
