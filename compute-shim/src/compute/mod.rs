//! Compute: a Nova subset. Flavors, servers (create, list, show, delete) and the actions
//! reboot, stop, start and `os-getConsoleOutput`. A create returns at once (BUILD); a task
//! schedules the server onto a host ([`scheduler`]), fetches and verifies its images
//! ([`fetch`]), gives a qemu server its own checked copy of the disk ([`disk`]) and starts
//! it with the host's driver ([`driver`]): ACTIVE, or ERROR with a fault.

mod api;
pub mod disk;
pub mod driver;
pub mod fetch;
pub mod flavors;
mod lifecycle;
pub mod runtime;
pub mod scheduler;
pub mod store;

use crate::auth::Validator;
use crate::config::{ComputeConfig, HostConfig};
use crate::db::Db;
use crate::error::{ErrorStyle, Result, ShimError};
use crate::web;
use crate::Endpoints;
use common::http::{Body, HttpClient};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::Instrument;

/// The microversions served: 2.37 is the first that takes `networks: "none" | "auto"`.
pub const MIN_VERSION: (u32, u32) = (2, 1);
pub const MAX_VERSION: (u32, u32) = (2, 37);

/// A registered compute host and its directory (`images/` cache, `instances/<id>/`).
pub struct Host {
    pub cfg: HostConfig,
    pub dir: PathBuf,
}

pub struct ComputeService {
    pub(crate) db: Db,
    pub(crate) cfg: ComputeConfig,
    pub(crate) validator: Validator,
    pub(crate) endpoints: Endpoints,
    pub(crate) hosts: Vec<Host>,
    pub(crate) client: HttpClient,
    /// Running server processes by server id.
    pub(crate) running: Mutex<HashMap<String, runtime::Running>>,
    /// One lifecycle operation per server at a time.
    pub(crate) locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Scheduling reads free RAM and claims it in one step.
    pub(crate) scheduling: tokio::sync::Mutex<()>,
}

#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    Versions,
    Version,
    Flavors { detail: bool },
    Flavor(String),
    CreateServer,
    Servers { detail: bool },
    Server(String),
    DeleteServer(String),
    Action(String),
}

fn route(method: &Method, path: &str) -> Result<Endpoint> {
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Old-style URLs carry the project id after the version: `/v2.1/<project>/servers`.
    if segs.len() >= 2 && segs[0] == "v2.1" && segs[1].len() == 32 && segs[1].bytes().all(|b| b.is_ascii_hexdigit()) {
        segs.remove(1);
    }
    let s = |i: usize| segs[i].to_string();
    Ok(match (method.as_str(), segs.as_slice()) {
        ("GET" | "HEAD", []) => Endpoint::Versions,
        ("GET" | "HEAD", ["v2.1"]) => Endpoint::Version,
        ("GET", ["v2.1", "flavors"]) => Endpoint::Flavors { detail: false },
        ("GET", ["v2.1", "flavors", "detail"]) => Endpoint::Flavors { detail: true },
        ("GET", ["v2.1", "flavors", _]) => Endpoint::Flavor(s(2)),
        ("POST", ["v2.1", "servers"]) => Endpoint::CreateServer,
        ("GET", ["v2.1", "servers"]) => Endpoint::Servers { detail: false },
        ("GET", ["v2.1", "servers", "detail"]) => Endpoint::Servers { detail: true },
        ("GET", ["v2.1", "servers", _]) => Endpoint::Server(s(2)),
        ("DELETE", ["v2.1", "servers", _]) => Endpoint::DeleteServer(s(2)),
        ("POST", ["v2.1", "servers", _, "action"]) => Endpoint::Action(s(2)),
        (_, ["v2.1", "servers" | "flavors", ..]) => return Err(ShimError::MethodNotAllowed),
        _ => return Err(ShimError::NotFound("The resource could not be found.".into())),
    })
}

/// The requested microversion (`OpenStack-API-Version: compute 2.x` or the legacy header).
fn microversion(h: &HeaderMap) -> Result<(u32, u32)> {
    let new = web::header(h, "openstack-api-version")
        .and_then(|v| v.split(',').map(str::trim).find_map(|part| part.strip_prefix("compute ").map(str::trim)));
    let Some(raw) = new.or_else(|| web::header(h, "x-openstack-nova-api-version")) else { return Ok(MIN_VERSION) };
    if raw.eq_ignore_ascii_case("latest") {
        return Ok(MAX_VERSION);
    }
    let parsed = raw.split_once('.').and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    match parsed {
        Some(v) if (MIN_VERSION..=MAX_VERSION).contains(&v) => Ok(v),
        Some(_) => Err(ShimError::NotAcceptable(format!(
            "Version {raw} is not supported by the API. Minimum is {}.{} and maximum is {}.{}.",
            MIN_VERSION.0, MIN_VERSION.1, MAX_VERSION.0, MAX_VERSION.1
        ))),
        None => Err(ShimError::BadRequest(format!("API Version String {raw} is of invalid format."))),
    }
}

