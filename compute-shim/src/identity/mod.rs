//! Identity: a Keystone v3 subset. Password and token authentication with project scope,
//! signed tokens that any service (and the proxy) validates locally, revocation events
//! and their feed (`GET /v3/OS-REVOKE/events`), and users/projects/roles administration.
//! Everything lives in the domain `Default`. Password hashing runs behind a bounded gate
//! ([`hash_gate`]); the start-up users' passwords are checked in [`credentials`].

mod admin;
pub mod credentials;
pub mod hash_gate;
pub mod password;
mod revocations;
pub mod store;
mod tokens;

use crate::auth::Validator;
use crate::config::IdentityConfig;
use crate::db::Db;
use crate::error::{ErrorStyle, Result, ShimError};
use crate::web;
use crate::Endpoints;
use common::http::Body;
use hash_gate::HashGate;
use hmac::{Hmac, Mac};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swiftlet_token::{FeedKey, Revocations};
use tracing::Instrument;

/// Keystone v3's newest minor version as of the API this subset follows.
pub const VERSION_ID: &str = "v3.14";

/// The password of a service user, derived from the token key so the identity service
/// (which creates the user) and the service (which logs in) agree without configuration.
pub fn service_password(key: &[u8; 32], user: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"service-password\0");
    mac.update(user.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The service user and project the image service stores image data under.
pub const IMAGE_SERVICE_USER: &str = "glance";
pub const SERVICE_PROJECT: &str = "service";

pub struct IdentityService {
    pub(crate) db: Db,
    pub(crate) cfg: IdentityConfig,
    pub(crate) validator: Validator,
    pub(crate) endpoints: Endpoints,
    /// Checks the revocation feed's signed requests.
    pub(crate) feed_key: FeedKey,
    /// Bounds the password hashes run at once (logins are unauthenticated).
    pub(crate) hash_gate: HashGate,
}

/// One parsed request.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    Versions,
    Version,
    IssueToken,
    ValidateToken { head: bool },
    RevokeToken,
    AuthCatalog,
    AuthProjects,
    RevocationEvents,
    Domains,
    Domain(String),
    Users,
    CreateUser,
    User(String),
    UpdateUser(String),
    DeleteUser(String),
    UserProjects(String),
    Projects,
    CreateProject,
    Project(String),
    UpdateProject(String),
    DeleteProject(String),
    Roles,
    CreateRole,
    Role(String),
    DeleteRole(String),
    ProjectUserRoles { project: String, user: String },
    Grant { method: Method, project: String, user: String, role: String },
}

