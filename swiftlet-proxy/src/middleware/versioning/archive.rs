//! The sub-requests behind versioned writes (Swift's legacy `versioned_writes`): copying
//! the current version of an object into the versions container, writing history-mode
//! delete markers, walking the archived versions newest first, and restoring one.
//!
//! They run below versioning, through `Next`, pre-authorized within the account as
//! Swift's pre-authed sub-requests are: the middleware has already checked the client's
//! write access to the versioned container, and the versions container is the one its
//! owner chose. A client that may write the object may thus archive it even without
//! rights on the versions container, as in Swift.

use crate::auth::identity::TempUrlScope;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::pipeline::step::Next;
use crate::pipeline::subrequest::{self as sub};
use crate::request::ProxyRequest;
use common::constraints::MAX_FILE_SIZE;
use common::headers::{get, set};
use common::http::Body;
use common::Timestamp;
use http::{HeaderMap, Method, Response, StatusCode};
use serde::Deserialize;
use std::collections::VecDeque;

/// The content type of a history-mode delete marker (Swift's, with a `swift_*` parameter
/// no client sets by accident).
pub const DELETE_MARKER: &str = "application/x-deleted;swift_versions_deleted=1";

/// Archived versions are read a page at a time; a page is bounded in memory.
const PAGE: usize = 1000;
const PAGE_BYTES: usize = 4 << 20;

/// `<3 hex digits: byte length of the name><name>/`: every archived version of one object
/// shares this prefix, and no other object's versions do.
pub(crate) fn versions_prefix(object: &str) -> String {
    format!("{:03x}{object}/", object.len())
}

/// The archive name of the version of `object` written at `ts`.
pub(crate) fn archive_name(object: &str, ts: &Timestamp) -> String {
    format!("{}{}", versions_prefix(object), ts.internal())
}

/// One versioned object and where its versions go.
pub(crate) struct Versioning {
    pub next: Next,
    /// The client's context, pre-authorized within the account.
    pub ctx: Ctx,
    pub account: String,
    pub container: String,
    pub object: String,
    pub versions: String,
}

/// An archived version as the listing shows it.
#[derive(Debug, Deserialize)]
pub(crate) struct Archived {
    pub name: String,
    #[serde(default)]
    pub content_type: String,
}

impl Versioning {
    pub(crate) fn new(next: Next, client: &Ctx, account: &str, container: &str, object: &str, versions: &str) -> Self {
        let mut ctx = client.sub("VW");
        ctx.temp_url = Some(TempUrlScope { account: account.to_string(), container: None });
        Versioning {
            next,
            ctx,
            account: account.to_string(),
            container: container.to_string(),
            object: object.to_string(),
            versions: versions.to_string(),
        }
    }

    fn request(&self, method: Method, container: &str, object: &str, body: Body) -> ProxyRequest {
        let path = crate::quote::swift_path(&self.account, Some(container), Some(object));
        sub::new(method, &path, None, &self.ctx, body)
    }

    /// Copies the current version (if any) into the versions container. Any failure
    /// stops the client's write, so an old version is never lost.
    pub(crate) async fn archive_current(&self) -> Result<()> {
        let Some(source) = self.get_source(&self.container, &self.object).await? else {
            return Ok(());
        };
        let ts = get(source.headers(), "x-timestamp")
            .and_then(|t| t.parse::<Timestamp>().ok())
            .or_else(|| {
                let lm = get(source.headers(), "last-modified")?;
                let at = httpdate::parse_http_date(lm).ok()?;
                let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
                Some(Timestamp::from_ticks(secs * 100_000))
            })
            .ok_or_else(|| ProxyError::Internal("current version has no timestamp".into()))?;
        let name = archive_name(&self.object, &ts);
        self.put_copy(source, &self.versions, &name).await
    }

    /// History mode: a zero-byte marker recording when the object was deleted.
    pub(crate) async fn write_delete_marker(&self) -> Result<()> {
        let name = archive_name(&self.object, &Timestamp::now());
        let mut put = self.request(Method::PUT, &self.versions, &name, common::http::empty());
        set(put.headers_mut(), "content-type", DELETE_MARKER);
        set(put.headers_mut(), "content-length", "0");
        check(self.next.call(put).await.status())
    }

    /// Copies the archived version `name` back over the object; `false` when that
    /// version is gone (a concurrent restore took it), so the caller tries the next.
    pub(crate) async fn restore(&self, name: &str) -> Result<bool> {
        let Some(source) = self.get_source(&self.versions, name).await? else {
            return Ok(false);
        };
        self.put_copy(source, &self.container, &self.object).await?;
        Ok(true)
    }

    /// Whether the object currently has data (a HEAD that is not a 404).
    pub(crate) async fn current_exists(&self) -> Result<bool> {
        let mut head = self.request(Method::HEAD, &self.container, &self.object, common::http::empty());
        set(head.headers_mut(), "x-newest", "true");
        let status = self.next.call(head).await.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        check(status)?;
        Ok(true)
    }

    /// A pre-authorized DELETE of an archived version.
    pub(crate) fn delete_archived(&self, name: &str) -> ProxyRequest {
        self.request(Method::DELETE, &self.versions, name, common::http::empty())
    }

