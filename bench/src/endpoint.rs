//! Where the load goes and how each request authenticates: the Swift API (a tempauth token
//! on the storage URL) or the S3 API (path-style, SigV4 per request). Workloads speak of
//! containers and objects; this turns them into requests for either API.

use crate::body::ObjectBody;
use crate::s3sign::{self, Credentials};
use crate::tempauth::{self, Session};
use anyhow::{bail, Result};
use common::http::{empty, Body, HttpClient};
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Duration;

/// Long enough for a large object's headers to come back from a loaded server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug)]
pub enum Api {
    Swift(Session),
    S3 {
        /// `http://host:port`, no trailing slash.
        base: String,
        host: HeaderValue,
        creds: Credentials,
        /// Send each body's SHA-256 (as SDKs do over plain HTTP) instead of `UNSIGNED-PAYLOAD`.
        sign_payload: bool,
    },
}

#[derive(Clone)]
pub struct Endpoint {
    client: HttpClient,
    api: Arc<Api>,
}

impl Endpoint {
    pub async fn swift(auth_url: &str, user: &str, key: &str) -> Result<Endpoint> {
        let client = HttpClient::new(Duration::from_secs(2));
        let session = tempauth::login(&client, auth_url, user, key).await?;
        Ok(Endpoint { client, api: Arc::new(Api::Swift(session)) })
    }

    pub fn s3(endpoint_url: &str, creds: Credentials, sign_payload: bool) -> Result<Endpoint> {
        let base = endpoint_url.trim_end_matches('/').to_string();
        let uri: http::Uri = base.parse()?;
        let (Some(authority), None | Some("/")) = (uri.authority(), uri.path_and_query().map(|p| p.as_str())) else {
            bail!("--s3-endpoint must be scheme://host[:port], got {endpoint_url}");
        };
        let host = HeaderValue::from_str(authority.as_str())?;
        let client = HttpClient::new(Duration::from_secs(2));
        Ok(Endpoint { client, api: Arc::new(Api::S3 { base, host, creds, sign_payload }) })
    }

    pub fn is_s3(&self) -> bool {
        matches!(*self.api, Api::S3 { .. })
    }

    /// `/<container>[/<object>]` with `query` (already encoded, may be empty), carrying
    /// `body` if given.
    pub fn request(
        &self,
        method: Method,
        container: &str,
        object: Option<&str>,
        query: &str,
        body: Option<&ObjectBody>,
    ) -> Result<Request<Body>> {
        let mut path = format!("/{}", s3sign::encode(container, false));
        if let Some(o) = object {
            path.push('/');
            path.push_str(&s3sign::encode(o, true));
        }
        let sep = if query.is_empty() { "" } else { "?" };
        let base = match &*self.api {
            Api::Swift(s) => &s.storage_url,
            Api::S3 { base, .. } => base,
        };
        let payload = body.map(ObjectBody::body).unwrap_or_else(empty);
        let mut req =
            Request::builder().method(method.clone()).uri(format!("{base}{path}{sep}{query}")).body(payload)?;
        let h = req.headers_mut();
        if let Some(b) = body {
            h.insert("content-length", HeaderValue::from(b.size()));
        }
        match &*self.api {
            Api::Swift(s) => {
                h.insert("x-auth-token", HeaderValue::from_str(&s.token)?);
            }
            Api::S3 { host, creds, sign_payload, .. } => {
                h.insert("host", host.clone());
                let payload_sha256 = match (sign_payload, body) {
                    (false, _) => s3sign::UNSIGNED_PAYLOAD,
                    (true, Some(b)) => b.sha256(),
                    (true, None) => s3sign::EMPTY_SHA256,
                };
                creds.sign(h, &method, &path, query, payload_sha256);
            }
        }
        Ok(req)
    }

    pub async fn send(&self, req: Request<Body>) -> Result<http::Response<Incoming>> {
        Ok(self.client.send(req, REQUEST_TIMEOUT).await?)
    }

    /// One request whose response body is read and dropped frame by frame (never held
    /// whole, so large GETs cost no memory); returns the status and the body's length.
    pub async fn call(
        &self,
        method: Method,
        container: &str,
        object: Option<&str>,
        body: Option<&ObjectBody>,
    ) -> Result<(StatusCode, u64)> {
        let resp = self.send(self.request(method, container, object, "", body)?).await?;
        let status = resp.status();
        let mut body = resp.into_body();
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(d) = frame?.into_data() {
                n += d.len() as u64;
            }
        }
        Ok((status, n))
    }

    /// Creates the container (bucket); one that exists already is fine.
    pub async fn create_container(&self, container: &str) -> Result<()> {
        let resp = self.send(self.request(Method::PUT, container, None, "", Some(&ObjectBody::new(0)))?).await?;
        let status = resp.status();
        let text = resp.into_body().collect().await?.to_bytes();
        // S3 answers 409 BucketAlreadyOwnedByYou where Swift answers 202.
        if status.is_success() || String::from_utf8_lossy(&text).contains("<Code>BucketAlreadyOwnedByYou</Code>") {
            return Ok(());
        }
        bail!("creating {container} answered {status}: {}", String::from_utf8_lossy(&text));
    }
}
