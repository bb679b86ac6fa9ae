//! `/v3/auth/*`: issue tokens (password or token method, project scope), validate and
//! revoke them, and the catalog of endpoints.

use super::store::{self, Project, User, DOMAIN_ID, DOMAIN_NAME};
use super::{password, IdentityService};
use crate::error::{Result, ShimError};
use crate::web;
use common::http::Body;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};
use swiftlet_token::{RevocationEvent, TokenClaims};

const AUTH_FAILED: &str = "The request you have made requires authentication.";

fn login_failed() -> ShimError {
    ShimError::LoginFailed(AUTH_FAILED.into())
}

/// A user or project reference: by id, or by name within the domain `Default`.
fn by_id_or_name(v: &Value) -> Result<(Option<String>, Option<String>)> {
    if let Some(domain) = v.get("domain") {
        let ok = domain.get("id").and_then(Value::as_str).is_some_and(|d| d == DOMAIN_ID)
            || domain.get("name").and_then(Value::as_str).is_some_and(|d| d == DOMAIN_NAME);
        if !ok {
            return Err(login_failed());
        }
    }
    let id = v.get("id").and_then(Value::as_str).map(str::to_owned);
    let name = v.get("name").and_then(Value::as_str).map(str::to_owned);
    if id.is_none() && name.is_none() {
        return Err(ShimError::BadRequest("Expecting to find id or name.".into()));
    }
    Ok((id, name))
}

/// The store's key for what `by_id_or_name` found: the id when given.
fn key<'a>(id: &'a Option<String>, name: &'a Option<String>) -> store::Key<'a> {
    match id {
        Some(id) => store::Key::Id(id),
        None => store::Key::Name(name.as_deref().unwrap_or_default()),
    }
}

fn domain() -> Value {
    json!({"id": DOMAIN_ID, "name": DOMAIN_NAME})
}

