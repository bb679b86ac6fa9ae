//! The cloud services alone (no storage cluster behind them) on free ports, for tests of
//! the identity service, and small Keystone calls over HTTP.

#![allow(dead_code)]

use compute_shim::{Cloud, Listeners, ShimConfig};
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{json, Value};

pub struct Shim {
    pub cloud: Cloud,
    pub http: Client,
    pub cfg: ShimConfig,
    pub dir: tempfile::TempDir,
}

/// A config for tests: free ports, a state dir under `dir`, a token key of its own and the
/// admin and demo passwords the tests log in with.
pub fn test_config(dir: &std::path::Path) -> ShimConfig {
    let mut cfg = ShimConfig {
        identity_port: 0,
        image_port: 0,
        compute_port: 0,
        state_dir: dir.join("state"),
        proxy_url: "http://127.0.0.1:9".into(),
        token: swiftlet_token::TokenConfig::inline(&swiftlet_token::TokenKey::generate()),
        ..ShimConfig::default()
    };
    cfg.identity.admin_password = ADMIN_PASSWORD.into();
    cfg.identity.demo_password = DEMO_PASSWORD.into();
    cfg
}

pub const ADMIN_PASSWORD: &str = "correct horse battery";
pub const DEMO_PASSWORD: &str = "demo staple";

impl Shim {
    pub async fn start() -> Shim {
        let dir = tempfile::tempdir().unwrap();
        Shim::start_with(test_config(dir.path()), dir).await
    }

    pub async fn start_with(cfg: ShimConfig, dir: tempfile::TempDir) -> Shim {
        let listeners = Listeners::bind(&cfg).await.unwrap();
        let cloud = compute_shim::start(cfg.clone(), listeners).await.expect("the cloud services start");
        Shim { cloud, http: Client::builder().pool_max_idle_per_host(0).build().unwrap(), cfg, dir }
    }

    /// `http://127.0.0.1:<port>`, without `/v3`.
    pub fn identity(&self) -> String {
        self.cloud.endpoints.identity.clone()
    }

    pub fn api(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.http.request(method, format!("{}/v3{path}", self.identity())).header("x-auth-token", token)
    }

    /// Logs in; the status and, on 201, the token.
    pub async fn try_login(&self, user: &str, password: &str, project: &str) -> (u16, Option<String>) {
        let body = json!({"auth": {
            "identity": {"methods": ["password"],
                         "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}});
        let resp = self.http.post(format!("{}/v3/auth/tokens", self.identity())).json(&body).send().await.unwrap();
        let token = resp.headers().get("x-subject-token").map(|v| v.to_str().unwrap().to_string());
        (resp.status().as_u16(), token)
    }

    pub async fn login(&self, user: &str, password: &str, project: &str) -> String {
        let (status, token) = self.try_login(user, password, project).await;
        assert_eq!(status, 201, "login {user} on {project}");
        token.unwrap()
    }

    /// The id of the named user, project or role (`kind` is `users`, `projects`, `roles`).
    pub async fn id_of(&self, admin: &str, kind: &str, name: &str) -> String {
        let v: Value =
            self.api(Method::GET, &format!("/{kind}?name={name}"), admin).send().await.unwrap().json().await.unwrap();
        v[kind][0]["id"].as_str().unwrap_or_else(|| panic!("no {kind} named {name}: {v}")).to_string()
    }
}
