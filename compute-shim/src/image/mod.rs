//! Image: a Glance v2 subset. Records (and their status: queued -> saving -> active) in
//! SQLite; the bytes streamed into and out of the object store through the proxy's Swift
//! API, segmented under a manifest above a size threshold.

mod api;
mod data;
mod patch;
mod schema;
pub mod store;
pub mod swift;

use crate::auth::{Caller, Validator};
use crate::config::ImageConfig;
use crate::db::Db;
use crate::error::{ErrorStyle, Result, ShimError};
use crate::web;
use crate::Endpoints;
use common::http::Body;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

pub struct ImageService {
    pub(crate) db: Db,
    pub(crate) cfg: ImageConfig,
    pub(crate) validator: Validator,
    pub(crate) endpoints: Endpoints,
    pub(crate) store: Arc<swift::SwiftStore>,
}

#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    Versions { root: bool },
    Schema(String),
    Create,
    List,
    Show(String),
    Update(String),
    Delete(String),
    Upload(String),
    Download(String),
    AddTag(String, String),
    RemoveTag(String, String),
}

fn route(method: &Method, path: &str) -> Result<Endpoint> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let s = |i: usize| segs[i].to_string();
    Ok(match (method.as_str(), segs.as_slice()) {
        ("GET" | "HEAD", []) => Endpoint::Versions { root: true },
        ("GET" | "HEAD", ["versions"]) => Endpoint::Versions { root: false },
        ("GET", ["v2", "schemas", _]) => Endpoint::Schema(s(2)),
        ("POST", ["v2", "images"]) => Endpoint::Create,
        ("GET", ["v2", "images"]) => Endpoint::List,
        ("GET" | "HEAD", ["v2", "images", _]) => Endpoint::Show(s(2)),
        ("PATCH", ["v2", "images", _]) => Endpoint::Update(s(2)),
        ("DELETE", ["v2", "images", _]) => Endpoint::Delete(s(2)),
        ("PUT", ["v2", "images", _, "file"]) => Endpoint::Upload(s(2)),
        ("GET", ["v2", "images", _, "file"]) => Endpoint::Download(s(2)),
        ("PUT", ["v2", "images", _, "tags", _]) => Endpoint::AddTag(s(2), s(4)),
        ("DELETE", ["v2", "images", _, "tags", _]) => Endpoint::RemoveTag(s(2), s(4)),
        (_, ["v2", "images", ..]) => return Err(ShimError::MethodNotAllowed),
        _ => return Err(ShimError::NotFound("The resource could not be found.".into())),
    })
}

impl ImageService {
    pub async fn open(
        cfg: ImageConfig,
        state_dir: &Path,
        validator: Validator,
        endpoints: Endpoints,
    ) -> Result<Arc<ImageService>> {
        let db = Db::open(&state_dir.join("image.db"), store::SCHEMA).await?;
        let store = Arc::new(swift::SwiftStore::new(
            &endpoints.identity,
            validator.tokens.clone(),
            &cfg.container,
            Duration::from_secs_f64(cfg.store_timeout),
        ));
        // An upload cut off by a restart never finishes: its image goes back to queued.
        db.call(
            |c| Ok(c.execute("UPDATE images SET status = 'queued', upload_id = NULL WHERE status = 'saving'", [])?),
        )
        .await?;
        Ok(Arc::new(ImageService { db, cfg, validator, endpoints, store }))
    }

    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let request_id = format!("req-{}", web::new_uuid());
        let span = tracing::info_span!("image", %request_id, method = %req.method(), path = %req.uri().path());
        let mut resp = match self.dispatch(req).instrument(span.clone()).await {
            Ok(r) => r,
            Err(e) => span.in_scope(|| e.render(ErrorStyle::Keystone)),
        };
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-openstack-request-id", v);
        }
        resp
    }

    async fn dispatch(&self, req: Request<Incoming>) -> Result<Response<Body>> {
        let ep = route(req.method(), req.uri().path())?;
        if let Endpoint::Versions { root } = ep {
            let status = if root { StatusCode::MULTIPLE_CHOICES } else { StatusCode::OK };
            return Ok(web::json(status, &self.versions()));
        }
        let (parts, body) = req.into_parts();
        let caller = self.validator.caller(&parts.headers)?;
        let q = web::query(&parts.uri);
        match ep {
            Endpoint::Versions { .. } => Err(ShimError::MethodNotAllowed),
            Endpoint::Schema(name) => schema::get(&name).map(|s| web::json(StatusCode::OK, &s)),
            Endpoint::Create => self.create(&caller, web::read_json(body).await?).await,
            Endpoint::List => self.list(&caller, &q).await,
            Endpoint::Show(id) => {
                let img = self.visible(&caller, &id).await?;
                Ok(web::json(StatusCode::OK, &api::image_json(&img)))
            }
            Endpoint::Update(id) => {
                let ctype = web::header(&parts.headers, "content-type").unwrap_or_default();
                if !ctype.starts_with("application/openstack-images-v2") {
                    return Err(ShimError::UnsupportedMediaType(format!(
                        "Unsupported Content-Type {ctype:?}: use application/openstack-images-v2.1-json-patch"
                    )));
                }
                self.update(&caller, &id, web::read_json(body).await?).await
            }
            Endpoint::Delete(id) => self.delete(&caller, &id).await,
            Endpoint::Upload(id) => self.upload(&caller, &id, &parts.headers, body).await,
            Endpoint::Download(id) => self.download(&caller, &id, &parts.headers).await,
            Endpoint::AddTag(id, tag) => self.tag(&caller, &id, tag, true).await,
            Endpoint::RemoveTag(id, tag) => self.tag(&caller, &id, tag, false).await,
        }
    }

    fn versions(&self) -> serde_json::Value {
        let href = format!("{}/v2/", self.endpoints.image);
        let v = |id: &str, status: &str| serde_json::json!({"id": id, "status": status, "links": [{"rel": "self", "href": href}]});
        serde_json::json!({"versions": [v("v2.16", "CURRENT"), v("v2.15", "SUPPORTED"), v("v2.0", "SUPPORTED")]})
    }

    /// The image if the caller may see it; otherwise 404 (its existence is not revealed).
    pub(crate) async fn visible(&self, caller: &Caller, id: &str) -> Result<store::Image> {
        let key = id.to_string();
        let img = self.db.call(move |c| store::get(c, &key)).await?;
        img.filter(|i| api::can_see(i, caller))
            .ok_or_else(|| ShimError::NotFound(format!("No image found with ID {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route(&Method::GET, "/").unwrap(), Endpoint::Versions { root: true });
        assert_eq!(route(&Method::PUT, "/v2/images/x/file").unwrap(), Endpoint::Upload("x".into()));
        assert_eq!(route(&Method::DELETE, "/v2/images/x/tags/t").unwrap(), Endpoint::RemoveTag("x".into(), "t".into()));
        assert!(matches!(route(&Method::POST, "/v2/images/x"), Err(ShimError::MethodNotAllowed)));
        assert!(matches!(route(&Method::GET, "/v1/images"), Err(ShimError::NotFound(_))));
    }
}
