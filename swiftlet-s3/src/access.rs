//! Where an S3 request acts and with whose rights: the one global bucket namespace, and
//! the bucket policy combined with the ACLs.
//!
//! Buckets are containers of `AUTH_<account>`, and an S3 path names no account. The only
//! S3 users are the proxy's tempauth users (their keys are the S3 secrets), so a bucket's
//! account is found among the configured users' accounts: the caller's own first, then
//! every account in config order (cached container info, as the CORS preflight does).
//! Every proxy of a cluster has the same users, so every proxy finds the same account;
//! CreateBucket refuses a name another of those accounts holds (409 BucketAlreadyExists).
//!
//! Then the policy (if the bucket has one) is evaluated, deny-overrides: an explicit
//! Deny refuses whatever the ACLs grant; an Allow grants even where the ACLs do not (the
//! request then runs in a TempURL-like scope of that one container, as the Swift side
//! has no ACL for it); otherwise the ACLs decide, through Swift's own authorization, as
//! before. Anonymous callers may read what `.r:*` (public-read) grants and write where
//! the bucket's write ACL names everyone (public-read-write, which S3 writes as `*`).

use crate::error::{Result, S3Error};
use crate::policy::{self, Action, Decision, PolicyRequest};
use crate::router::Endpoint;
use crate::signature::S3User;
use common::headers::get;
use http::HeaderMap;
use std::net::IpAddr;
use swiftlet_proxy::context::Ctx;
use swiftlet_proxy::{Identity, SwiftApi, TempUrlScope};

/// A bucket found in the namespace: its storage account and container headers.
#[derive(Debug, Clone)]
pub(crate) struct FoundBucket {
    pub account: String,
    pub headers: HeaderMap,
}

/// The storage accounts S3 buckets can live in: `first` (the caller's own), then the
/// configured users' accounts in config order, each once.
fn candidate_accounts(api: &SwiftApi, first: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = first.map(str::to_string).into_iter().collect();
    for u in api.users() {
        let a = api.storage_account(&u.account);
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The account holding `bucket`, looking in `own` first.
pub(crate) async fn find_bucket(
    api: &SwiftApi,
    trans_id: &str,
    own: Option<&str>,
    bucket: &str,
) -> Option<FoundBucket> {
    let ctx = Ctx::new(trans_id, None);
    for account in candidate_accounts(api, own) {
        match api.container_info(&ctx, &account, bucket).await {
            Ok(Some(info)) => return Some(FoundBucket { account, headers: info.headers.clone() }),
            Ok(None) => {}
            Err(e) => tracing::warn!(account = %account, bucket, error = %e, "bucket lookup failed"),
        }
    }
    None
}

/// CreateBucket's check of the namespace: a name any other account holds is taken.
pub(crate) async fn check_name_free(api: &SwiftApi, trans_id: &str, own: &str, bucket: &str) -> Result<()> {
    match find_bucket(api, trans_id, Some(own), bucket).await {
        Some(found) if found.account != own => Err(S3Error::BucketAlreadyExists),
        _ => Ok(()),
    }
}

/// Who asks: the signed user and its Swift identity (both `None` when anonymous), and the
/// TCP peer's address.
#[derive(Clone, Copy)]
pub(crate) struct Caller<'a> {
    pub user: Option<&'a S3User>,
    pub identity: Option<&'a Identity>,
    pub peer: Option<IpAddr>,
}

/// With what rights the Swift requests of an S3 request run in the bucket's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grant {
    /// As the caller (its identity, or none): Swift's ACLs decide.
    AsCaller,
    /// Inside the bucket's container only, whatever the ACLs say: the policy allowed it,
    /// or the bucket's ACL lets everyone write.
    Container,
}

impl Grant {
    pub(crate) fn scope(&self, account: &str, bucket: &str) -> Option<TempUrlScope> {
        match self {
            Grant::AsCaller => None,
            Grant::Container => {
                Some(TempUrlScope { account: account.to_string(), container: Some(bucket.to_string()) })
            }
        }
    }
}