fn route(method: &Method, path: &str) -> Result<Endpoint> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let m = method.clone();
    let s = |i: usize| segs[i].to_string();
    let ep = match (m.as_str(), segs.as_slice()) {
        ("GET" | "HEAD", []) => Endpoint::Versions,
        ("GET" | "HEAD", ["v3"]) => Endpoint::Version,
        ("POST", ["v3", "auth", "tokens"]) => Endpoint::IssueToken,
        ("GET", ["v3", "auth", "tokens"]) => Endpoint::ValidateToken { head: false },
        ("HEAD", ["v3", "auth", "tokens"]) => Endpoint::ValidateToken { head: true },
        ("DELETE", ["v3", "auth", "tokens"]) => Endpoint::RevokeToken,
        ("GET", ["v3", "auth", "catalog"]) => Endpoint::AuthCatalog,
        ("GET", ["v3", "auth", "projects"]) => Endpoint::AuthProjects,
        ("GET", ["v3", "OS-REVOKE", "events"]) => Endpoint::RevocationEvents,
        ("GET", ["v3", "domains"]) => Endpoint::Domains,
        ("GET", ["v3", "domains", _]) => Endpoint::Domain(s(2)),
        ("GET", ["v3", "users"]) => Endpoint::Users,
        ("POST", ["v3", "users"]) => Endpoint::CreateUser,
        ("GET", ["v3", "users", _]) => Endpoint::User(s(2)),
        ("PATCH", ["v3", "users", _]) => Endpoint::UpdateUser(s(2)),
        ("DELETE", ["v3", "users", _]) => Endpoint::DeleteUser(s(2)),
        ("GET", ["v3", "users", _, "projects"]) => Endpoint::UserProjects(s(2)),
        ("GET", ["v3", "projects"]) => Endpoint::Projects,
        ("POST", ["v3", "projects"]) => Endpoint::CreateProject,
        ("GET", ["v3", "projects", _]) => Endpoint::Project(s(2)),
        ("PATCH", ["v3", "projects", _]) => Endpoint::UpdateProject(s(2)),
        ("DELETE", ["v3", "projects", _]) => Endpoint::DeleteProject(s(2)),
        ("GET", ["v3", "roles"]) => Endpoint::Roles,
        ("POST", ["v3", "roles"]) => Endpoint::CreateRole,
        ("GET", ["v3", "roles", _]) => Endpoint::Role(s(2)),
        ("DELETE", ["v3", "roles", _]) => Endpoint::DeleteRole(s(2)),
        ("GET", ["v3", "projects", _, "users", _, "roles"]) => Endpoint::ProjectUserRoles { project: s(2), user: s(4) },
        ("PUT" | "HEAD" | "DELETE", ["v3", "projects", _, "users", _, "roles", _]) => {
            Endpoint::Grant { method: m, project: s(2), user: s(4), role: s(6) }
        }
        (_, [] | ["v3", ..]) if known_path(&segs) => return Err(ShimError::MethodNotAllowed),
        _ => return Err(ShimError::NotFound("The resource could not be found.".into())),
    };
    Ok(ep)
}

/// Paths that exist for some method (so another method is a 405, not a 404).
fn known_path(segs: &[&str]) -> bool {
    matches!(
        segs,
        [] | ["v3"]
            | ["v3", "auth", "tokens" | "catalog" | "projects"]
            | ["v3", "OS-REVOKE", "events"]
            | ["v3", "users" | "projects" | "roles" | "domains"]
            | ["v3", "users" | "projects" | "roles" | "domains", _]
    )
}

impl IdentityService {
    /// Opens the identity database (`<state_dir>/identity.db`), creating the default users
    /// when it is new, and loads the revocation events into `validator`.
    pub async fn open(
        cfg: IdentityConfig,
        state_dir: &Path,
        validator: Validator,
        endpoints: Endpoints,
    ) -> Result<Arc<IdentityService>> {
        let hash_gate = HashGate::new(
            cfg.password_hash_concurrency,
            cfg.password_hash_queue,
            Duration::try_from_secs_f64(cfg.password_hash_wait).unwrap_or(Duration::from_secs(5)),
        );
        let db = Db::open(&state_dir.join("identity.db"), store::SCHEMA).await?;
        let new_db = db.call(|c| store::is_empty(c)).await?;
        // Checked for an existing database too: a config with a known password never starts.
        let passwords = credentials::seed_passwords(&cfg, new_db)?;
        if new_db {
            let glance_pw = service_password(validator.tokens.key(), IMAGE_SERVICE_USER);
            let mut wanted = vec![("admin", passwords.admin, "admin", "admin")];
            if let Some(demo) = passwords.demo {
                wanted.push(("demo", demo, "demo", "member"));
            }
            wanted.push((IMAGE_SERVICE_USER, glance_pw, SERVICE_PROJECT, "admin"));
            let mut seeds = Vec::new();
            for (user, pw, project, role) in wanted {
                let password_hash = password::hash(&hash_gate, pw).await?;
                seeds.push(store::Seed {
                    user: user.into(),
                    password_hash,
                    project: project.into(),
                    role: role.into(),
                });
            }
            let names: Vec<String> = seeds.iter().map(|s| s.user.clone()).collect();
            db.call(move |c| store::bootstrap(c, &seeds)).await?;
            tracing::info!(users = ?names, "identity: created the start-up users");
        }
        let now = web::now_secs();
        db.call(move |c| revocations::migrate_revoked_tokens(c, now)).await?;
        for e in db.call(move |c| revocations::load(c, now)).await? {
            validator.revoked.insert(e, now);
        }
        let feed_key = FeedKey::new(&validator.tokens);
        Ok(Arc::new(IdentityService { db, cfg, validator, endpoints, feed_key, hash_gate }))
    }

