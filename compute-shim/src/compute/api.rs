//! The compute API's requests and their JSON: flavors, servers and server actions. The
//! work behind a create or an action runs in [`super::lifecycle`] after the 202.

use super::store::{self, Server};
use super::{fetch, flavors, ComputeService};
use crate::auth::Caller;
use crate::error::{Result, ShimError};
use crate::web;
use common::http::Body;
use http::{Response, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

fn bad(msg: impl Into<String>) -> ShimError {
    ShimError::BadRequest(msg.into())
}

/// The id at the end of a reference that may be a bare id or a URL.
fn ref_id(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let id = s.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
    (!id.is_empty()).then_some(id)
}

/// The networks a request asks for: `none` or `auto` (there is no network service to
/// attach named networks from). From 2.37 the field is required, as in Nova.
fn networks(s: &Map<String, Value>, version: (u32, u32)) -> Result<String> {
    match s.get("networks") {
        None if version >= (2, 37) => {
            Err(bad("Invalid input for field/attribute server: 'networks' is a required property"))
        }
        None => Ok("auto".into()),
        Some(Value::String(n)) if n == "none" || n == "auto" => Ok(n.clone()),
        Some(Value::Array(list)) if list.is_empty() => Ok("none".into()),
        Some(other) => Err(bad(format!("Invalid networks {other}: only \"none\" and \"auto\" are supported"))),
    }
}

impl ComputeService {
    pub(super) fn flavors(&self, detail: bool) -> Response<Body> {
        let base = &self.endpoints.compute;
        let list: Vec<Value> = flavors::FLAVORS
            .iter()
            .map(|f| if detail { flavors::detail_json(f, base) } else { flavors::summary_json(f, base) })
            .collect();
        web::json(StatusCode::OK, &json!({"flavors": list}))
    }

    pub(super) fn flavor(&self, id: &str) -> Result<Response<Body>> {
        let f = flavors::find(id).ok_or_else(|| ShimError::NotFound(format!("Flavor {id} could not be found.")))?;
        Ok(web::json(StatusCode::OK, &json!({"flavor": flavors::detail_json(f, &self.endpoints.compute)})))
    }

    pub(super) async fn create(
        self: &Arc<Self>,
        caller: &Caller,
        body: Value,
        version: (u32, u32),
    ) -> Result<Response<Body>> {
        let s =
            body.get("server").and_then(Value::as_object).ok_or_else(|| bad("Invalid input: 'server' is required"))?;
        let name = s.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty() && n.len() <= 255);
        let name = name.ok_or_else(|| bad("Invalid input for field/attribute name."))?.to_string();
        let image_id =
            s.get("imageRef").and_then(ref_id).ok_or_else(|| bad("Invalid input: 'imageRef' is required"))?;
        let flavor_id =
            s.get("flavorRef").and_then(ref_id).ok_or_else(|| bad("Invalid input: 'flavorRef' is required"))?;
        let network = networks(s, version)?;
        let mut metadata = BTreeMap::new();
        if let Some(m) = s.get("metadata") {
            for (k, v) in m.as_object().ok_or_else(|| bad("metadata must be an object"))? {
                let v = v.as_str().ok_or_else(|| bad(format!("metadata value of {k} must be a string")))?;
                metadata.insert(k.clone(), v.to_string());
            }
        }
        let flavor = flavors::find(&flavor_id).ok_or_else(|| bad(format!("Flavor {flavor_id} could not be found.")))?;
        let image = match fetch::image_meta(&self.client, &self.endpoints.image, &caller.token, &image_id).await {
            Ok(m) => m,
            Err(ShimError::NotFound(_)) => return Err(bad(format!("Image {image_id} could not be found."))),
            Err(e) => return Err(e),
        };
        if image["status"] != "active" {
            return Err(bad(format!("Image {image_id} is not active.")));
        }
        if image["min_ram"].as_u64().is_some_and(|m| m > flavor.ram_mb) {
            return Err(bad("Flavor's memory is too small for requested image."));
        }
        let now = web::now_secs();
        let server = Server {
            id: web::new_uuid(),
            name,
            project_id: caller.project_id()?.to_string(),
            user_id: caller.claims.uid.clone(),
            image_id,
            flavor_id: flavor.id.to_string(),
            host: None,
            status: "BUILD".into(),
            task_state: Some("scheduling".into()),
            power_state: store::NOSTATE,
            fault: None,
            fault_at: None,
            metadata,
            network,
            created_at: now,
            updated_at: now,
            launched_at: None,
        };
        let row = server.clone();
        self.db.call(move |c| store::put(c, &row)).await?;
        self.start_build(server.id.clone(), caller.token.clone(), image);
        let links = self.links(&server.id);
        let mut resp = web::json(
            StatusCode::ACCEPTED,
            &json!({"server": {"id": server.id, "links": links, "OS-DCF:diskConfig": "MANUAL",
                               "security_groups": [{"name": "default"}], "adminPass": web::new_hex_id()}}),
        );
        if let Ok(v) = format!("{}/v2.1/servers/{}", self.endpoints.compute, server.id).parse() {
            resp.headers_mut().insert(http::header::LOCATION, v);
        }
        Ok(resp)
    }

    pub(super) async fn list(&self, caller: &Caller, detail: bool, q: &[(String, String)]) -> Result<Response<Body>> {
        let all = caller.is_admin() && web::query_get(q, "all_tenants").is_some_and(|v| v != "0" && v != "false");
        let project = if all { None } else { Some(caller.project_id()?.to_string()) };
        let servers = self.db.call(move |c| store::list(c, project.as_deref())).await?;
        // `name` matches by substring (Nova takes a regular expression; a plain name matches).
        let keep = |s: &Server| {
            web::query_get(q, "name").is_none_or(|n| s.name.contains(n))
                && web::query_get(q, "status").is_none_or(|st| st.eq_ignore_ascii_case(&s.status))
                && web::query_get(q, "image").is_none_or(|i| i == s.image_id)
                && web::query_get(q, "flavor").is_none_or(|f| f == s.flavor_id)
        };
        let mut servers: Vec<Server> = servers.into_iter().filter(keep).collect();
        // Newest first, as Nova lists.
        servers.reverse();
        let start = match web::query_get(q, "marker") {
            None => 0,
            Some(m) => {
                servers.iter().position(|s| s.id == m).ok_or_else(|| bad(format!("marker [{m}] not found")))? + 1
            }
        };
        let limit = match web::query_get(q, "limit") {
            None => 1000,
            Some(l) => l.parse::<usize>().map_err(|_| bad(format!("Invalid limit {l:?}")))?,
        };
        let page: Vec<&Server> = servers.iter().skip(start).take(limit).collect();
        let list: Vec<Value> = page
            .iter()
            .map(|s| {
                if detail {
                    self.server_json(s, caller.is_admin())
                } else {
                    json!({"id": s.id, "name": s.name, "links": self.links(&s.id)})
                }
            })
            .collect();
        let mut body = json!({"servers": list});
        if let (Some(last), true) = (page.last(), start + page.len() < servers.len()) {
            let path = if detail { "servers/detail" } else { "servers" };
            let href = format!("{}/v2.1/{path}?limit={limit}&marker={}", self.endpoints.compute, last.id);
            body["servers_links"] = json!([{"rel": "next", "href": href}]);
        }
        Ok(web::json(StatusCode::OK, &body))
    }

    /// The server if the caller's project owns it (or the caller is an admin).
    pub(super) async fn owned(&self, caller: &Caller, id: &str) -> Result<Server> {
        let key = id.to_string();
        let s = self.db.call(move |c| store::get(c, &key)).await?;
        s.filter(|s| caller.is_admin() || caller.claims.pid.as_deref() == Some(s.project_id.as_str()))
            .ok_or_else(|| ShimError::NotFound(format!("Instance {id} could not be found.")))
    }

    pub(super) async fn show(&self, caller: &Caller, id: &str) -> Result<Response<Body>> {
        let s = self.owned(caller, id).await?;
        Ok(web::json(StatusCode::OK, &json!({"server": self.server_json(&s, caller.is_admin())})))
    }

    pub(super) async fn delete(&self, caller: &Caller, id: &str) -> Result<Response<Body>> {
        let s = self.owned(caller, id).await?;
        self.destroy(&s).await?;
        Ok(web::status_only(StatusCode::NO_CONTENT))
    }

    pub(super) async fn action(self: &Arc<Self>, caller: &Caller, id: &str, body: Value) -> Result<Response<Body>> {
        let s = self.owned(caller, id).await?;
        let (name, arg) = body
            .as_object()
            .and_then(|o| o.iter().next())
            .ok_or_else(|| bad("Malformed request body: one action is expected"))?;
        let conflict =
            || ShimError::Conflict(format!("Cannot '{name}' instance {id} while it is in vm_state {}", s.vm_state()));
        let busy = s.task_state.is_some();
        match name.as_str() {
            "os-getConsoleOutput" => {
                let lines = arg.get("length").and_then(|l| l.as_i64().or_else(|| l.as_str()?.parse().ok()));
                let output = self.console_output(&s, lines.filter(|n| *n >= 0).map(|n| n as usize)).await?;
                Ok(web::json(StatusCode::OK, &json!({"output": output})))
            }
            "reboot" => {
                let hard = arg.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("HARD"));
                let ok = !busy && (s.status == "ACTIVE" || (hard && s.status == "SHUTOFF"));
                if !ok {
                    return Err(conflict());
                }
                self.start_reboot(&s, hard).await?;
                Ok(web::status_only(StatusCode::ACCEPTED))
            }
            "os-stop" if !busy && s.status == "ACTIVE" => {
                self.start_power(&s, false).await?;
                Ok(web::status_only(StatusCode::ACCEPTED))
            }
            "os-start" if !busy && s.status == "SHUTOFF" => {
                self.start_power(&s, true).await?;
                Ok(web::status_only(StatusCode::ACCEPTED))
            }
            "os-stop" | "os-start" => Err(conflict()),
            other => Err(bad(format!("There is no such action: {other}"))),
        }
    }

    fn links(&self, id: &str) -> Value {
        let base = &self.endpoints.compute;
        json!([
            {"rel": "self", "href": format!("{base}/v2.1/servers/{id}")},
            {"rel": "bookmark", "href": format!("{base}/servers/{id}")},
        ])
    }

    pub(super) fn server_json(&self, s: &Server, admin: bool) -> Value {
        let base = &self.endpoints.compute;
        let host_id = s
            .host
            .as_ref()
            .map(|h| hex::encode(Sha256::digest(format!("{}{h}", s.project_id)))[..56].to_string())
            .unwrap_or_default();
        let on_qemu = s
            .host
            .as_deref()
            .and_then(|h| self.hosts.iter().find(|x| x.cfg.name == h))
            .is_some_and(|h| h.cfg.driver == crate::config::DriverKind::Qemu);
        let addresses = if s.network == "auto" && on_qemu && s.status != "BUILD" {
            // qemu's user-mode network gives the guest this address.
            json!({"auto_allocated_network": [{"addr": "10.0.2.15", "version": 4, "OS-EXT-IPS:type": "fixed"}]})
        } else {
            json!({})
        };
        let mut v = json!({
            "id": s.id, "name": s.name, "status": s.status, "tenant_id": s.project_id, "user_id": s.user_id,
            "metadata": s.metadata, "hostId": host_id,
            "image": {"id": s.image_id, "links": [{"rel": "bookmark", "href": format!("{}/images/{}", self.endpoints.image, s.image_id)}]},
            "flavor": {"id": s.flavor_id, "links": [{"rel": "bookmark", "href": format!("{base}/flavors/{}", s.flavor_id)}]},
            "created": web::rfc3339(s.created_at), "updated": web::rfc3339(s.updated_at),
            "addresses": addresses, "accessIPv4": "", "accessIPv6": "", "links": self.links(&s.id),
            "OS-DCF:diskConfig": "MANUAL", "progress": 0, "OS-EXT-AZ:availability_zone": "nova",
            "config_drive": "", "key_name": null, "locked": false, "description": null, "tags": [],
            "OS-SRV-USG:launched_at": s.launched_at.map(web::rfc3339), "OS-SRV-USG:terminated_at": null,
            "OS-EXT-STS:vm_state": s.vm_state(), "OS-EXT-STS:task_state": s.task_state,
            "OS-EXT-STS:power_state": s.power_state, "os-extended-volumes:volumes_attached": [],
            "security_groups": [{"name": "default"}],
        });
        if s.status == "ERROR" {
            v["fault"] = json!({"code": 500, "created": web::rfc3339(s.fault_at.unwrap_or(s.updated_at)),
                                "message": s.fault.clone().unwrap_or_default()});
        }
        if admin {
            v["OS-EXT-SRV-ATTR:host"] = json!(s.host);
            v["OS-EXT-SRV-ATTR:hypervisor_hostname"] = json!(s.host);
            v["OS-EXT-SRV-ATTR:instance_name"] = json!(format!("instance-{}", &s.id[..8.min(s.id.len())]));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_networks() {
        assert_eq!(ref_id(&json!("http://x/v2.1/flavors/42")).as_deref(), Some("42"));
        assert_eq!(ref_id(&json!(1)).as_deref(), Some("1"));
        assert!(ref_id(&json!(null)).is_none());
        let m = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(networks(&m(json!({"networks": "none"})), (2, 37)).unwrap(), "none");
        assert!(networks(&m(json!({})), (2, 37)).is_err());
        assert_eq!(networks(&m(json!({})), (2, 1)).unwrap(), "auto");
        assert!(networks(&m(json!({"networks": [{"uuid": "x"}]})), (2, 37)).is_err());
    }
}
