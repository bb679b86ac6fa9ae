//! Static Large Objects: `PUT ?multipart-manifest=put` checks every segment (HEAD: it
//! exists, and matches the ETag and size the client gave) and stores Swift's manifest
//! with the SLO's size and MD5-of-MD5s ETag as system metadata; GET/HEAD (in
//! [`super::get`]) serve the concatenation; `DELETE ?multipart-manifest=delete`
//! deletes the segments too. Container listings show the SLO ETag as `slo_etag`.

use super::delete::delete;
use super::get::get_or_head;
use super::put::put;
use crate::config::SloConfig;
use crate::error::{ProxyError, Result};
use crate::pipeline::step::{Next, Reply, Step};
use crate::pipeline::subrequest::query_param;
use crate::request::ProxyRequest;
use crate::route::Route;
use common::headers::{get, set};
use common::http::Body;
use http::{Method, Response};
use serde_json::{json, Value};

pub(crate) struct Slo {
    cfg: SloConfig,
}

impl Slo {
    pub(crate) fn new(cfg: &SloConfig) -> Self {
        Slo { cfg: cfg.clone() }
    }
}

impl Step for Slo {
    fn name(&self) -> &'static str {
        "slo"
    }

    fn info(&self) -> Option<Value> {
        Some(json!({
            "max_manifest_segments": self.cfg.max_manifest_segments,
            "max_manifest_size": self.cfg.max_manifest_size,
            "yield_frequency": 10,
            "min_segment_size": 1,
            "allow_async_delete": false,
        }))
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let query = req.query().map(str::to_string);
            let mm = query_param(query.as_deref(), "multipart-manifest");
            match &req.route {
                Route::Container { .. } if req.method() == Method::GET => listing(next.run(req).await?).await,
                Route::Object { account, container, object } => {
                    let m = req.method().clone();
                    if m == Method::PUT && mm.as_deref() == Some("put") {
                        let (a, c, o) = (account.clone(), container.clone(), object.clone());
                        put(&self.cfg, req, next, &a, &c, &o).await
                    } else if m == Method::DELETE && mm.as_deref() == Some("delete") {
                        let (a, c, o) = (account.clone(), container.clone(), object.clone());
                        delete(req, next, &a, &c, &o, &self.cfg).await
                    } else if m == Method::GET || m == Method::HEAD {
                        get_or_head(req, next).await
                    } else if req.headers().contains_key("x-static-large-object") {
                        Err(ProxyError::BadRequest(
                            "X-Static-Large-Object is a reserved header. To create a static large object add query \
                             param multipart-manifest=put."
                                .into(),
                        ))
                    } else {
                        next.run(req).await
                    }
                }
                _ => next.run(req).await,
            }
        })
    }
}

const SLO_ETAG_PARAM: &[u8] = b"slo_etag=";

/// Container listings in JSON: split `; slo_etag=` out of `hash` into its own key.
async fn listing(resp: Response<Body>) -> Result<Response<Body>> {
    let json = get(resp.headers(), "content-type").is_some_and(|ct| ct.starts_with("application/json"));
    if !resp.status().is_success() || !json {
        return Ok(resp);
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = crate::body::read_body(body, 64 << 20).await?;
    // Most listings hold no manifest: skip parsing them.
    if memchr::memmem::find(&bytes, SLO_ETAG_PARAM).is_none() {
        return Ok(Response::from_parts(parts, common::http::full(bytes)));
    }
    let Ok(Value::Array(mut items)) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(Response::from_parts(parts, common::http::full(bytes)));
    };
    let mut changed = false;
    for item in items.iter_mut() {
        let Some(hash) = item.get("hash").and_then(Value::as_str).map(str::to_string) else { continue };
        let mut base = String::new();
        let mut slo_etag = None;
        for (i, piece) in hash.split(';').enumerate() {
            match piece.trim().strip_prefix("slo_etag=") {
                Some(e) if i > 0 => slo_etag = Some(e.to_string()),
                _ if i == 0 => base.push_str(piece.trim()),
                _ => base.push_str(&format!("; {}", piece.trim())),
            }
        }
        if let (Some(e), Value::Object(m)) = (slo_etag, item) {
            m.insert("hash".into(), Value::String(base));
            m.insert("slo_etag".into(), Value::String(format!("\"{e}\"")));
            changed = true;
        }
    }
    if !changed {
        return Ok(Response::from_parts(parts, common::http::full(bytes)));
    }
    let out = Value::Array(items).to_string();
    set(&mut parts.headers, "content-length", &out.len().to_string());
    Ok(Response::from_parts(parts, common::http::full(out)))
}