    /// The gate password hashes pass (its peak, for tests and stats).
    pub fn password_gate(&self) -> &HashGate {
        &self.hash_gate
    }

    pub fn revocations(&self) -> &Revocations {
        &self.validator.revoked
    }

    /// Serves one request; errors become Keystone error bodies here.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let request_id = format!("req-{}", web::new_uuid());
        let span = tracing::info_span!("identity", %request_id, method = %req.method(), path = %req.uri().path());
        let mut resp = match self.dispatch(req).instrument(span.clone()).await {
            Ok(r) => r,
            Err(e) => span.in_scope(|| e.render(ErrorStyle::Keystone)),
        };
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-openstack-request-id", v);
        }
        resp.headers_mut().insert(http::header::VARY, HeaderValue::from_static("X-Auth-Token"));
        resp
    }

    async fn dispatch(&self, req: Request<Incoming>) -> Result<Response<Body>> {
        let ep = route(req.method(), req.uri().path())?;
        let (parts, body) = req.into_parts();
        let q = web::query(&parts.uri);
        match ep {
            Endpoint::Versions => Ok(web::json(StatusCode::MULTIPLE_CHOICES, &self.versions())),
            Endpoint::Version => Ok(web::json(StatusCode::OK, &serde_json::json!({"version": self.version()}))),
            Endpoint::IssueToken => self.issue_token(web::read_json(body).await?, &q).await,
            Endpoint::ValidateToken { head } => self.validate_token(&parts.headers, head, &q).await,
            Endpoint::RevokeToken => self.revoke_token(&parts.headers).await,
            Endpoint::AuthCatalog => self.auth_catalog(&parts.headers),
            Endpoint::AuthProjects => self.auth_projects(&parts.headers).await,
            Endpoint::RevocationEvents => self.revocation_events(&parts.headers).await,
            other => {
                let caller = self.validator.caller(&parts.headers)?;
                self.admin(other, caller, body, &q).await
            }
        }
    }

    fn version(&self) -> serde_json::Value {
        serde_json::json!({
            "id": VERSION_ID,
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": format!("{}/v3/", self.endpoints.identity)}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
        })
    }

    fn versions(&self) -> serde_json::Value {
        serde_json::json!({"versions": {"values": [self.version()]}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route(&Method::POST, "/v3/auth/tokens").unwrap(), Endpoint::IssueToken);
        assert_eq!(route(&Method::HEAD, "/v3/auth/tokens").unwrap(), Endpoint::ValidateToken { head: true });
        assert_eq!(route(&Method::GET, "/v3/").unwrap(), Endpoint::Version);
        assert_eq!(
            route(&Method::PUT, "/v3/projects/p/users/u/roles/r").unwrap(),
            Endpoint::Grant { method: Method::PUT, project: "p".into(), user: "u".into(), role: "r".into() }
        );
        assert!(matches!(route(&Method::PUT, "/v3/users"), Err(ShimError::MethodNotAllowed)));
        assert!(matches!(route(&Method::GET, "/v2.0/tenants"), Err(ShimError::NotFound(_))));
    }

    #[test]
    fn service_passwords_depend_on_key_and_user() {
        let a = service_password(&[1; 32], "glance");
        assert_eq!(a.len(), 32);
        assert_ne!(a, service_password(&[2; 32], "glance"));
        assert_ne!(a, service_password(&[1; 32], "nova"));
    }
}