impl ComputeService {
    /// Opens `<state_dir>/compute.db`, registers the hosts whose driver can run here, and
    /// settles servers a previous run left behind (their processes are gone).
    pub async fn open(
        cfg: ComputeConfig,
        state_dir: &Path,
        validator: Validator,
        endpoints: Endpoints,
    ) -> Result<Arc<ComputeService>> {
        let db = Db::open(&state_dir.join("compute.db"), store::SCHEMA).await?;
        let mut hosts = Vec::new();
        for h in &cfg.hosts {
            if driver::available(h.driver, &cfg) {
                hosts.push(Host { cfg: h.clone(), dir: state_dir.join("compute").join(&h.name) });
            } else {
                tracing::warn!(host = %h.name, driver = h.driver.name(), "driver not available here: host not registered");
            }
        }
        db.call(|c| {
            let now = web::now_secs();
            for s in store::list(c, None)? {
                match s.status.as_str() {
                    "BUILD" => {
                        store::set_error(c, &s.id, "The compute service restarted during the build.", now)?;
                    }
                    "ACTIVE" | "REBOOT" | "HARD_REBOOT" => {
                        store::set_state(c, &s.id, "SHUTOFF", None, store::SHUTDOWN, now)?;
                    }
                    _ => {}
                }
            }
            Ok(())
        })
        .await?;
        Ok(Arc::new(ComputeService {
            db,
            cfg,
            validator,
            endpoints,
            hosts,
            client: HttpClient::new(Duration::from_secs(2)),
            running: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
            scheduling: tokio::sync::Mutex::new(()),
        }))
    }

    /// The registered hosts' names and drivers.
    pub fn host_names(&self) -> Vec<(String, &'static str)> {
        self.hosts.iter().map(|h| (h.cfg.name.clone(), h.cfg.driver.name())).collect()
    }

    /// Stops every server process (the service is going away).
    pub async fn shutdown(&self) {
        let all: Vec<runtime::Running> = {
            let mut map = self.running.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().map(|(_, r)| r).collect()
        };
        for r in all {
            r.stop().await;
        }
    }

    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let request_id = format!("req-{}", web::new_uuid());
        let span = tracing::info_span!("compute", %request_id, method = %req.method(), path = %req.uri().path());
        let version = microversion(req.headers());
        let (major, minor) = version.as_ref().map(|v| *v).unwrap_or(MIN_VERSION);
        let mut resp = match self.dispatch(req, version).instrument(span.clone()).await {
            Ok(r) => r,
            Err(e) => span.in_scope(|| e.render(ErrorStyle::Nova)),
        };
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            h.insert("x-openstack-request-id", v.clone());
            h.insert("x-compute-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("compute {major}.{minor}")) {
            h.insert("openstack-api-version", v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("{major}.{minor}")) {
            h.insert("x-openstack-nova-api-version", v);
        }
        h.insert(http::header::VARY, HeaderValue::from_static("OpenStack-API-Version, X-OpenStack-Nova-API-Version"));
        resp
    }

    async fn dispatch(self: &Arc<Self>, req: Request<Incoming>, version: Result<(u32, u32)>) -> Result<Response<Body>> {
        let ep = route(req.method(), req.uri().path())?;
        match ep {
            Endpoint::Versions => {
                return Ok(web::json(StatusCode::OK, &serde_json::json!({"versions": self.versions()})))
            }
            Endpoint::Version => {
                let v = self.versions().pop().unwrap_or_default();
                return Ok(web::json(StatusCode::OK, &serde_json::json!({"version": v})));
            }
            _ => {}
        }
        let version = version?;
        let (parts, body) = req.into_parts();
        let caller = self.validator.caller(&parts.headers)?;
        caller.project_id()?;
        let q = web::query(&parts.uri);
        match ep {
            Endpoint::Versions | Endpoint::Version => Err(ShimError::MethodNotAllowed),
            Endpoint::Flavors { detail } => Ok(self.flavors(detail)),
            Endpoint::Flavor(id) => self.flavor(&id),
            Endpoint::CreateServer => self.create(&caller, web::read_json(body).await?, version).await,
            Endpoint::Servers { detail } => self.list(&caller, detail, &q).await,
            Endpoint::Server(id) => self.show(&caller, &id).await,
            Endpoint::DeleteServer(id) => self.delete(&caller, &id).await,
            Endpoint::Action(id) => self.action(&caller, &id, web::read_json(body).await?).await,
        }
    }

    fn versions(&self) -> Vec<serde_json::Value> {
        let base = &self.endpoints.compute;
        vec![
            serde_json::json!({"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
                "updated": "2011-01-21T11:33:21Z", "links": [{"rel": "self", "href": format!("{base}/v2/")}]}),
            serde_json::json!({"id": "v2.1", "status": "CURRENT",
                "version": format!("{}.{}", MAX_VERSION.0, MAX_VERSION.1),
                "min_version": format!("{}.{}", MIN_VERSION.0, MIN_VERSION.1),
                "updated": "2013-07-23T11:33:21Z",
                "links": [{"rel": "self", "href": format!("{base}/v2.1/")}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]}),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_versions() {
        assert_eq!(route(&Method::GET, "/v2.1/servers/detail").unwrap(), Endpoint::Servers { detail: true });
        assert_eq!(
            route(&Method::POST, &format!("/v2.1/{}/servers/x/action", "a".repeat(32))).unwrap(),
            Endpoint::Action("x".into())
        );
        assert!(matches!(route(&Method::PUT, "/v2.1/servers/x"), Err(ShimError::MethodNotAllowed)));
        let mut h = HeaderMap::new();
        assert_eq!(microversion(&h).unwrap(), (2, 1));
        h.insert("openstack-api-version", "image 2.5, compute 2.37".parse().unwrap());
        assert_eq!(microversion(&h).unwrap(), (2, 37));
        h.insert("openstack-api-version", "compute latest".parse().unwrap());
        assert_eq!(microversion(&h).unwrap(), MAX_VERSION);
        h.insert("openstack-api-version", "compute 2.90".parse().unwrap());
        assert!(matches!(microversion(&h), Err(ShimError::NotAcceptable(_))));
        h.insert("openstack-api-version", "compute two".parse().unwrap());
        assert!(matches!(microversion(&h), Err(ShimError::BadRequest(_))));
    }
}
