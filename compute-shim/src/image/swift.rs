//! The image store: the proxy's public Swift API, as Glance's Swift backend uses it. The
//! service logs in to the identity service as its service user (project `service`) and
//! keeps image data in that account's container (`glance` by default).

use crate::error::{Result, ShimError};
use crate::identity::{service_password, IMAGE_SERVICE_USER, SERVICE_PROJECT};
use crate::web;
use bytes::Bytes;
use common::http::{empty, full, Body, HttpClient};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use swiftlet_token::KeystoneTokens;
use tokio::sync::Mutex;

/// Renew the service token when it has less than this left.
const TOKEN_MARGIN: u64 = 300;
/// Bounds an upload's wait for the store's reply; the body itself is paced by the client.
const STREAM_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

struct Session {
    token: String,
    account_url: String,
    expires: u64,
}

pub struct SwiftStore {
    client: HttpClient,
    tokens: KeystoneTokens,
    identity_url: String,
    password: String,
    pub container: String,
    timeout: Duration,
    session: Mutex<Option<Session>>,
    container_ready: AtomicBool,
}

impl SwiftStore {
    pub fn new(identity_url: &str, tokens: KeystoneTokens, container: &str, timeout: Duration) -> SwiftStore {
        SwiftStore {
            client: HttpClient::new(Duration::from_secs(2)),
            identity_url: identity_url.to_string(),
            password: service_password(tokens.key(), IMAGE_SERVICE_USER),
            tokens,
            container: container.to_string(),
            timeout,
            session: Mutex::new(None),
            container_ready: AtomicBool::new(false),
        }
    }