impl IdentityService {
    pub(super) async fn issue_token(&self, body: Value, q: &[(String, String)]) -> Result<Response<Body>> {
        let auth = body.get("auth").ok_or_else(|| ShimError::BadRequest("Expecting to find auth.".into()))?;
        let identity =
            auth.get("identity").ok_or_else(|| ShimError::BadRequest("Expecting to find identity.".into()))?;
        let methods: Vec<String> = identity
            .get("methods")
            .and_then(Value::as_array)
            .map(|m| m.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let now = web::now_secs();
        let mut exp = now + self.cfg.token_life;
        let user = if methods.iter().any(|m| m == "password") {
            let pw =
                identity.pointer("/password/user").ok_or_else(|| ShimError::BadRequest("Expecting user.".into()))?;
            let secret = pw.get("password").and_then(Value::as_str).ok_or_else(login_failed)?.to_string();
            let (id, name) = by_id_or_name(pw)?;
            let user = self.db.call(move |c| store::user_by(c, key(&id, &name))).await?;
            let Some(user) = user.filter(|u| u.enabled) else {
                // Spend the same time as a real check, so user names cannot be probed.
                password::burn(&self.hash_gate, secret).await?;
                return Err(login_failed());
            };
            if !password::verify(&self.hash_gate, secret, user.password_hash.clone()).await? {
                return Err(login_failed());
            }
            user
        } else if methods.iter().any(|m| m == "token") {
            let token = identity.pointer("/token/id").and_then(Value::as_str).ok_or_else(login_failed)?;
            let old = self.validator.check(token).map_err(|_| login_failed())?;
            // A token made from a token never outlives it.
            exp = exp.min(old.exp);
            let uid = old.uid.clone();
            self.db.call(move |c| store::user(c, &uid)).await?.filter(|u| u.enabled).ok_or_else(login_failed)?
        } else {
            return Err(login_failed());
        };
        let project = self.scope(auth.get("scope"), &user).await?;
        let roles = match &project {
            Some(p) => {
                let (uid, pid) = (user.id.clone(), p.id.clone());
                let roles = self.db.call(move |c| store::roles_on(c, &uid, &pid)).await?;
                if roles.is_empty() {
                    return Err(ShimError::LoginFailed(format!("User {} has no access to project {}", user.id, p.id)));
                }
                roles.into_iter().map(|r| r.name).collect()
            }
            None => Vec::new(),
        };
        let claims = TokenClaims {
            id: web::new_hex_id(),
            iat: now,
            exp,
            uid: user.id.clone(),
            uname: user.name.clone(),
            pid: project.as_ref().map(|p| p.id.clone()),
            pname: project.as_ref().map(|p| p.name.clone()),
            roles,
            methods,
        };
        let token = self.validator.tokens.issue(&claims);
        let body = self.token_body(&claims, web::query_get(q, "nocatalog").is_none()).await?;
        let mut resp = web::json(StatusCode::CREATED, &body);
        let v = HeaderValue::from_str(&token).map_err(|e| ShimError::Internal(e.to_string()))?;
        resp.headers_mut().insert("x-subject-token", v);
        Ok(resp)
    }

    /// The project a token request asks for; with no scope, the user's default project if
    /// they still have a role on it (as Keystone does).
    async fn scope(&self, scope: Option<&Value>, user: &User) -> Result<Option<Project>> {
        let project = match scope {
            None => {
                let (uid, default) = (user.id.clone(), user.default_project_id.clone());
                let Some(pid) = default else { return Ok(None) };
                let p = self.db.call(move |c| store::project(c, &pid)).await?;
                let pid = p.as_ref().map(|p| p.id.clone()).unwrap_or_default();
                let has_roles = !self.db.call(move |c| store::roles_on(c, &uid, &pid)).await?.is_empty();
                return Ok(p.filter(|p| p.enabled && has_roles));
            }
            Some(Value::String(s)) if s == "unscoped" => return Ok(None),
            Some(s) => s,
        };
        let Some(p) = project.get("project") else {
            return Err(ShimError::BadRequest("Only project scope is supported.".into()));
        };
        let (id, name) = by_id_or_name(p)?;
        let found = self.db.call(move |c| store::project_by(c, key(&id, &name))).await?;
        found.filter(|p| p.enabled).map(Some).ok_or_else(login_failed)
    }

    /// `GET`/`HEAD /v3/auth/tokens`: the caller's token must be valid, and the caller must be
    /// the subject's user or an admin; a bad subject token is a 404, as in Keystone.
    pub(super) async fn validate_token(
        &self,
        h: &HeaderMap,
        head: bool,
        q: &[(String, String)],
    ) -> Result<Response<Body>> {
        let (subject, claims) = self.subject_token(h)?;
        let uid = claims.uid.clone();
        if !self.db.call(move |c| store::user(c, &uid)).await?.is_some_and(|u| u.enabled) {
            return Err(ShimError::NotFound("Failed to validate token".into()));
        }
        let body = self.token_body(&claims, web::query_get(q, "nocatalog").is_none()).await?;
        let mut resp = if head { web::status_only(StatusCode::OK) } else { web::json(StatusCode::OK, &body) };
        if let Ok(v) = HeaderValue::from_str(subject) {
            resp.headers_mut().insert("x-subject-token", v);
        }
        Ok(resp)
    }

    /// The token `X-Subject-Token` names and its claims, for its own user or an admin; a bad
    /// subject token is a 404, as in Keystone.
    fn subject_token<'h>(&self, h: &'h HeaderMap) -> Result<(&'h str, TokenClaims)> {
        let caller = self.validator.caller(h)?;
        let subject = web::header(h, "x-subject-token")
            .ok_or_else(|| ShimError::BadRequest("X-Subject-Token is required.".into()))?;
        let claims =
            self.validator.check(subject).map_err(|_| ShimError::NotFound("Failed to validate token".into()))?;
        if !caller.is_admin() && caller.claims.uid != claims.uid {
            return Err(ShimError::Forbidden("You are not authorized to perform the requested action.".into()));
        }
        Ok((subject, claims))
    }

