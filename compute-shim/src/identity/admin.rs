//! Users, projects, roles and role assignments. Admins manage everything; a user may read
//! their own record and projects, and a token may read its own project. Changes that take
//! rights away record revocation events with them ([`super::revocations`]).

use super::store::{self, Project, Role, User, DOMAIN_ID, DOMAIN_NAME};
use super::{password, Endpoint, IdentityService};
use crate::auth::Caller;
use crate::error::{Result, ShimError};
use crate::web;
use common::http::Body;
use http::{Method, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Value};
use swiftlet_token::RevocationEvent;

fn forbidden() -> ShimError {
    ShimError::Forbidden("You are not authorized to perform the requested action.".into())
}

fn field<'a>(body: &'a Value, kind: &str) -> Result<&'a Value> {
    body.get(kind).filter(|v| v.is_object()).ok_or_else(|| ShimError::BadRequest(format!("Expecting to find {kind}.")))
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn check_domain(v: &Value) -> Result<()> {
    match v.get("domain_id").and_then(Value::as_str) {
        None | Some(DOMAIN_ID) => Ok(()),
        Some(d) => Err(ShimError::BadRequest(format!("Only the domain {DOMAIN_ID:?} exists, not {d:?}."))),
    }
}

impl IdentityService {
    pub(super) async fn admin(
        &self,
        ep: Endpoint,
        caller: Caller,
        body: Incoming,
        q: &[(String, String)],
    ) -> Result<Response<Body>> {
        let admin = caller.is_admin();
        let name = web::query_get(q, "name").map(str::to_owned);
        let ok = |v: Value| Ok(web::json(StatusCode::OK, &v));
        let created = |v: Value| Ok(web::json(StatusCode::CREATED, &v));
        let deleted = |found: bool, what: &str| {
            if found {
                Ok(web::status_only(StatusCode::NO_CONTENT))
            } else {
                Err(ShimError::not_found(what))
            }
        };
        match ep {
            Endpoint::Domains => ok(json!({"domains": [self.domain_json()], "links": self.list_links("domains")})),
            Endpoint::Domain(id) if id == DOMAIN_ID => ok(json!({"domain": self.domain_json()})),
            Endpoint::Domain(id) => Err(ShimError::not_found(format!("domain: {id}"))),
            Endpoint::User(id) if admin || caller.claims.uid == id => {
                let user =
                    self.db.call(move |c| store::user(c, &id)).await?.ok_or_else(|| ShimError::not_found("user"))?;
                ok(json!({"user": self.user_json(&user)}))
            }
            Endpoint::UserProjects(id) if admin || caller.claims.uid == id => {
                let projects = self.db.call(move |c| store::projects_of(c, &id)).await?;
                let list: Vec<Value> = projects.iter().map(|p| self.project_json(p)).collect();
                ok(json!({"projects": list, "links": self.list_links("projects")}))
            }
            Endpoint::Project(id) if admin || caller.claims.pid.as_deref() == Some(id.as_str()) => {
                let p = self
                    .db
                    .call(move |c| store::project(c, &id))
                    .await?
                    .ok_or_else(|| ShimError::not_found("project"))?;
                ok(json!({"project": self.project_json(&p)}))
            }
            _ if !admin => Err(forbidden()),
            Endpoint::Users => {
                let users = self.db.call(move |c| store::users(c, name.as_deref())).await?;
                let list: Vec<Value> = users.iter().map(|u| self.user_json(u)).collect();
                ok(json!({"users": list, "links": self.list_links("users")}))
            }
            Endpoint::CreateUser => {
                let body: Value = web::read_json(body).await?;
                let u = field(&body, "user")?;
                check_domain(u)?;
                let name = str_field(u, "name")
                    .ok_or_else(|| ShimError::BadRequest("Expecting to find name in user.".into()))?;
                let pw = str_field(u, "password").unwrap_or_else(web::new_hex_id);
                let user = User {
                    id: web::new_hex_id(),
                    name,
                    enabled: u.get("enabled").and_then(Value::as_bool).unwrap_or(true),
                    default_project_id: str_field(u, "default_project_id"),
                    password_hash: password::hash(&self.hash_gate, pw).await?,
                };
                let row = user.clone();
                self.db.call(move |c| store::insert_user(c, &row)).await?;
                created(json!({"user": self.user_json(&user)}))
            }
            Endpoint::UpdateUser(id) => {
                let body: Value = web::read_json(body).await?;
                let u = field(&body, "user")?;
                let mut user =
                    self.db.call(move |c| store::user(c, &id)).await?.ok_or_else(|| ShimError::not_found("user"))?;
                if let Some(n) = str_field(u, "name") {
                    user.name = n;
                }
                let was_enabled = user.enabled;
                if let Some(e) = u.get("enabled").and_then(Value::as_bool) {
                    user.enabled = e;
                }
                if let Some(p) = u.get("default_project_id") {
                    user.default_project_id = p.as_str().map(str::to_owned);
                }
                let new_password = str_field(u, "password");
                if let Some(pw) = new_password.clone() {
                    user.password_hash = password::hash(&self.hash_gate, pw).await?;
                }
                // Disabling a user or changing their password ends the tokens they hold.
                let ends_tokens = (was_enabled && !user.enabled) || new_password.is_some();
                let events: Vec<_> = ends_tokens.then(|| self.tokens_of(Some(&user.id), None)).into_iter().collect();
                let row = user.clone();
                self.change_and_revoke(move |c| Ok((store::update_user(c, &row)?, events))).await?;
                ok(json!({"user": self.user_json(&user)}))
            }
            Endpoint::DeleteUser(id) => {
                let event = self.tokens_of(Some(&id), None);
                deleted(self.delete_revoking(event, move |c| store::delete_user(c, &id)).await?, "user")
            }
            Endpoint::Projects => {
                let projects = self.db.call(move |c| store::projects(c, name.as_deref())).await?;
                let list: Vec<Value> = projects.iter().map(|p| self.project_json(p)).collect();
                ok(json!({"projects": list, "links": self.list_links("projects")}))
            }
            Endpoint::CreateProject => {
                let body: Value = web::read_json(body).await?;
                let p = field(&body, "project")?;
                check_domain(p)?;
                let project = Project {
                    id: web::new_hex_id(),
                    name: str_field(p, "name")
                        .ok_or_else(|| ShimError::BadRequest("Expecting to find name in project.".into()))?,
                    description: str_field(p, "description").unwrap_or_default(),
                    enabled: p.get("enabled").and_then(Value::as_bool).unwrap_or(true),
                };
                let row = project.clone();
                self.db.call(move |c| store::insert_project(c, &row)).await?;
                created(json!({"project": self.project_json(&project)}))
            }
            Endpoint::UpdateProject(id) => {
                let body: Value = web::read_json(body).await?;
                let p = field(&body, "project")?;
                let mut project = self
                    .db
                    .call(move |c| store::project(c, &id))
                    .await?
                    .ok_or_else(|| ShimError::not_found("project"))?;
                if let Some(n) = str_field(p, "name") {
                    project.name = n;
                }
                if let Some(d) = str_field(p, "description") {
                    project.description = d;
                }
                let was_enabled = project.enabled;
                if let Some(e) = p.get("enabled").and_then(Value::as_bool) {
                    project.enabled = e;
                }
                let disabled = was_enabled && !project.enabled;
                let events: Vec<_> = disabled.then(|| self.tokens_of(None, Some(&project.id))).into_iter().collect();
                let row = project.clone();
                self.change_and_revoke(move |c| Ok((store::update_project(c, &row)?, events))).await?;
                ok(json!({"project": self.project_json(&project)}))
            }
            Endpoint::DeleteProject(id) => {
                let event = self.tokens_of(None, Some(&id));
                deleted(self.delete_revoking(event, move |c| store::delete_project(c, &id)).await?, "project")
            }
            Endpoint::Roles => {
                let roles = self.db.call(move |c| store::roles(c, name.as_deref())).await?;
                let list: Vec<Value> = roles.iter().map(|r| self.role_json(r)).collect();
                ok(json!({"roles": list, "links": self.list_links("roles")}))
            }
            Endpoint::CreateRole => {
                let body: Value = web::read_json(body).await?;
                let r = field(&body, "role")?;
                let name = str_field(r, "name")
                    .ok_or_else(|| ShimError::BadRequest("Expecting to find name in role.".into()))?;
                let role = Role { id: web::new_hex_id(), name };
                let row = role.clone();
                self.db.call(move |c| store::insert_role(c, &row)).await?;
                created(json!({"role": self.role_json(&role)}))
            }
            Endpoint::Role(id) => {
                let r =
                    self.db.call(move |c| store::role(c, &id)).await?.ok_or_else(|| ShimError::not_found("role"))?;
                ok(json!({"role": self.role_json(&r)}))
            }
            Endpoint::DeleteRole(id) => {
                // Every assignment of the role goes with it: the tokens those carried end.
                let (now, life) = (web::now_secs(), self.cfg.token_life);
                let found = self
                    .change_and_revoke(move |c| {
                        let holders = store::holders_of_role(c, &id)?;
                        let events = holders
                            .iter()
                            .map(|(u, p)| RevocationEvent::tokens_of(Some(u), Some(p), now, life))
                            .collect();
                        Ok((store::delete_role(c, &id)?, events))
                    })
                    .await?;
                deleted(found, "role")
            }
            Endpoint::ProjectUserRoles { project, user } => {
                let roles = self.db.call(move |c| store::roles_on(c, &user, &project)).await?;
                let list: Vec<Value> = roles.iter().map(|r| self.role_json(r)).collect();
                ok(json!({"roles": list, "links": self.list_links("roles")}))
            }
            Endpoint::Grant { method, project, user, role } => self.grant(method, project, user, role).await,
            _ => Err(ShimError::MethodNotAllowed),
        }
    }