/// The policy action an operation is, and whether an Allow may lift it into the bucket's
/// container scope (operations that touch only that container). Every write of objects
/// is `s3:PutObject`, so a Deny of it holds for copies and multipart uploads too.
pub(crate) fn action_of(endpoint: &Endpoint) -> Option<(Action, bool)> {
    use Endpoint::*;
    Some(match endpoint {
        GetObject | HeadObject => (Action::GetObject, true),
        PutObject => (Action::PutObject, true),
        CopyObject
        | CreateMultipartUpload
        | UploadPart { .. }
        | UploadPartCopy { .. }
        | CompleteMultipartUpload { .. } => (Action::PutObject, false),
        DeleteObject => (Action::DeleteObject, true),
        DeleteObjects => (Action::DeleteObject, false),
        ListObjects | ListObjectsV2 | HeadBucket => (Action::ListBucket, true),
        _ => return None,
    })
}

/// What the policy and ACLs let `caller` do with `action` on `key` of `found`.
/// `liftable` says whether an Allow may run it in the container's scope; `any_key` that
/// the keys are not known yet (DeleteObjects): then a Deny of any key refuses.
pub(crate) fn authorize(
    found: &FoundBucket,
    bucket: &str,
    caller: Caller<'_>,
    action: Option<(Action, bool)>,
    key: Option<&str>,
    any_key: bool,
) -> Result<Grant> {
    let principal = caller.user.map(|u| (u.account.as_str(), u.user.as_str()));
    let owner = caller.identity.is_some_and(|id| id.is_owner(&found.account));
    if let (Some((action, liftable)), Some(stored)) = (action, policy::stored(&found.headers, bucket)) {
        let Ok(policy) = stored else {
            tracing::warn!(bucket, "unreadable stored bucket policy: refusing what it could govern");
            return Err(S3Error::AccessDenied);
        };
        let req = PolicyRequest { principal, action, key, source_ip: caller.peer };
        let decision = if any_key { policy.evaluate_any_key(&req) } else { policy.evaluate(&req) };
        match decision {
            Decision::Deny => return Err(S3Error::AccessDenied),
            Decision::Allow if liftable && !owner => return Ok(Grant::Container),
            Decision::Allow | Decision::Silent => {}
        }
    }
    if caller.user.is_some() {
        return Ok(Grant::AsCaller);
    }
    // Anonymous: only the object and listing operations the ACLs can grant everyone.
    match action {
        Some((Action::PutObject | Action::DeleteObject, true)) if everyone_writes(&found.headers) => {
            Ok(Grant::Container)
        }
        Some((_, true)) => Ok(Grant::AsCaller),
        _ => Err(S3Error::AccessDenied),
    }
}

/// Where `endpoint` acts and with which grant: the bucket's account (found in the
/// namespace), or the caller's own for ListBuckets, CreateBucket and a bucket that does
/// not exist (Swift then answers NoSuchBucket). An anonymous caller is refused outright
/// where there is no bucket to grant it anything, exists or not (it learns nothing).
pub(crate) async fn place(
    api: &SwiftApi,
    trans_id: &str,
    endpoint: &Endpoint,
    bucket: Option<&str>,
    key: Option<&str>,
    caller: Caller<'_>,
) -> Result<(String, Grant)> {
    let own = caller.identity.map(|id| id.storage_account.clone());
    let as_own = || own.clone().map(|a| (a, Grant::AsCaller)).ok_or(S3Error::AccessDenied);
    let Some(bucket) = bucket else { return as_own() };
    if *endpoint == Endpoint::CreateBucket {
        let (account, grant) = as_own()?;
        check_name_free(api, trans_id, &account, bucket).await?;
        return Ok((account, grant));
    }
    match find_bucket(api, trans_id, own.as_deref(), bucket).await {
        None => as_own(),
        Some(found) => {
            let many = *endpoint == Endpoint::DeleteObjects;
            let grant = authorize(&found, bucket, caller, action_of(endpoint), key, many)?;
            Ok((found.account, grant))
        }
    }
}

