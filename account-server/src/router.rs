//! Parse, then dispatch: method and path become one [`Endpoint`]; [`App`]'s `Service`
//! impl answers it with one `match`.

use crate::error::{AccountError, Result};
use crate::handlers::{account, container, listing};
use crate::server::App;
use common::http::Body;
use common::path::StoragePath;
use common::server::Service;
use http::{Method, Request, Response};
use hyper::body::Incoming;
use std::sync::Arc;

/// One operation of the account server.
#[derive(Debug)]
pub enum Endpoint {
    /// `REPLICATE`: the DB replication RPC.
    Replicate,
    /// A container row: a container server reports its stats.
    ContainerPut(StoragePath),
    AccountPut(StoragePath),
    AccountPost(StoragePath),
    AccountDelete(StoragePath),
    /// A listing (GET) or just the account's stats and metadata (HEAD).
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
        let sp = StoragePath::parse(raw_path, 3)?;
        if sp.object.is_some() {
            return Err(AccountError::BadRequest("account servers take no object paths".into()));
        }
        Ok(match (method, sp.container.is_some()) {
            (&Method::PUT, true) => Endpoint::ContainerPut(sp),
            (&Method::PUT, false) => Endpoint::AccountPut(sp),
            (&Method::POST, false) => Endpoint::AccountPost(sp),
            (&Method::DELETE, false) => Endpoint::AccountDelete(sp),
            (&Method::GET, false) => Endpoint::Listing { path: sp, with_body: true },
            (&Method::HEAD, false) => Endpoint::Listing { path: sp, with_body: false },
            (&Method::POST | &Method::DELETE | &Method::GET | &Method::HEAD, true) => {
                return Err(AccountError::BadRequest("container paths take only PUT on an account server".into()))
            }
            _ => return Err(AccountError::MethodNotAllowed),
        })
    }
}

impl common::server::Endpoint for Endpoint {
    fn name(&self) -> &'static str {
        match self {
            Endpoint::Replicate => "account.replicate",
            Endpoint::ContainerPut(_) => "account.container_put",
            Endpoint::AccountPut(_) => "account.put",
            Endpoint::AccountPost(_) => "account.post",
            Endpoint::AccountDelete(_) => "account.delete",
            Endpoint::Listing { with_body: true, .. } => "account.get",
            Endpoint::Listing { with_body: false, .. } => "account.head",
        }
    }
}

impl Service for App {
    type Endpoint = Endpoint;
    type Error = AccountError;

    fn name(&self) -> &'static str {
        "account-server"
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
        _trans_id: &str,
    ) -> Result<Response<Body>> {
        let app = self.as_ref();
        let headers = req.headers();
        match endpoint {
            Endpoint::Replicate => Ok(swiftlet_broker::rpc::serve(&app.store, req).await?),
            Endpoint::ContainerPut(sp) => container::put(app, &sp, headers).await,
            Endpoint::AccountPut(sp) => account::put(app, &sp, headers).await,
            Endpoint::AccountPost(sp) => account::post(app, &sp, headers).await,
            Endpoint::AccountDelete(sp) => account::delete(app, &sp, headers).await,
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
        assert_eq!(Endpoint::parse(&Method::PUT, "/sda/3/a/c").unwrap().name(), "account.container_put");
        assert_eq!(Endpoint::parse(&Method::GET, "/sda/3/a").unwrap().name(), "account.get");
        assert!(matches!(Endpoint::parse(&Method::GET, "/sda/3/a/c"), Err(AccountError::BadRequest(_))));
        assert!(matches!(Endpoint::parse(&Method::PUT, "/sda/3/a/c/o"), Err(AccountError::BadRequest(_))));
        assert!(matches!(Endpoint::parse(&Method::PATCH, "/sda/3/a"), Err(AccountError::MethodNotAllowed)));
    }
}
