//! Parse, then dispatch: method and path become one [`Endpoint`]; [`App`]'s `Service`
//! impl answers it with one `match`.

use crate::error::{ContainerError, Result};
use crate::handlers::{container, listing, object, replicate};
use crate::server::App;
use common::http::Body;
use common::path::StoragePath;
use common::server::Service;
use http::{Method, Request, Response};
use hyper::body::Incoming;
use std::sync::Arc;

/// One operation of the container server.
#[derive(Debug)]
pub enum Endpoint {
    /// `REPLICATE`: the DB replication RPC.
    Replicate,
    /// An object row: the object server reports a PUT or a DELETE.
    ObjectPut(StoragePath),
    ObjectDelete(StoragePath),
    ContainerPut(StoragePath),
    ContainerPost(StoragePath),
    ContainerDelete(StoragePath),
    /// A listing (GET) or just the container's stats and metadata (HEAD).
    Listing {
        path: StoragePath,
        with_body: bool,
    },
}

impl Endpoint {
    pub fn parse(method: &Method, raw_path: &str) -> Result<Endpoint> {
        if method.as_str() == "REPLICATE" {
            return Ok(Endpoint::Replicate);
        }
        let sp = StoragePath::parse(raw_path, 4)?;
        let is_object = sp.object.is_some();
        Ok(match (method, is_object) {
            (&Method::PUT, true) => Endpoint::ObjectPut(sp),
            (&Method::DELETE, true) => Endpoint::ObjectDelete(sp),
            (&Method::PUT, false) => Endpoint::ContainerPut(sp),
            (&Method::DELETE, false) => Endpoint::ContainerDelete(sp),
            (&Method::POST, false) => Endpoint::ContainerPost(sp),
            (&Method::GET, false) => Endpoint::Listing { path: sp, with_body: true },
            (&Method::HEAD, false) => Endpoint::Listing { path: sp, with_body: false },
            (&Method::GET | &Method::HEAD | &Method::POST, true) => {
                return Err(ContainerError::BadRequest("object paths take only PUT and DELETE".into()))
            }
            _ => return Err(ContainerError::MethodNotAllowed),
        })
    }
}

impl common::server::Endpoint for Endpoint {
    fn name(&self) -> &'static str {
        match self {
            Endpoint::Replicate => "container.replicate",
            Endpoint::ObjectPut(_) => "container.object_put",
            Endpoint::ObjectDelete(_) => "container.object_delete",
            Endpoint::ContainerPut(_) => "container.put",
            Endpoint::ContainerPost(_) => "container.post",
            Endpoint::ContainerDelete(_) => "container.delete",
            Endpoint::Listing { with_body: true, .. } => "container.get",
            Endpoint::Listing { with_body: false, .. } => "container.head",
        }
    }
}

impl Service for App {
    type Endpoint = Endpoint;
    type Error = ContainerError;

    fn name(&self) -> &'static str {
        "container-server"
    }

    fn access(&self) -> common::server::Access<'_> {
        common::server::Access::Cluster(&self.verifier)
    }

    fn parse(&self, req: &Request<Incoming>) -> Result<Endpoint> {
        Endpoint::parse(req.method(), req.uri().path())
    }

    async fn call(
        self: Arc<Self>,
        endpoint: Endpoint,
        req: Request<Incoming>,
        trans_id: &str,
    ) -> Result<Response<Body>> {
        let app = self.as_ref();
        let headers = req.headers();
        match endpoint {
            Endpoint::Replicate => replicate::replicate(app, req).await,
            Endpoint::ObjectPut(sp) => object::put(app, &sp, headers).await,
            Endpoint::ObjectDelete(sp) => object::delete(app, &sp, headers).await,
            Endpoint::ContainerPut(sp) => container::put(app, &sp, headers, trans_id).await,
            Endpoint::ContainerPost(sp) => container::post(app, &sp, headers).await,
            Endpoint::ContainerDelete(sp) => container::delete(app, &sp, headers, trans_id).await,
            Endpoint::Listing { path, with_body } => {
                listing::head_or_get(app, &path, req.uri(), headers, with_body).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::server::Endpoint as _;

    #[test]
    fn routes_and_rejects() {
        let put = Endpoint::parse(&Method::PUT, "/sda/3/a/c/o%20x").unwrap();
        assert!(matches!(put, Endpoint::ObjectPut(ref p) if p.object.as_deref() == Some("o x")));
        assert_eq!(Endpoint::parse(&Method::HEAD, "/sda/3/a/c").unwrap().name(), "container.head");
        let rep = Endpoint::parse(&Method::from_bytes(b"REPLICATE").unwrap(), "/sda/3/h").unwrap();
        assert_eq!(rep.name(), "container.replicate");
        assert!(matches!(Endpoint::parse(&Method::GET, "/sda/3/a/c/o"), Err(ContainerError::BadRequest(_))));
        assert!(matches!(Endpoint::parse(&Method::PATCH, "/sda/3/a/c"), Err(ContainerError::MethodNotAllowed)));
        assert!(Endpoint::parse(&Method::PUT, "/sda/x/a/c").is_err());
    }
}