    /// A valid service token and the account URL from the catalog.
    async fn session(&self, force: bool) -> Result<(String, String)> {
        let mut s = self.session.lock().await;
        if let Some(cur) = s.as_ref().filter(|c| !force && c.expires > web::now_secs() + TOKEN_MARGIN) {
            return Ok((cur.token.clone(), cur.account_url.clone()));
        }
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": IMAGE_SERVICE_USER, "domain": {"id": "default"}, "password": self.password}}},
            "scope": {"project": {"name": SERVICE_PROJECT, "domain": {"id": "default"}}}}});
        let req = Request::post(format!("{}/v3/auth/tokens", self.identity_url))
            .header("content-type", "application/json")
            .body(full(body.to_string()))
            .map_err(|e| ShimError::Internal(e.to_string()))?;
        let resp = self.client.send(req, self.timeout).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(ShimError::Unavailable(format!("image service login failed: {}", resp.status())));
        }
        let token = web::header(resp.headers(), "x-subject-token").unwrap_or_default().to_string();
        let body: Value = serde_json::from_slice(&web::read_body(resp.into_body(), 1 << 20).await?)
            .map_err(|e| ShimError::Unavailable(format!("identity answered: {e}")))?;
        let account_url = body["token"]["catalog"]
            .as_array()
            .and_then(|c| c.iter().find(|s| s["type"] == "object-store"))
            .and_then(|s| s["endpoints"].as_array()?.iter().find(|e| e["interface"] == "public"))
            .and_then(|e| e["url"].as_str())
            .ok_or_else(|| ShimError::Unavailable("no object-store endpoint in the catalog".into()))?
            .to_string();
        let expires = self
            .tokens
            .verify(&token, web::now_secs())
            .ok_or_else(|| ShimError::Unavailable("the identity service's token does not validate".into()))?
            .exp;
        *s = Some(Session { token: token.clone(), account_url: account_url.clone(), expires });
        Ok((token, account_url))
    }

    fn object_url(&self, account_url: &str, name: &str) -> String {
        format!("{account_url}/{}/{}", self.container, utf8_percent_encode(name, NON_ALPHANUMERIC))
    }

    /// One request to the store; a 401 (token revoked or expired early) logs in again once.
    async fn request(
        &self,
        method: Method,
        name: Option<&str>,
        headers: &[(&str, String)],
        query: &str,
    ) -> Result<Response<Incoming>> {
        for attempt in 0..2 {
            let (token, account) = self.session(attempt > 0).await?;
            let url = match name {
                Some(n) => self.object_url(&account, n),
                None => format!("{account}/{}{query}", self.container),
            };
            let mut b = Request::builder().method(method.clone()).uri(url).header("x-auth-token", token);
            for (k, v) in headers {
                b = b.header(*k, v);
            }
            let req = b.body(empty()).map_err(|e| ShimError::Internal(e.to_string()))?;
            let resp = self.client.send(req, self.timeout).await?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
        }
        Err(ShimError::Store("the store refused the service token".into()))
    }

    /// Creates the container once per process (PUT is idempotent).
    async fn ensure_container(&self) -> Result<()> {
        if self.container_ready.load(Ordering::Relaxed) {
            return Ok(());
        }
        let resp = self.request(Method::PUT, None, &[], "").await?;
        if !resp.status().is_success() {
            return Err(ShimError::Store(format!("creating container {}: {}", self.container, resp.status())));
        }
        self.container_ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// PUTs `body` (chunked) as object `name`; returns the store's ETag (MD5 hex).
    pub async fn put(&self, name: &str, body: Body) -> Result<String> {
        self.ensure_container().await?;
        let (token, account) = self.session(false).await?;
        let req = Request::put(self.object_url(&account, name))
            .header("x-auth-token", token)
            .header("content-type", "application/octet-stream")
            .header("transfer-encoding", "chunked")
            .body(body)
            .map_err(|e| ShimError::Internal(e.to_string()))?;
        let resp = self.client.send(req, STREAM_TIMEOUT).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(ShimError::Store(format!("PUT {name}: {}", resp.status())));
        }
        Ok(web::header(resp.headers(), "etag").unwrap_or_default().trim_matches('"').to_string())
    }

    /// The manifest of a segmented image: a zero-byte object whose `X-Object-Manifest`
    /// names the segments' prefix (Swift's dynamic large object).
    pub async fn put_manifest(&self, name: &str, segment_prefix: &str) -> Result<()> {
        let manifest = format!("{}/{segment_prefix}", self.container);
        let headers = [("x-object-manifest", manifest), ("content-length", "0".into())];
        let resp = self.request(Method::PUT, Some(name), &headers, "").await?;
        if resp.status() != StatusCode::CREATED {
            return Err(ShimError::Store(format!("PUT manifest {name}: {}", resp.status())));
        }
        Ok(())
    }

    /// GETs an object, optionally a byte range (inclusive ends).
    pub async fn get(&self, name: &str, range: Option<(u64, u64)>) -> Result<Response<Incoming>> {
        let headers: Vec<(&str, String)> =
            range.map(|(a, b)| ("range", format!("bytes={a}-{b}"))).into_iter().collect();
        self.request(Method::GET, Some(name), &headers, "").await
    }

    /// Deletes an object; one that is already gone is fine.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let resp = self.request(Method::DELETE, Some(name), &[], "").await?;
        match resp.status() {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            s => Err(ShimError::Store(format!("DELETE {name}: {s}"))),
        }
    }

    /// Names and sizes of the objects under `prefix` (one listing page is enough for the
    /// segments of one image: at most 10,000).
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        let q = format!("?format=json&prefix={}", utf8_percent_encode(prefix, NON_ALPHANUMERIC));
        let resp = self.request(Method::GET, None, &[], &q).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !resp.status().is_success() {
            return Err(ShimError::Store(format!("listing {}: {}", self.container, resp.status())));
        }
        let bytes: Bytes = web::read_body(resp.into_body(), 16 << 20).await?;
        let rows: Vec<Value> = serde_json::from_slice(&bytes).map_err(|e| ShimError::Store(format!("listing: {e}")))?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r["name"].as_str()?.to_string(), r["bytes"].as_u64().unwrap_or(0))))
            .collect())
    }
}
