//! Shared by the `cloud_*` tests: Keystone logins over HTTP and running the real Python
//! OpenStack clients from the test venv.

#![allow(dead_code)]

use md5::{Digest, Md5};
use reqwest::Client;
use saio::{Cluster, ClusterOptions};
use serde_json::{json, Value};
use std::process::Command;
use swiftlet_tests::venv_bin;

/// A cluster (with its cloud services) in a temp dir that can be restarted in place.
pub struct Env {
    pub cluster: Cluster,
    pub http: Client,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let cluster = Cluster::start(ClusterOptions::ephemeral(dir.path())).await.expect("cluster starts");
        Env { cluster, http: Client::builder().pool_max_idle_per_host(0).build().unwrap(), dir }
    }

    /// Stops everything and starts again on the same data (new ports for the services).
    pub async fn restart(self) -> Env {
        let Env { cluster, http, dir } = self;
        cluster.shutdown().await;
        let cluster = Cluster::start(ClusterOptions::ephemeral(dir.path())).await.expect("cluster restarts");
        Env { cluster, http, dir }
    }

    pub fn image_url(&self) -> String {
        self.cluster.image_url().unwrap()
    }

    pub fn compute_url(&self) -> String {
        self.cluster.compute_url().unwrap()
    }
}

/// A Keystone token and the token body the identity service returned with it.
pub struct Token {
    pub id: String,
    pub body: Value,
}

impl Token {
    pub fn project_id(&self) -> String {
        self.body["token"]["project"]["id"].as_str().expect("scoped token").to_string()
    }

    /// The public URL of a service in the token's catalog.
    pub fn endpoint(&self, kind: &str) -> String {
        let svc = self.body["token"]["catalog"].as_array().unwrap().iter().find(|s| s["type"] == kind).unwrap();
        let ep = svc["endpoints"].as_array().unwrap().iter().find(|e| e["interface"] == "public").unwrap();
        ep["url"].as_str().unwrap().to_string()
    }
}

pub fn identity_url(t: &Env) -> String {
    t.cluster.identity_url().expect("the cluster runs the cloud services")
}

pub fn password_auth(user: &str, password: &str, project: &str) -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
}

/// POSTs an auth request; returns the status and, on 201, the token.
pub async fn try_login(t: &Env, body: &Value) -> (u16, Option<Token>) {
    let resp = t.http.post(format!("{}/auth/tokens", identity_url(t))).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let id = resp.headers().get("x-subject-token").map(|v| v.to_str().unwrap().to_string());
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, id.map(|id| Token { id, body }))
}

pub async fn login(t: &Env, user: &str, password: &str, project: &str) -> Token {
    let (status, token) = try_login(t, &password_auth(user, password, project)).await;
    assert_eq!(status, 201, "login {user}");
    token.unwrap()
}

/// Runs a Python snippet with the test venv's interpreter (the real OpenStack clients);
/// `env` passes it URLs and ids. Returns stdout; panics with stderr on failure.
pub fn python(script: &str, env: &[(&str, String)]) -> String {
    let out = Command::new(venv_bin("python"))
        .arg("-c")
        .arg(script)
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "python failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The last line of a script's output, parsed as JSON.
pub fn python_json(script: &str, env: &[(&str, String)]) -> Value {
    let out = python(script, env);
    serde_json::from_str(out.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8).collect()
}

pub fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

/// A token that owns every account (Swift's reseller admin), to look into the image
/// service's account, and the service project's id.
pub async fn reseller_view(t: &Env) -> (Token, String) {
    let base = identity_url(t);
    let admin = login(t, "admin", "admin", "admin").await;
    let get = |path: String| t.http.get(format!("{base}{path}")).header("x-auth-token", &admin.id).send();
    let roles: Value = get("/roles?name=ResellerAdmin".into()).await.unwrap().json().await.unwrap();
    let role = roles["roles"][0]["id"].as_str().unwrap().to_string();
    let uid = admin.body["token"]["user"]["id"].as_str().unwrap().to_string();
    let grant = format!("{base}/projects/{}/users/{uid}/roles/{role}", admin.project_id());
    let r = t.http.put(grant).header("x-auth-token", &admin.id).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let projects: Value = get("/projects?name=service".into()).await.unwrap().json().await.unwrap();
    let service = projects["projects"][0]["id"].as_str().unwrap().to_string();
    (login(t, "admin", "admin", "admin").await, service)
}

/// The `glance` container of the service account: (name, bytes) rows.
pub async fn glance_objects(t: &Env, token: &Token, service: &str) -> Vec<(String, u64)> {
    let url = format!("{}/v1/AUTH_{service}/glance?format=json", t.cluster.proxy_url());
    let r = t.http.get(url).header("x-auth-token", &token.id).send().await.unwrap();
    if r.status() == 404 {
        return Vec::new();
    }
    assert_eq!(r.status(), 200);
    let rows: Vec<Value> = r.json().await.unwrap();
    rows.iter().map(|o| (o["name"].as_str().unwrap().to_string(), o["bytes"].as_u64().unwrap())).collect()
}

/// Creates an image with `props` (disk and container formats included) and uploads `data`.
pub async fn upload_image(t: &Env, token: &Token, props: Value, data: Vec<u8>) -> String {
    let images = format!("{}/v2/images", t.image_url());
    let r = t.http.post(&images).header("x-auth-token", &token.id).json(&props).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r = t
        .http
        .put(format!("{images}/{id}/file"))
        .header("x-auth-token", &token.id)
        .header("content-type", "application/octet-stream")
        .body(data)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    id
}

/// Polls a server until `done` says its JSON is final (at most `secs` seconds).
pub async fn wait_server(t: &Env, token: &Token, id: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let url = format!("{}/servers/{id}", t.compute_url());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let r = t.http.get(&url).header("x-auth-token", &token.id).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        if done(&v["server"]) || std::time::Instant::now() > deadline {
            return v["server"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