    /// GET of a version to copy: `None` for a 404.
    async fn get_source(&self, container: &str, object: &str) -> Result<Option<Response<Body>>> {
        let mut source = self.request(Method::GET, container, object, common::http::empty());
        set(source.headers_mut(), "x-newest", "true");
        let resp = self.next.call(source).await;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        check(resp.status())?;
        match get(resp.headers(), "content-length").and_then(|l| l.parse::<u64>().ok()) {
            Some(len) if len <= MAX_FILE_SIZE => Ok(Some(resp)),
            // Swift answers its own 413 here, which its error rule turns into a 412.
            _ => Err(precondition_failed()),
        }
    }

    /// Streams `source` into `container/object`, keeping every header but its timestamp.
    async fn put_copy(&self, source: Response<Body>, container: &str, object: &str) -> Result<()> {
        let (parts, body) = source.into_parts();
        let mut headers = HeaderMap::new();
        for (name, value) in &parts.headers {
            if !matches!(name.as_str(), "x-timestamp" | "transfer-encoding" | "connection") {
                headers.append(name.clone(), value.clone());
            }
        }
        // A manifest's GET hides its total size; the copy's listing row needs it back.
        if let Some(size) = get(&headers, "x-object-sysmeta-slo-size").map(str::to_string) {
            let ctype = get(&headers, "content-type").unwrap_or("application/octet-stream").to_string();
            set(&mut headers, "content-type", &format!("{ctype};swift_bytes={size}"));
        }
        // Nothing to stream for an empty version (a DLO manifest, a delete marker); the
        // GET's body is not read at all then.
        let body = if get(&headers, "content-length") == Some("0") { common::http::empty() } else { body };
        let mut put = self.request(Method::PUT, container, object, body);
        *put.headers_mut() = headers;
        check(self.next.call(put).await.status())
    }

    /// The archived versions of the object, newest first.
    pub(crate) fn archived(&self) -> ArchivedIter {
        ArchivedIter {
            prefix: versions_prefix(&self.object),
            marker: String::new(),
            page: VecDeque::new(),
            done: false,
        }
    }
}

/// Walks the versions container's listing for one object, newest first, a page at a time.
pub(crate) struct ArchivedIter {
    prefix: String,
    marker: String,
    page: VecDeque<Archived>,
    done: bool,
}

impl ArchivedIter {
    pub(crate) async fn next(&mut self, vw: &Versioning) -> Result<Option<Archived>> {
        if self.page.is_empty() && !self.done {
            self.fetch(vw).await?;
        }
        Ok(self.page.pop_front())
    }

    async fn fetch(&mut self, vw: &Versioning) -> Result<()> {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("format", "json")
            .append_pair("prefix", &self.prefix)
            .append_pair("marker", &self.marker)
            .append_pair("reverse", "on")
            .append_pair("limit", &PAGE.to_string())
            .finish();
        let path = crate::quote::swift_path(&vw.account, Some(&vw.versions), None);
        let resp = vw.next.call(sub::new(Method::GET, &path, Some(&query), &vw.ctx, common::http::empty())).await;
        let status = resp.status();
        // No versions container means nothing archived.
        if status == StatusCode::NOT_FOUND {
            self.done = true;
            return Ok(());
        }
        if status.is_client_error() {
            return Err(precondition_failed());
        }
        if !status.is_success() {
            return Err(ProxyError::Internal(format!("versions listing answered {status}")));
        }
        let body = sub::read_response(resp, PAGE_BYTES).await?;
        let items: Vec<Archived> = if body.is_empty() {
            Vec::new()
        } else {
            serde_json::from_slice(&body).map_err(|e| ProxyError::Internal(format!("versions listing: {e}")))?
        };
        match items.last() {
            Some(last) => self.marker = last.name.clone(),
            None => self.done = true,
        }
        if items.len() < PAGE {
            self.done = true;
        }
        self.page.extend(items);
        Ok(())
    }
}

fn precondition_failed() -> ProxyError {
    ProxyError::PreconditionFailed("A precondition for this request was not met.".into())
}

/// Swift's rule for a failed versioning step: a client error (no versions container, no
/// permission) is a 412, anything else a 503; either way the client's write stops.
pub(crate) fn check(status: StatusCode) -> Result<()> {
    if status.is_success() {
        Ok(())
    } else if status.is_client_error() {
        Err(precondition_failed())
    } else {
        Err(ProxyError::ServiceUnavailable(format!("could not version the object (sub-request answered {status})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_swift() {
        assert_eq!(versions_prefix("myobject"), "008myobject/");
        assert_eq!(versions_prefix("a/b"), "003a/b/");
        // The length counts UTF-8 bytes, as Swift's WSGI strings do.
        assert_eq!(versions_prefix("\u{e9}"), "002\u{e9}/");
        let ts: Timestamp = "1700000000.12345".parse().unwrap();
        assert_eq!(archive_name("o", &ts), "001o/1700000000.12345");
        let long = "x".repeat(1024);
        assert!(versions_prefix(&long).starts_with("400x"));
    }

    #[test]
    fn failure_statuses() {
        assert!(check(StatusCode::CREATED).is_ok());
        assert!(matches!(check(StatusCode::NOT_FOUND), Err(ProxyError::PreconditionFailed(_))));
        assert!(matches!(check(StatusCode::FORBIDDEN), Err(ProxyError::PreconditionFailed(_))));
        assert!(matches!(check(StatusCode::SERVICE_UNAVAILABLE), Err(ProxyError::ServiceUnavailable(_))));
    }
}