    /// `PUT`/`HEAD`/`DELETE /v3/projects/{p}/users/{u}/roles/{r}`; removing an assignment
    /// ends the user's tokens on the project.
    async fn grant(&self, method: Method, project: String, user: String, role: String) -> Result<Response<Body>> {
        let event = self.tokens_of(Some(&user), Some(&project));
        self.change_and_revoke(move |c| {
            if store::project(c, &project)?.is_none() {
                return Err(ShimError::not_found(format!("project: {project}")));
            }
            if store::user(c, &user)?.is_none() {
                return Err(ShimError::not_found(format!("user: {user}")));
            }
            if store::role(c, &role)?.is_none() {
                return Err(ShimError::not_found(format!("role: {role}")));
            }
            let (found, events) = match method {
                Method::PUT => {
                    store::assign(c, &user, &project, &role)?;
                    (true, Vec::new())
                }
                Method::DELETE => {
                    let found = store::unassign(c, &user, &project, &role)?;
                    (found, if found { vec![event] } else { Vec::new() })
                }
                _ => (store::roles_on(c, &user, &project)?.iter().any(|r| r.id == role), Vec::new()),
            };
            if found {
                Ok((web::status_only(StatusCode::NO_CONTENT), events))
            } else {
                Err(ShimError::not_found("role assignment"))
            }
        })
        .await
    }

