//! `/v1/<account>`: listings and metadata of an account; accounts are created on demand.

use super::headers::{apply_removals, copy_headers, user_metadata};
use crate::auth::acl::ContainerAcl;
use crate::auth::authorize::{authorize, Access};
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::quote::resource_path;
use crate::state::cluster::Cluster;
use crate::storage::backend::{backend_headers, bodiless, passthrough};
use crate::storage::placement::ordered;
use crate::storage::quorum::best_status;
use crate::storage::read::{read_first, ReadOutcome};
use crate::storage::write::{fan_out, statuses, WriteTargets};
use common::constraints::check_metadata;
use common::http::Body;
use common::Timestamp;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use std::sync::Arc;

pub(crate) async fn handle(p: &Cluster, ctx: &Ctx, account: &str, req: &Parts) -> Result<Response<Body>> {
    authorize(ctx, account, None, Access::Owner, &ContainerAcl::default())?;
    match req.method {
        Method::GET | Method::HEAD => read(p, ctx, account, req).await,
        Method::POST => post(p, ctx, account, req).await,
        Method::PUT | Method::DELETE => Err(ProxyError::MethodNotAllowed),
        _ => Err(ProxyError::MethodNotAllowed),
    }
}

async fn read(p: &Cluster, ctx: &Ctx, account: &str, req: &Parts) -> Result<Response<Body>> {
    let ring = p.rings.account.current();
    let part = ring.get_part(&p.secret, account, None, None);
    let nodes = ordered(&ring, part, ring.replica_count(), &p.limiter);
    let mut headers = backend_headers(ctx);
    copy_headers(&req.headers, &mut headers, &[], &["accept", "x-newest"]);
    let path = resource_path(account, None, None);
    match read_first(p, &nodes, part, req.method.clone(), &path, req.uri.query(), &headers, ring.replica_count()).await
    {
        ReadOutcome::Found(resp) => {
            // What the owner just read is the freshest the quota and TempURL checks can have.
            if resp.status().is_success() {
                p.accounts.put(account.to_string(), Some(Arc::new(resp.headers().clone())));
            }
            Ok(passthrough(resp))
        }
        ReadOutcome::NotFound => {
            p.accounts.put(account.to_string(), None);
            if p.config.account_autocreate {
                Ok(empty_account(account, req))
            } else {
                Err(ProxyError::NotFound)
            }
        }
        ReadOutcome::Unavailable => Err(ProxyError::ServiceUnavailable("Account servers unavailable".into())),
    }
}

