//! Object versioning, as Swift's legacy `versioned_writes` middleware: a container flagged
//! with `X-Versions-Location: <c>` (stack mode) or `X-History-Location: <c>` (history
//! mode) keeps each overwritten version of its objects in container `<c>`, named
//! `<3-hex-digit name length><name>/<timestamp of that version>`.
//!
//! - Container requests: the client's flag becomes container sysmeta (location and mode),
//!   and responses show it again under the client's header name.
//! - Object PUT (also the PUT that COPY, `X-Copy-From` and SLO manifests turn into, since
//!   they pass here): the current version is copied aside first.
//! - Object DELETE, stack mode: the newest archived version is copied back and removed
//!   from the archive. History mode: the current version is archived, a delete marker
//!   written, then the object deleted.
//!
//! The sub-requests live in `versioning_archive`. A failed archive step stops the
//! client's write, so an old version is never lost.

use super::archive::{Versioning, DELETE_MARKER};
use crate::auth::authorize::{authorize, Access};
use crate::error::{ProxyError, Result};
use crate::lookups::container::container_info;
use crate::pipeline::step::{Next, Reply, Step};
use crate::request::ProxyRequest;
use crate::route::Route;
use crate::state::info::ContainerInfo;
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response};
use serde_json::{json, Value};

const CLIENT_VERSIONS: &str = "x-versions-location";
const CLIENT_HISTORY: &str = "x-history-location";
const REMOVE_VERSIONS: &str = "x-remove-versions-location";
const REMOVE_HISTORY: &str = "x-remove-history-location";
const SYSMETA_LOCATION: &str = "x-container-sysmeta-versions-location";
const SYSMETA_MODE: &str = "x-container-sysmeta-versions-mode";

pub(crate) struct VersionedWrites;

impl Step for VersionedWrites {
    fn name(&self) -> &'static str {
        "versioned_writes"
    }

    fn info(&self) -> Option<Value> {
        Some(json!({ "allowed_flags": [CLIENT_VERSIONS, CLIENT_HISTORY] }))
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            match &req.route {
                Route::Container { .. } => container_request(req, next).await,
                Route::Object { account, container, .. }
                    if req.method() == Method::PUT || req.method() == Method::DELETE =>
                {
                    let info = container_info(next.cluster(), &req.ctx, account, container).await?;
                    match info.and_then(|i| flagged(&i.headers).map(|f| (i, f))) {
                        Some((info, flag)) => object_request(req, next, &info, flag).await,
                        None => next.run(req).await,
                    }
                }
                _ => next.run(req).await,
            }
        })
    }
}

/// Whether a container flags versioning, and how deletes behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Stack,
    History,
}

/// Turns the client's versioning headers into the sysmeta the container stores: a
/// location (as sent) and a mode; an empty value or an `X-Remove-*` header clears both.
fn translate_container_headers(h: &mut HeaderMap) -> Result<()> {
    let value = |h: &HeaderMap, n: &str| get(h, n).map(str::to_string);
    if let (Some(versions), Some(history)) = (value(h, CLIENT_VERSIONS), value(h, CLIENT_HISTORY)) {
        if history.is_empty() {
            h.remove(CLIENT_HISTORY);
        } else if !versions.is_empty() {
            return Err(ProxyError::BadRequest(format!(
                "Only one of {CLIENT_VERSIONS} or {CLIENT_HISTORY} may be specified"
            )));
        } else {
            h.remove(CLIENT_VERSIONS);
        }
    }
    let flag = match (value(h, CLIENT_VERSIONS), value(h, CLIENT_HISTORY)) {
        (Some(v), _) => Some((v, Mode::Stack)),
        (None, Some(v)) => Some((v, Mode::History)),
        (None, None) => None,
    };
    match flag {
        Some((v, _)) if v.is_empty() => set(h, REMOVE_VERSIONS, "x"),
        Some((location, mode)) => {
            if location.contains('/') {
                return Err(ProxyError::PreconditionFailed("Container name cannot contain slashes".into()));
            }
            set(h, SYSMETA_LOCATION, &location);
            set(h, SYSMETA_MODE, if mode == Mode::History { "history" } else { "stack" });
            // Sysmeta is now the one record; clear any location stored the legacy way.
            set(h, CLIENT_VERSIONS, "");
            // Setting a location wins over removing one in the same request.
            h.remove(REMOVE_VERSIONS);
            h.remove(REMOVE_HISTORY);
        }
        None => {}
    }
    let removing = [REMOVE_VERSIONS, REMOVE_HISTORY].iter().any(|n| get(h, n).is_some_and(|v| !v.is_empty()));
    if removing {
        for n in [CLIENT_VERSIONS, SYSMETA_LOCATION, SYSMETA_MODE] {
            set(h, n, "");
        }
        h.remove(REMOVE_VERSIONS);
        h.remove(REMOVE_HISTORY);
    }
    // The container keeps no history location of its own: only sysmeta carries it.
    h.remove(CLIENT_HISTORY);
    Ok(())
}

