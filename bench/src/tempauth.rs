//! Swift's tempauth login (`/auth/v1.0`): a user and key buy a storage URL and a token.
//! The one copy every benchmark uses.

use anyhow::{bail, Context, Result};
use common::http::{empty, HttpClient};
use http::Request;
use std::time::Duration;

/// What a login returns: where the account lives and the token to present there.
#[derive(Debug, Clone)]
pub struct Session {
    /// `http://host:port/v1/AUTH_<account>`.
    pub storage_url: String,
    pub token: String,
}

pub async fn login(client: &HttpClient, auth_url: &str, user: &str, key: &str) -> Result<Session> {
    let req = Request::get(auth_url).header("x-auth-user", user).header("x-auth-key", key).body(empty())?;
    let resp = client.send(req, Duration::from_secs(10)).await.context("auth request")?;
    if !resp.status().is_success() {
        bail!("auth at {auth_url} as {user} failed: {}", resp.status());
    }
    let header = |name: &str| {
        resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned).context(format!("no {name} header"))
    };
    Ok(Session { storage_url: header("x-storage-url")?, token: header("x-auth-token")? })
}
