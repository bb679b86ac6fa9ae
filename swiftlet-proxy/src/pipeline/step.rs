//! A step of the pipeline, and the rest of the pipeline after it.
//!
//! A request passes each step in turn and then reaches the controllers. A step may answer
//! by itself, change the request, look at the response, or send sub-requests down the rest
//! of the pipeline (`Next` is cheap to clone, so it can be run many times): SLO fetches its
//! segments that way, COPY pipes a GET into a PUT, versioning copies the old object aside.
//! Sub-requests carry the client's context, so they are authorized as the client (or by
//! its TempURL).

use crate::controllers;
use crate::error::Result;
use crate::request::ProxyRequest;
use crate::state::cluster::Cluster;
use common::http::{Body, HttpError};
use futures::future::BoxFuture;
use http::Response;
use serde_json::Value;
use std::sync::Arc;

/// A step's answer, boxed so the pipeline can hold any step behind one type.
pub(crate) type Reply<'a> = BoxFuture<'a, Result<Response<Body>>>;

pub(crate) trait Step: Send + Sync {
    /// The name `/info` lists the feature under (Swift's), and logs use.
    fn name(&self) -> &'static str;

    /// This feature's entry in `/info` (Swift's keys); `None` (the default) when it
    /// advertises nothing.
    fn info(&self) -> Option<Value> {
        None
    }

    /// Entries of `/info` under other names than the step's (the frontends' APIs).
    fn more_info(&self) -> Vec<(&'static str, Value)> {
        Vec::new()
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a>;
}

/// Every step, in the one order they run, over the cluster the controllers at the end
/// reach.
pub(crate) struct Pipeline {
    pub cluster: Cluster,
    steps: Vec<Box<dyn Step>>,
    /// Where the Swift API proper starts: the first step after authentication. Requests a
    /// frontend makes on behalf of its (already authenticated) user enter here.
    swift_api: usize,
}

impl Pipeline {
    /// `steps` in order; the first `swift_api` of them see client requests only.
    pub(crate) fn new(cluster: Cluster, steps: Vec<Box<dyn Step>>, swift_api: usize) -> Pipeline {
        let swift_api = swift_api.min(steps.len());
        Pipeline { cluster, steps, swift_api }
    }

    pub(crate) fn steps(&self) -> impl Iterator<Item = &dyn Step> {
        self.steps.iter().map(|s| s.as_ref())
    }

    /// The whole pipeline, for a client's request.
    pub(crate) fn start(self: &Arc<Self>) -> Next {
        Next { pipeline: self.clone(), pos: 0 }
    }
}

/// The rest of the pipeline after the current step. It owns a handle on the pipeline, so
/// response bodies that keep making sub-requests (segment streams) can outlive the call.
#[derive(Clone)]
pub(crate) struct Next {
    pipeline: Arc<Pipeline>,
    pos: usize,
}

impl Next {
    pub(crate) fn cluster(&self) -> &Cluster {
        &self.pipeline.cluster
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The pipeline from where the Swift API proper starts (after authentication).
    pub(crate) fn swift_api(&self) -> Next {
        Next { pipeline: self.pipeline.clone(), pos: self.pipeline.swift_api }
    }

    /// Runs the request through the remaining steps and then the controllers.
    pub(crate) fn run(&self, req: ProxyRequest) -> Reply<'_> {
        match self.pipeline.steps.get(self.pos) {
            Some(step) => step.call(req, Next { pipeline: self.pipeline.clone(), pos: self.pos + 1 }),
            None => controllers::dispatch(&self.pipeline.cluster, req),
        }
    }

    /// Like `run`, but an error becomes its response: sub-requests look at statuses.
    pub(crate) async fn call(&self, req: ProxyRequest) -> Response<Body> {
        match self.run(req).await {
            Ok(r) => r,
            Err(e) => e.to_response(),
        }
    }
}
