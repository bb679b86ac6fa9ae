//! Parse, then dispatch: a request becomes an [`Endpoint`] (method + validated path), and
//! one `match` calls the verb's handler (one file per verb). Errors become responses in
//! exactly one place, `Error`'s `HttpError` impl. After a write commits, every write verb
//! calls [`after_write::after_write`] once.

pub mod after_write;
pub mod delete;
pub mod get;
pub mod headers;
pub mod post;
pub mod put;
pub mod range;
pub mod replicate;
pub mod ssync;
pub mod stream;

use crate::config::ObjectServerConfig;
use crate::error::{Error, Result};
use common::http::{text, Body, HttpError};
use common::path::{DevicePath, PathError, StoragePath};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use swiftlet_object_store::{Devices, UpdateSender};
use tracing::Instrument;

/// Objects up to this size are handled whole, in one pool job: a GET reads and verifies the
/// body when it opens the object; a PUT sent without `Expect: 100-continue` is read first,
/// then written without fsyncs and made durable by the device's group sync.
pub const SMALL_BODY: u64 = 64 * 1024;

/// What every handler shares.
pub struct AppState {
    pub devices: Arc<Devices>,
    pub config: Arc<ObjectServerConfig>,
    pub allowed_headers: Vec<String>,
    /// Sends the container updates of writes (and queues the failures).
    pub updates: UpdateSender,
}

/// A validated object path.
#[derive(Debug, Clone)]
pub struct ObjectPath {
    pub device: String,
    pub partition: u32,
    pub account: String,
    pub container: String,
    pub obj: String,
}

impl ObjectPath {
    /// `/<dev>/<part>/<a>/<c>/<o>`, percent-encoded; names are checked against Swift's limits.
    pub fn parse(raw: &str) -> Result<Self> {
        let p = StoragePath::parse(raw, 5)?;
        let (Some(container), Some(obj)) = (p.container, p.object) else {
            return Err(Error::BadRequest("Invalid path".into()));
        };
        // Account and container are plain names; "." and ".." are never valid ones.
        if [p.account.as_str(), container.as_str()].iter().any(|s| *s == "." || *s == "..") {
            return Err(PathError::Invalid(raw.chars().take(256).collect()).into());
        }
        Ok(ObjectPath { device: p.device, partition: p.partition, account: p.account, container, obj })
    }

    /// The `/a/c/o` name stored with the object.
    pub fn name(&self) -> String {
        format!("/{}/{}/{}", self.account, self.container, self.obj)
    }
}

/// One operation of the object server.
#[derive(Debug)]
pub enum Endpoint {
    Put(ObjectPath),
    Get(ObjectPath),
    Head(ObjectPath),
    Post(ObjectPath),
    Delete(ObjectPath),
    Replicate(DevicePath),
    Ssync(DevicePath),
    Healthcheck,
}

impl Endpoint {
    pub fn parse(method: &Method, raw_path: &str) -> Result<Endpoint> {
        if raw_path == "/healthcheck" && (method == Method::GET || method == Method::HEAD) {
            return Ok(Endpoint::Healthcheck);
        }
        Ok(match method.as_str() {
            "PUT" => Endpoint::Put(ObjectPath::parse(raw_path)?),
            "GET" => Endpoint::Get(ObjectPath::parse(raw_path)?),
            "HEAD" => Endpoint::Head(ObjectPath::parse(raw_path)?),
            "POST" => Endpoint::Post(ObjectPath::parse(raw_path)?),
            "DELETE" => Endpoint::Delete(ObjectPath::parse(raw_path)?),
            "REPLICATE" => Endpoint::Replicate(DevicePath::parse(raw_path)?),
            "SSYNC" => Endpoint::Ssync(DevicePath::parse(raw_path)?),
            _ => return Err(Error::MethodNotAllowed),
        })
    }
}

/// Serves one request; never fails (errors are responses).
pub async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let trans_id = common::headers::get(req.headers(), common::http::TRANS_ID_HEADER).unwrap_or("-").to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("request", %trans_id, %method, %path);
    async move {
        let started = std::time::Instant::now();
        let resp = match dispatch(state, req).await {
            Ok(r) => r,
            Err(e) => e.to_response(),
        };
        tracing::debug!(status = resp.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "done");
        resp
    }
    .instrument(span)
    .await
}

async fn dispatch(state: Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>> {
    let endpoint = Endpoint::parse(req.method(), req.uri().path())?;
    match endpoint {
        Endpoint::Put(p) => put::handle(state, req, p).await,
        Endpoint::Get(p) => get::handle(state, req, p, false).await,
        Endpoint::Head(p) => get::handle(state, req, p, true).await,
        Endpoint::Post(p) => post::handle(state, req, p).await,
        Endpoint::Delete(p) => delete::handle(state, req, p).await,
        Endpoint::Replicate(p) => replicate::handle(state, p).await,
        Endpoint::Ssync(p) => ssync::handle(state, req, p).await,
        Endpoint::Healthcheck => Ok(text(StatusCode::OK, "OK")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_rejects() {
        let put = Endpoint::parse(&Method::PUT, "/sda/3/AUTH_a/c/d/o%20x").unwrap();
        assert!(matches!(put, Endpoint::Put(ref p) if p.obj == "d/o x" && p.partition == 3));
        assert!(matches!(Endpoint::parse(&Method::GET, "/healthcheck").unwrap(), Endpoint::Healthcheck));
        let rep = Endpoint::parse(&Method::from_bytes(b"REPLICATE").unwrap(), "/sda/3/abc-def").unwrap();
        assert!(matches!(rep, Endpoint::Replicate(ref p) if p.rest.as_deref() == Some("abc-def")));
        assert!(matches!(Endpoint::parse(&Method::PATCH, "/sda/3/a/c/o"), Err(Error::MethodNotAllowed)));
        for bad in [
            "/../3/a/c/o",
            "/sda/../a/c/o",
            "/sda/3/../c/o",
            "/sda/3/a/../o",
            "//etc/passwd/a/c/o",
            "/sda/3/a/c",
            "/sda/x/a/c/o",
        ] {
            assert!(Endpoint::parse(&Method::PUT, bad).is_err(), "{bad}");
        }
        let long = format!("/sda/1/a/c/{}", "o".repeat(1025));
        assert!(Endpoint::parse(&Method::PUT, &long).is_err());
        assert!(matches!(Endpoint::parse(&Method::PUT, "/sda/1/a/c/o%00"), Err(Error::Path(PathError::BadEncoding))));
    }
}