    fn link(&self, kind: &str, id: &str) -> Value {
        json!({"self": format!("{}/v3/{kind}/{id}", self.endpoints.identity)})
    }

    fn list_links(&self, kind: &str) -> Value {
        json!({"self": format!("{}/v3/{kind}", self.endpoints.identity), "previous": null, "next": null})
    }

    fn domain_json(&self) -> Value {
        json!({"id": DOMAIN_ID, "name": DOMAIN_NAME, "description": "The default domain", "enabled": true,
               "tags": [], "options": {}, "links": self.link("domains", DOMAIN_ID)})
    }

    fn user_json(&self, u: &User) -> Value {
        json!({"id": u.id, "name": u.name, "domain_id": DOMAIN_ID, "enabled": u.enabled,
               "default_project_id": u.default_project_id, "password_expires_at": null, "options": {},
               "links": self.link("users", &u.id)})
    }

    pub(super) fn project_json(&self, p: &Project) -> Value {
        json!({"id": p.id, "name": p.name, "domain_id": DOMAIN_ID, "description": p.description,
               "enabled": p.enabled, "is_domain": false, "parent_id": DOMAIN_ID, "tags": [], "options": {},
               "links": self.link("projects", &p.id)})
    }

    fn role_json(&self, r: &Role) -> Value {
        json!({"id": r.id, "name": r.name, "domain_id": null, "description": null, "options": {},
               "links": self.link("roles", &r.id)})
    }
}