/// Shows the stored flag under the client's header name.
fn show_location(h: &mut HeaderMap) {
    let Some(location) = get(h, SYSMETA_LOCATION).filter(|l| !l.is_empty()).map(str::to_string) else {
        return;
    };
    let name = if get(h, SYSMETA_MODE) == Some("history") { CLIENT_HISTORY } else { CLIENT_VERSIONS };
    set(h, name, &location);
}

async fn container_request(mut req: ProxyRequest, next: Next) -> Result<Response<Body>> {
    translate_container_headers(req.headers_mut())?;
    let mut resp = next.run(req).await?;
    show_location(resp.headers_mut());
    Ok(resp)
}

/// The versions container and mode a container's headers flag, if any. A location
/// stored before sysmeta (plain `X-Versions-Location`) still means stack mode.
fn flagged(h: &HeaderMap) -> Option<(String, Mode)> {
    let (raw, mode) = match get(h, SYSMETA_LOCATION).filter(|l| !l.is_empty()) {
        Some(l) => (l, if get(h, SYSMETA_MODE) == Some("history") { Mode::History } else { Mode::Stack }),
        None => (get(h, CLIENT_VERSIONS).filter(|l| !l.is_empty())?, Mode::Stack),
    };
    let decoded = common::path::decode(raw).ok()?;
    let name = decoded.split('/').next().unwrap_or("");
    (!name.is_empty()).then(|| (name.to_string(), mode))
}

/// A write to an object of a container that keeps versions in `versions`.
async fn object_request(
    req: ProxyRequest,
    next: Next,
    info: &ContainerInfo,
    (versions, mode): (String, Mode),
) -> Result<Response<Body>> {
    let Route::Object { account, container, object } = &req.route else { return next.run(req).await };
    let (ctx, account, container, object) = (req.ctx.clone(), account.clone(), container.clone(), object.clone());
    let (account, container, object) = (account.as_str(), container.as_str(), object.as_str());
    // The client must be allowed the write itself before anything is copied on its behalf.
    let allowed = || authorize(&ctx, account, Some(container), Access::WriteObject, &info.acl);
    let vw = Versioning::new(next.clone(), &ctx, account, container, object, &versions);
    match (req.method().clone(), mode) {
        (Method::PUT, _) => {
            allowed()?;
            vw.archive_current().await?;
            next.run(req).await
        }
        (_, Mode::History) => {
            allowed()?;
            vw.archive_current().await?;
            vw.write_delete_marker().await?;
            next.run(req).await
        }
        (_, Mode::Stack) => delete_pop(req, &vw, allowed).await,
    }
}

