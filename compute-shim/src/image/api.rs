//! Image records: create, list (filters, sorting, marker pagination), show, patch, delete
//! and tags. Visibility follows Glance: public and community images are everyone's to
//! read, others their owner project's; admins see everything.

use super::store::{self, Image};
use super::{patch, ImageService};
use crate::auth::Caller;
use crate::error::{Result, ShimError};
use crate::web;
use common::http::Body;
use http::{Response, StatusCode};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

pub fn can_see(i: &Image, caller: &Caller) -> bool {
    caller.is_admin() || matches!(i.visibility.as_str(), "public" | "community") || owns(i, caller)
}

fn owns(i: &Image, caller: &Caller) -> bool {
    i.owner.is_some() && i.owner.as_deref() == caller.claims.pid.as_deref()
}

pub fn can_modify(i: &Image, caller: &Caller) -> bool {
    caller.is_admin() || owns(i, caller)
}

fn forbidden(id: &str) -> ShimError {
    ShimError::Forbidden(format!("You are not permitted to modify image {id}."))
}

/// The record as Glance renders it: base properties, additional properties at top level.
pub fn image_json(i: &Image) -> Value {
    let mut m = Map::new();
    for (k, v) in &i.properties {
        m.insert(k.clone(), json!(v));
    }
    let base = json!({
        "id": i.id, "name": i.name, "status": i.status, "visibility": i.visibility,
        "protected": i.protected, "os_hidden": i.os_hidden, "owner": i.owner,
        "disk_format": i.disk_format, "container_format": i.container_format,
        "min_disk": i.min_disk, "min_ram": i.min_ram, "size": i.size, "virtual_size": null,
        "checksum": i.checksum, "os_hash_algo": i.os_hash_algo, "os_hash_value": i.os_hash_value,
        "created_at": web::rfc3339(i.created_at), "updated_at": web::rfc3339(i.updated_at),
        "tags": i.tags, "self": format!("/v2/images/{}", i.id), "file": format!("/v2/images/{}/file", i.id),
        "schema": "/v2/schemas/image",
    });
    if let Value::Object(b) = base {
        m.extend(b);
    }
    Value::Object(m)
}

/// Query keys that are not property filters.
const LIST_PARAMS: &[&str] =
    &["limit", "marker", "sort_key", "sort_dir", "sort", "member_status", "size_min", "size_max"];

fn compare(a: &Image, b: &Image, key: &str) -> Ordering {
    match key {
        "name" => a.name.cmp(&b.name),
        "size" => a.size.cmp(&b.size),
        "status" => a.status.cmp(&b.status),
        "updated_at" => a.updated_at.cmp(&b.updated_at),
        "disk_format" => a.disk_format.cmp(&b.disk_format),
        "container_format" => a.container_format.cmp(&b.container_format),
        "visibility" => a.visibility.cmp(&b.visibility),
        "id" => a.id.cmp(&b.id),
        _ => a.created_at.cmp(&b.created_at),
    }
}

/// `sort=name:asc,size` or `sort_key=name&sort_dir=asc` (repeatable); default newest first.
fn sort_spec(q: &[(String, String)]) -> Result<Vec<(String, bool)>> {
    const KEYS: &[&str] =
        &["name", "size", "status", "created_at", "updated_at", "disk_format", "container_format", "visibility", "id"];
    let mut spec: Vec<(String, bool)> = Vec::new();
    if let Some(sort) = web::query_get(q, "sort") {
        for part in sort.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, dir) = part.split_once(':').unwrap_or((part, "desc"));
            spec.push((k.to_string(), dir == "asc"));
        }
    } else {
        let dirs: Vec<&str> = q.iter().filter(|(k, _)| k == "sort_dir").map(|(_, v)| v.as_str()).collect();
        for (i, (_, k)) in q.iter().filter(|(k, _)| k == "sort_key").enumerate() {
            let dir = dirs.get(i).or(dirs.first()).copied().unwrap_or("desc");
            spec.push((k.clone(), dir == "asc"));
        }
    }
    if let Some((k, _)) = spec.iter().find(|(k, _)| !KEYS.contains(&k.as_str())) {
        return Err(ShimError::BadRequest(format!("Unsupported sort key {k:?}")));
    }
    if spec.is_empty() {
        spec.push(("created_at".into(), false));
    }
    spec.push(("id".into(), false));
    Ok(spec)
}