    /// `DELETE /v3/auth/tokens`: the subject token stops validating here, in the image and
    /// compute services, in every poller of the revocation feed, and after a restart.
    pub(super) async fn revoke_token(&self, h: &HeaderMap) -> Result<Response<Body>> {
        let (_, claims) = self.subject_token(h)?;
        let event = RevocationEvent::token(&claims.id, &claims.uid, claims.exp, web::now_secs());
        self.change_and_revoke(move |_| Ok(((), vec![event]))).await?;
        Ok(web::status_only(StatusCode::NO_CONTENT))
    }

    pub(super) fn auth_catalog(&self, h: &HeaderMap) -> Result<Response<Body>> {
        let caller = self.validator.caller(h)?;
        let catalog = self.catalog(caller.claims.pid.as_deref());
        Ok(web::json(
            StatusCode::OK,
            &json!({"catalog": catalog, "links": {"self": format!("{}/v3/auth/catalog", self.endpoints.identity)}}),
        ))
    }

    pub(super) async fn auth_projects(&self, h: &HeaderMap) -> Result<Response<Body>> {
        let caller = self.validator.caller(h)?;
        let uid = caller.claims.uid.clone();
        let projects = self.db.call(move |c| store::projects_of(c, &uid)).await?;
        let list: Vec<Value> = projects.iter().filter(|p| p.enabled).map(|p| self.project_json(p)).collect();
        Ok(web::json(
            StatusCode::OK,
            &json!({"projects": list, "links": {"self": null, "next": null, "previous": null}}),
        ))
    }

    /// Keystone's token body: user, scope, roles (with ids), times, and the catalog.
    async fn token_body(&self, claims: &TokenClaims, with_catalog: bool) -> Result<Value> {
        let all_roles = self.db.call(|c| store::roles(c, None)).await?;
        let roles: Vec<Value> = claims
            .roles
            .iter()
            .map(|name| {
                let id =
                    all_roles.iter().find(|r| &r.name == name).map(|r| r.id.clone()).unwrap_or_else(|| name.clone());
                json!({"id": id, "name": name})
            })
            .collect();
        let mut token = json!({
            "methods": claims.methods,
            "user": {"id": claims.uid, "name": claims.uname, "domain": domain(), "password_expires_at": null},
            "audit_ids": [claims.id],
            "expires_at": web::rfc3339_micro(claims.exp),
            "issued_at": web::rfc3339_micro(claims.iat),
        });
        if let (Some(pid), Some(obj)) = (&claims.pid, token.as_object_mut()) {
            obj.insert("project".into(), json!({"id": pid, "name": claims.pname, "domain": domain()}));
            obj.insert("is_domain".into(), json!(false));
            obj.insert("roles".into(), json!(roles));
            if with_catalog {
                obj.insert("catalog".into(), self.catalog(Some(pid)));
            }
        }
        Ok(json!({"token": token}))
    }

    /// Identity, object-store (the project's account), image and compute; each with the
    /// public, internal and admin interfaces at the same URL.
    pub(crate) fn catalog(&self, project_id: Option<&str>) -> Value {
        let e = &self.endpoints;
        let mut services = vec![
            ("identity", "keystone", format!("{}/v3", e.identity)),
            ("image", "glance", e.image.clone()),
            ("compute", "nova", format!("{}/v2.1", e.compute)),
        ];
        if let Some(pid) = project_id {
            services.push(("object-store", "swift", format!("{}/v1/AUTH_{pid}", e.object_store)));
        }
        let region = &self.cfg.region;
        let list: Vec<Value> = services
            .into_iter()
            .map(|(kind, name, url)| {
                let endpoints: Vec<Value> = ["public", "internal", "admin"]
                    .iter()
                    .map(|i| json!({"id": format!("{name}-{i}"), "interface": i, "region": region, "region_id": region, "url": url}))
                    .collect();
                json!({"type": kind, "name": name, "id": name, "endpoints": endpoints})
            })
            .collect();
        Value::Array(list)
    }
}
