//! `GET /auth/v1.0`: trade `X-Auth-User`/`X-Auth-Key` for a token and storage URL.

use crate::auth::tempauth::TempAuth;
use crate::error::{ProxyError, Result};
use common::http::Body;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

pub(crate) fn handle(auth: &TempAuth, h: &HeaderMap) -> Result<Response<Body>> {
    let get = |a: &str, b: &str| h.get(a).or_else(|| h.get(b)).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (Some(user), Some(key)) = (get("x-auth-user", "x-storage-user"), get("x-auth-key", "x-storage-pass")) else {
        return Err(ProxyError::Unauthorized);
    };
    let grant = auth.login(&user, &key).ok_or(ProxyError::Unauthorized)?;
    let host = h.get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let url = format!("http://{host}/v1/{}", grant.storage_account);
    let body = serde_json::json!({"storage": {"default": "local", "local": url}}).to_string();
    let mut resp = Response::new(common::http::full(body));
    *resp.status_mut() = StatusCode::OK;
    let hm = resp.headers_mut();
    let token = HeaderValue::from_str(&grant.token).map_err(|e| ProxyError::Internal(e.to_string()))?;
    hm.insert("x-auth-token", token.clone());
    hm.insert("x-storage-token", token);
    hm.insert("x-auth-token-expires", HeaderValue::from(grant.expires_in));
    hm.insert(
        "x-storage-url",
        HeaderValue::from_str(&url).map_err(|_| ProxyError::BadRequest("Invalid Host header".into()))?,
    );
    hm.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    Ok(resp)
}
