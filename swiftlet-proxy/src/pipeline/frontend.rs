//! Other APIs on the proxy's port (S3): a [`Frontend`] claims the client requests it
//! serves at the frontends step, and answers them by running Swift requests through the
//! rest of the pipeline with the narrow facade [`SwiftApi`]: as its user, with container
//! info and identities at hand.

use super::step::{Next, Reply, Step};
use super::subrequest;
use crate::auth::identity::Identity;
use crate::config::UserConfig;
use crate::context::Ctx;
use crate::error::Result;
use crate::lookups::container::container_info;
use crate::request::ProxyRequest;
use crate::state::info::ContainerInfo;
use common::http::Body;
use futures::future::BoxFuture;
use http::{HeaderMap, Method, Response};
use std::sync::Arc;

pub trait Frontend: Send + Sync {
    fn name(&self) -> &'static str;

    /// Whether this frontend answers the client request instead of the Swift API.
    fn claims(&self, req: &ProxyRequest) -> bool;

    /// Answers a claimed request; every error is already a response here.
    fn serve<'a>(&'a self, req: ProxyRequest, swift: SwiftApi) -> BoxFuture<'a, Response<Body>>;

    /// This API's entry in `/info`: the key Swift lists it under and its value; `None`
    /// (the default) when it advertises nothing.
    fn info(&self) -> Option<(&'static str, serde_json::Value)> {
        None
    }
}

/// What a frontend may ask of the Swift side.
#[derive(Clone)]
pub struct SwiftApi {
    next: Next,
}

impl SwiftApi {
    /// Runs a Swift request (`path` quoted, as `quote::swift_path` makes it) through the
    /// Swift API part of the pipeline as `ctx`'s identity; errors come back as responses.
    pub async fn call(
        &self,
        ctx: &Ctx,
        method: Method,
        path: &str,
        query: Option<&str>,
        headers: HeaderMap,
        body: Body,
    ) -> Response<Body> {
        let mut req = subrequest::new(method, path, query, ctx, body);
        req.headers_mut().extend(headers);
        self.next.call(req).await
    }

    /// The container's info (cached), or `None` when it does not exist; no authorization
    /// is checked.
    pub async fn container_info(
        &self,
        ctx: &Ctx,
        account: &str,
        container: &str,
    ) -> Result<Option<Arc<ContainerInfo>>> {
        container_info(self.next.cluster(), ctx, account, container).await
    }

    /// The users of the proxy's tempauth config (their keys are S3 secrets).
    pub fn users(&self) -> &[UserConfig] {
        &self.next.cluster().config.tempauth.users
    }

    /// The storage account of a tempauth account name (`test` -> `AUTH_test`).
    pub fn storage_account(&self, account: &str) -> String {
        format!("{}{}", self.next.cluster().config.tempauth.reseller_prefix, account)
    }

    /// The Swift identity of a configured user: the same rights as its tempauth token.
    pub fn identity(&self, account: &str, user: &str, groups: &[String]) -> Identity {
        Identity {
            account: account.to_string(),
            user: user.to_string(),
            admin: groups.iter().any(|g| g == ".admin"),
            reseller_admin: groups.iter().any(|g| g == ".reseller_admin"),
            storage_account: self.storage_account(account),
            reseller_prefix: self.next.cluster().config.tempauth.reseller_prefix.clone(),
            read_only: false,
        }
    }
}

/// The frontends step: a request a frontend claims leaves the pipeline here for it.
pub(crate) struct Frontends {
    list: Vec<Box<dyn Frontend>>,
}

impl Frontends {
    pub(crate) fn new(list: Vec<Box<dyn Frontend>>) -> Frontends {
        Frontends { list }
    }
}

impl Step for Frontends {
    fn name(&self) -> &'static str {
        "frontends"
    }

    fn more_info(&self) -> Vec<(&'static str, serde_json::Value)> {
        self.list.iter().filter_map(|f| f.info()).collect()
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            match self.list.iter().find(|f| f.claims(&req)) {
                Some(frontend) => Ok(frontend.serve(req, SwiftApi { next: next.swift_api() }).await),
                None => next.run(req).await,
            }
        })
    }
}