fn matches_filters(i: &Image, q: &[(String, String)], caller: &Caller) -> Result<bool> {
    let vis = web::query_get(q, "visibility");
    let visible = match vis {
        None => i.visibility != "community" || owns(i, caller),
        Some("all") => true,
        Some(v) => i.visibility == v,
    };
    let hidden_ok = match web::query_get(q, "os_hidden") {
        Some(h) => i.os_hidden == h.eq_ignore_ascii_case("true"),
        None => !i.os_hidden,
    };
    if !visible || !hidden_ok {
        return Ok(false);
    }
    let size = i.size.unwrap_or(0);
    let num = |k: &str| -> Result<Option<u64>> {
        web::query_get(q, k)
            .map(|v| v.parse::<u64>().map_err(|_| ShimError::BadRequest(format!("Invalid {k} {v:?}"))))
            .transpose()
    };
    if num("size_min")?.is_some_and(|m| size < m) || num("size_max")?.is_some_and(|m| size > m) {
        return Ok(false);
    }
    for (k, v) in q.iter().filter(|(k, _)| !LIST_PARAMS.contains(&k.as_str())) {
        let ok = match k.as_str() {
            "visibility" | "os_hidden" => true,
            "name" => i.name.as_deref() == Some(v),
            "status" => &i.status == v,
            "owner" => i.owner.as_deref() == Some(v),
            "disk_format" => i.disk_format.as_deref() == Some(v),
            "container_format" => i.container_format.as_deref() == Some(v),
            "tag" => i.tags.iter().any(|t| t == v),
            "id" => &i.id == v,
            "protected" => i.protected == v.eq_ignore_ascii_case("true"),
            _ => i.properties.get(k) == Some(v),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

impl ImageService {
    pub(super) async fn create(&self, caller: &Caller, body: Value) -> Result<Response<Body>> {
        let obj = body.as_object().ok_or_else(|| ShimError::BadRequest("The body must be a JSON object".into()))?;
        let now = web::now_secs();
        let id = match obj.get("id") {
            None => web::new_uuid(),
            Some(Value::String(s)) if s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') => {
                s.to_lowercase()
            }
            Some(v) => return Err(ShimError::BadRequest(format!("Invalid image id {v}"))),
        };
        let mut img = Image::queued(id, caller.claims.pid.clone(), now);
        for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "id") {
            patch::set(&mut img, k, v, caller.is_admin())?;
        }
        let row = img.clone();
        let inserted = self
            .db
            .call(move |c| {
                if store::get(c, &row.id)?.is_some() {
                    return Ok(false);
                }
                store::put(c, &row)?;
                Ok(true)
            })
            .await?;
        if !inserted {
            return Err(ShimError::Conflict(format!("Image with identifier {} already exists!", img.id)));
        }
        let mut resp = web::json(StatusCode::CREATED, &image_json(&img));
        if let Ok(v) = format!("{}/v2/images/{}", self.endpoints.image, img.id).parse() {
            resp.headers_mut().insert(http::header::LOCATION, v);
        }
        Ok(resp)
    }

    pub(super) async fn list(&self, caller: &Caller, q: &[(String, String)]) -> Result<Response<Body>> {
        let limit = match web::query_get(q, "limit") {
            None => 25,
            Some(l) => l.parse::<usize>().map_err(|_| ShimError::BadRequest(format!("Invalid limit {l:?}")))?.min(1000),
        };
        let spec = sort_spec(q)?;
        let mut images = Vec::new();
        for i in self.db.call(|c| store::all(c)).await? {
            if can_see(&i, caller) && matches_filters(&i, q, caller)? {
                images.push(i);
            }
        }
        images.sort_by(|a, b| {
            spec.iter()
                .map(|(k, asc)| if *asc { compare(a, b, k) } else { compare(b, a, k) })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        let start = match web::query_get(q, "marker") {
            None => 0,
            Some(m) => {
                images
                    .iter()
                    .position(|i| i.id == m)
                    .ok_or_else(|| ShimError::BadRequest(format!("marker not found: {m}")))?
                    + 1
            }
        };
        let page: Vec<&Image> = images.iter().skip(start).take(limit).collect();
        let base: String = q
            .iter()
            .filter(|(k, _)| k != "marker")
            .fold(form_urlencoded::Serializer::new(String::new()), |mut s, (k, v)| {
                s.append_pair(k, v);
                s
            })
            .finish();
        let mut body = json!({
            "images": page.iter().map(|i| image_json(i)).collect::<Vec<_>>(),
            "first": if base.is_empty() { "/v2/images".to_string() } else { format!("/v2/images?{base}") },
            "schema": "/v2/schemas/images",
        });
        if let (Some(last), true) = (page.last(), start + page.len() < images.len()) {
            let sep = if base.is_empty() { "" } else { "&" };
            body["next"] = json!(format!("/v2/images?{base}{sep}marker={}", last.id));
        }
        Ok(web::json(StatusCode::OK, &body))
    }

    pub(super) async fn update(&self, caller: &Caller, id: &str, ops: Value) -> Result<Response<Body>> {
        let mut img = self.visible(caller, id).await?;
        if !can_modify(&img, caller) {
            return Err(forbidden(id));
        }
        patch::apply(&mut img, &ops, caller.is_admin())?;
        img.updated_at = web::now_secs();
        let row = img.clone();
        let written = self
            .db
            .call(move |c| {
                // Keep the upload state as it is now: an upload may have finished meanwhile.
                let Some(cur) = store::get(c, &row.id)? else { return Ok(None) };
                let merged = Image {
                    status: cur.status,
                    size: cur.size,
                    checksum: cur.checksum,
                    os_hash_algo: cur.os_hash_algo,
                    os_hash_value: cur.os_hash_value,
                    segments: cur.segments,
                    segment_size: cur.segment_size,
                    upload_id: cur.upload_id,
                    ..row
                };
                store::put(c, &merged)?;
                Ok(Some(merged))
            })
            .await?;
        let img = written.ok_or_else(|| ShimError::NotFound(format!("No image found with ID {id}")))?;
        Ok(web::json(StatusCode::OK, &image_json(&img)))
    }

    /// Deletes the data from the store first, so a failure leaves a record to retry with.
    pub(super) async fn delete(&self, caller: &Caller, id: &str) -> Result<Response<Body>> {
        let img = self.visible(caller, id).await?;
        if !can_modify(&img, caller) {
            return Err(forbidden(id));
        }
        if img.protected {
            return Err(ShimError::Forbidden(format!("Image {id} is protected and cannot be deleted.")));
        }
        self.delete_data(id, img.segments).await?;
        let key = id.to_string();
        self.db.call(move |c| store::delete(c, &key)).await?;
        Ok(web::status_only(StatusCode::NO_CONTENT))
    }

    pub(super) async fn tag(&self, caller: &Caller, id: &str, tag: String, add: bool) -> Result<Response<Body>> {
        let img = self.visible(caller, id).await?;
        if !can_modify(&img, caller) {
            return Err(forbidden(id));
        }
        let key = id.to_string();
        let found = self
            .db
            .call(move |c| {
                let Some(mut cur) = store::get(c, &key)? else { return Ok(false) };
                let had = cur.tags.contains(&tag);
                if add && !had {
                    cur.tags.push(tag);
                } else if !add {
                    cur.tags.retain(|t| *t != tag);
                }
                cur.updated_at = web::now_secs();
                store::put(c, &cur)?;
                Ok(add || had)
            })
            .await?;
        if found {
            Ok(web::status_only(StatusCode::NO_CONTENT))
        } else {
            Err(ShimError::NotFound(format!("Tag not found on image {id}")))
        }
    }
}