/// Stack-mode DELETE: the newest archived version replaces the object and leaves the
/// archive, so the DELETE the client sees is that of the archived copy. With nothing
/// archived the DELETE goes through as sent.
async fn delete_pop(req: ProxyRequest, vw: &Versioning, allowed: impl Fn() -> Result<()>) -> Result<Response<Body>> {
    let mut archived = vw.archived();
    let mut redirect = None;
    let mut checked = false;
    while let Some(version) = archived.next(vw).await? {
        if !checked {
            allowed()?;
            checked = true;
        }
        if version.content_type != DELETE_MARKER {
            if vw.restore(&version.name).await? {
                redirect = Some(version.name);
                break;
            }
            continue;
        }
        // A delete marker left by history mode: if the object has data again, this
        // DELETE removes it, back to the deleted state.
        if vw.current_exists().await? {
            break;
        }
        // Otherwise restore what was there before the marker, then drop the marker.
        while let Some(older) = archived.next(vw).await? {
            if older.content_type == DELETE_MARKER {
                break;
            }
            if !vw.restore(&older.name).await? {
                continue;
            }
            let status = vw.next.call(vw.delete_archived(&older.name)).await.status();
            // Gone already: it existed long enough to be copied, which is what counts.
            if status != http::StatusCode::NOT_FOUND {
                super::archive::check(status)?;
            }
            break;
        }
        redirect = Some(version.name);
        break;
    }
    match redirect {
        Some(name) => vw.next.run(vw.delete_archived(&name)).await,
        None => vw.next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            set(&mut h, n, v);
        }
        h
    }

    #[test]
    fn flags_become_sysmeta() {
        let mut h = headers(&[(CLIENT_VERSIONS, "v")]);
        translate_container_headers(&mut h).unwrap();
        assert_eq!(get(&h, SYSMETA_LOCATION), Some("v"));
        assert_eq!(get(&h, SYSMETA_MODE), Some("stack"));
        assert_eq!(get(&h, CLIENT_VERSIONS), Some(""));

        let mut h = headers(&[(CLIENT_HISTORY, "h"), (CLIENT_VERSIONS, ""), (REMOVE_VERSIONS, "x")]);
        translate_container_headers(&mut h).unwrap();
        assert_eq!(get(&h, SYSMETA_LOCATION), Some("h"));
        assert_eq!(get(&h, SYSMETA_MODE), Some("history"));
        assert!(!h.contains_key(CLIENT_HISTORY) && !h.contains_key(REMOVE_VERSIONS));

        let mut h = headers(&[(CLIENT_HISTORY, "h"), (CLIENT_VERSIONS, "v")]);
        assert!(matches!(translate_container_headers(&mut h), Err(ProxyError::BadRequest(_))));
        let mut h = headers(&[(CLIENT_VERSIONS, "a/b")]);
        assert!(matches!(translate_container_headers(&mut h), Err(ProxyError::PreconditionFailed(_))));
    }

    #[test]
    fn empty_or_remove_clears() {
        for pairs in [vec![(CLIENT_VERSIONS, "")], vec![(REMOVE_HISTORY, "1")], vec![(CLIENT_HISTORY, "")]] {
            let mut h = headers(&pairs);
            translate_container_headers(&mut h).unwrap();
            assert_eq!(get(&h, SYSMETA_LOCATION), Some(""), "{pairs:?}");
            assert_eq!(get(&h, SYSMETA_MODE), Some(""));
            assert!(!h.contains_key(REMOVE_HISTORY) && !h.contains_key(REMOVE_VERSIONS));
        }
        let mut h = headers(&[("x-container-read", ".r:*")]);
        translate_container_headers(&mut h).unwrap();
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn stored_flag_shown_and_read() {
        let mut h = headers(&[(SYSMETA_LOCATION, "arch%20ive"), (SYSMETA_MODE, "history")]);
        show_location(&mut h);
        assert_eq!(get(&h, CLIENT_HISTORY), Some("arch%20ive"));
        assert!(!h.contains_key(CLIENT_VERSIONS));
        assert_eq!(flagged(&h), Some(("arch ive".to_string(), Mode::History)));
        assert_eq!(flagged(&headers(&[(CLIENT_VERSIONS, "old")])), Some(("old".to_string(), Mode::Stack)));
        assert_eq!(flagged(&headers(&[(SYSMETA_LOCATION, "")])), None);
    }
}