/// What a not-yet-created account looks like to its owner: empty, in the asked format.
fn empty_account(account: &str, req: &Parts) -> Response<Body> {
    let format = listing_format(req.uri.query(), &req.headers);
    let (status, body, ctype) = match format {
        ListingFormat::Json => (StatusCode::OK, "[]".to_string(), "application/json; charset=utf-8"),
        ListingFormat::Xml => (
            StatusCode::OK,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"{}\"></account>", xml_escape(account)),
            "application/xml; charset=utf-8",
        ),
        ListingFormat::Plain => (StatusCode::NO_CONTENT, String::new(), "text/plain; charset=utf-8"),
    };
    // A HEAD is 204 in every format, as the account servers answer it.
    let (status, body) =
        if req.method == Method::HEAD { (StatusCode::NO_CONTENT, String::new()) } else { (status, body) };
    let mut resp = Response::new(common::http::full(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("x-account-container-count", HeaderValue::from(0));
    h.insert("x-account-object-count", HeaderValue::from(0));
    h.insert("x-account-bytes-used", HeaderValue::from(0));
    h.insert("x-timestamp", HeaderValue::from_static("0000000000.00000"));
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

async fn post(p: &Cluster, ctx: &Ctx, account: &str, req: &Parts) -> Result<Response<Body>> {
    check_metadata(user_metadata(&req.headers, "account"))?;
    let mut status = write_all(p, ctx, account, Method::POST, &req.headers).await;
    if status == StatusCode::NOT_FOUND && p.config.account_autocreate {
        ensure_account(p, ctx, account).await?;
        status = write_all(p, ctx, account, Method::POST, &req.headers).await;
    }
    Ok(bodiless(status, HeaderMap::new()))
}

/// Sends an account write to every replica and settles the status.
async fn write_all(p: &Cluster, ctx: &Ctx, account: &str, method: Method, client: &HeaderMap) -> StatusCode {
    let ring = p.rings.account.current();
    let part = ring.get_part(&p.secret, account, None, None);
    let targets = WriteTargets::new(&ring, part, p);
    let mut headers = backend_headers(ctx);
    headers.insert(
        "x-timestamp",
        HeaderValue::from_str(&Timestamp::now().internal()).unwrap_or(HeaderValue::from_static("0")),
    );
    copy_headers(client, &mut headers, &["x-account-meta-"], &[]);
    apply_removals(client, &mut headers, "account-meta");
    let n = targets.replicas();
    let path = resource_path(account, None, None);
    let replies = fan_out(p, targets, method, (&path, None), vec![headers; n], bytes::Bytes::new()).await;
    // After the write, so a read that raced it cannot leave the old headers cached.
    p.accounts.invalidate(account);
    best_status(&statuses(&replies), n)
}

/// Creates the account if it does not exist yet (`account_autocreate`).
pub(crate) async fn ensure_account(p: &Cluster, ctx: &Ctx, account: &str) -> Result<()> {
    let ring = p.rings.account.current();
    let part = ring.get_part(&p.secret, account, None, None);
    let nodes = ordered(&ring, part, ring.replica_count(), &p.limiter);
    let path = resource_path(account, None, None);
    match read_first(p, &nodes, part, Method::HEAD, &path, None, &backend_headers(ctx), ring.replica_count()).await {
        ReadOutcome::Found(resp) if resp.status().is_success() => Ok(()),
        ReadOutcome::NotFound if p.config.account_autocreate => {
            let status = write_all(p, ctx, account, Method::PUT, &HeaderMap::new()).await;
            if status.is_success() {
                Ok(())
            } else {
                Err(ProxyError::ServiceUnavailable(format!("could not create account: {status}")))
            }
        }
        ReadOutcome::NotFound => Err(ProxyError::NotFound),
        _ => Err(ProxyError::ServiceUnavailable("Account servers unavailable".into())),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListingFormat {
    Plain,
    Json,
    Xml,
}

/// `format=` wins over `Accept`, as in Swift.
pub(crate) fn listing_format(query: Option<&str>, headers: &HeaderMap) -> ListingFormat {
    let from_query = query
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "format").map(|(_, v)| v.to_lowercase()));
    let pick = |s: &str| {
        if s.contains("json") {
            Some(ListingFormat::Json)
        } else if s.contains("xml") {
            Some(ListingFormat::Xml)
        } else {
            None
        }
    };
    from_query
        .as_deref()
        .and_then(pick)
        .or_else(|| headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).and_then(pick))
        .unwrap_or(ListingFormat::Plain)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: Method, uri: &str) -> Parts {
        http::Request::builder().method(method).uri(uri).body(()).unwrap().into_parts().0
    }

    #[test]
    fn empty_account_head_is_204_in_every_format() {
        for q in ["", "?format=json", "?format=xml"] {
            let r = empty_account("AUTH_t", &parts(Method::HEAD, &format!("/v1/AUTH_t{q}")));
            assert_eq!(r.status(), StatusCode::NO_CONTENT, "HEAD {q}");
        }
        assert_eq!(empty_account("AUTH_t", &parts(Method::GET, "/v1/AUTH_t?format=json")).status(), StatusCode::OK);
        assert_eq!(empty_account("AUTH_t", &parts(Method::GET, "/v1/AUTH_t")).status(), StatusCode::NO_CONTENT);
    }
}