/// Whether the bucket's write ACL names everyone (S3's public-read-write, `*`).
fn everyone_writes(h: &HeaderMap) -> bool {
    get(h, "x-container-write").unwrap_or("").split(',').any(|e| e.trim() == "*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::headers::set;

    fn bucket(read: &str, write: &str, policy: Option<&str>) -> FoundBucket {
        let mut headers = HeaderMap::new();
        set(&mut headers, "x-container-read", read);
        set(&mut headers, "x-container-write", write);
        if let Some(p) = policy {
            set(&mut headers, policy::SYSMETA_POLICY, p);
        }
        FoundBucket { account: "AUTH_test".into(), headers }
    }

    fn owner() -> Identity {
        Identity {
            account: "test".into(),
            user: "tester".into(),
            admin: true,
            reseller_admin: false,
            storage_account: "AUTH_test".into(),
            reseller_prefix: "AUTH_".into(),
            read_only: false,
        }
    }

    const ANON: Caller<'static> = Caller { user: None, identity: None, peer: None };

    #[test]
    fn anonymous_callers_get_what_the_acls_give_everyone() {
        let public_rw = bucket(".r:*,.rlistings", "*", None);
        let put = action_of(&Endpoint::PutObject);
        assert_eq!(authorize(&public_rw, "b", ANON, put, Some("k"), false).unwrap(), Grant::Container);
        let get = action_of(&Endpoint::GetObject);
        assert_eq!(authorize(&public_rw, "b", ANON, get, Some("k"), false).unwrap(), Grant::AsCaller);
        let private = bucket("", "", None);
        assert!(authorize(&private, "b", ANON, put, Some("k"), false).unwrap() == Grant::AsCaller);
        for ep in
            [Endpoint::GetBucketAcl, Endpoint::DeleteObjects, Endpoint::CreateMultipartUpload, Endpoint::PutBucketAcl]
        {
            let got = authorize(&public_rw, "b", ANON, action_of(&ep), Some("k"), false);
            assert!(matches!(got, Err(S3Error::AccessDenied)), "{ep:?}");
        }
    }

    #[test]
    fn an_explicit_deny_beats_the_acls_and_an_allow_lifts() {
        let deny = concat!(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"},"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/inbox/*"}]}"#
        );
        let b = bucket(".r:*,.rlistings", "", Some(deny));
        let get = action_of(&Endpoint::GetObject);
        assert!(matches!(authorize(&b, "b", ANON, get, Some("secret/x"), false), Err(S3Error::AccessDenied)));
        assert_eq!(authorize(&b, "b", ANON, get, Some("open/x"), false).unwrap(), Grant::AsCaller);
        let id = owner();
        let user = S3User { account: "test".into(), user: "tester".into(), groups: vec![] };
        let me = Caller { user: Some(&user), identity: Some(&id), peer: None };
        assert!(matches!(authorize(&b, "b", me, get, Some("secret/x"), false), Err(S3Error::AccessDenied)));
        let put = action_of(&Endpoint::PutObject);
        assert_eq!(authorize(&b, "b", ANON, put, Some("inbox/x"), false).unwrap(), Grant::Container);
        assert_eq!(
            authorize(&b, "b", me, put, Some("inbox/x"), false).unwrap(),
            Grant::AsCaller,
            "owners need no lift"
        );
        let multipart = action_of(&Endpoint::CreateMultipartUpload);
        assert!(authorize(&b, "b", ANON, multipart, Some("inbox/x"), false).is_err(), "only simple writes are lifted");
        let del = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/keep/*"}}"#;
        let b = bucket("", "", Some(del));
        let many = action_of(&Endpoint::DeleteObjects);
        assert!(authorize(&b, "b", me, many, None, true).is_err(), "a Deny of some key refuses DeleteObjects");
        let broken = bucket("", "", Some("{not json"));
        assert!(authorize(&broken, "b", me, get, Some("k"), false).is_err());
        assert_eq!(
            authorize(&broken, "b", me, action_of(&Endpoint::GetBucketAcl), None, false).unwrap(),
            Grant::AsCaller
        );
    }
}
