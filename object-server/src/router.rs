//! Parse, then dispatch: a request becomes an [`Endpoint`] (method + validated path) once,
//! and [`AppState`]'s `Service` impl answers it with one `match` over the verbs. The
//! scaffold (`common::server`) wraps every request the same way for all servers: backend
//! signature, transaction id, span, error to response, request log, per-endpoint counts.

use crate::error::{Error, Result};
use crate::handlers::{delete, get, post, put, replicate, ssync, AppState, ObjectPath};
use common::http::{text, Body};
use common::path::DevicePath;
use common::server::{Access, Service};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

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

impl common::server::Endpoint for Endpoint {
    fn name(&self) -> &'static str {
        match self {
            Endpoint::Put(_) => "object.put",
            Endpoint::Get(_) => "object.get",
            Endpoint::Head(_) => "object.head",
            Endpoint::Post(_) => "object.post",
            Endpoint::Delete(_) => "object.delete",
            Endpoint::Replicate(_) => "object.replicate",
            Endpoint::Ssync(_) => "object.ssync",
            Endpoint::Healthcheck => "object.healthcheck",
        }
    }
}

impl Service for AppState {
    type Endpoint = Endpoint;
    type Error = Error;

    fn name(&self) -> &'static str {
        "object-server"
    }

    fn access(&self) -> Access<'_> {
        Access::Cluster(&self.verifier)
    }

    fn parse(&self, req: &Request<Incoming>) -> Result<Endpoint> {
        Endpoint::parse(req.method(), req.uri().path())
    }

    async fn call(
        self: Arc<Self>,
        endpoint: Endpoint,
        req: Request<Incoming>,
        _trans_id: &str,
    ) -> Result<Response<Body>> {
        match endpoint {
            Endpoint::Put(p) => put::handle(self, req, p).await,
            Endpoint::Get(p) => get::handle(self, req, p, false).await,
            Endpoint::Head(p) => get::handle(self, req, p, true).await,
            Endpoint::Post(p) => post::handle(self, req, p).await,
            Endpoint::Delete(p) => delete::handle(self, req, p).await,
            Endpoint::Replicate(p) => replicate::handle(self, p).await,
            Endpoint::Ssync(p) => ssync::handle(self, req, p).await,
            Endpoint::Healthcheck => Ok(text(StatusCode::OK, "OK")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::path::PathError;
    use common::server::Endpoint as _;

    #[test]
    fn routes_and_rejects() {
        let put = Endpoint::parse(&Method::PUT, "/sda/3/AUTH_a/c/d/o%20x").unwrap();
        assert!(matches!(put, Endpoint::Put(ref p) if p.obj == "d/o x" && p.partition == 3));
        assert_eq!(put.name(), "object.put");
        assert!(matches!(Endpoint::parse(&Method::GET, "/healthcheck").unwrap(), Endpoint::Healthcheck));
        let rep = Endpoint::parse(&Method::from_bytes(b"REPLICATE").unwrap(), "/sda/3/abc-def").unwrap();
        assert!(matches!(rep, Endpoint::Replicate(ref p) if p.rest.as_deref() == Some("abc-def")));
        assert_eq!(rep.name(), "object.replicate");
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
