//! TempURL: a request with `temp_url_sig` and `temp_url_expires` (and optionally
//! `temp_url_prefix`, `filename`, `inline`) is authorized by an HMAC of
//! `METHOD\nexpires\n/v1/account/container/object` (or `prefix:/v1/.../prefix`) with
//! an account key (`X-Account-Meta-Temp-URL-Key[-2]`) or a container key
//! (`X-Container-Meta-Temp-URL-Key[-2]`), SHA1, SHA256 or SHA512, hex or `algo:base64`.
//! The signature's key decides the scope: the whole account or only that container.

use crate::auth::identity::TempUrlScope;
use crate::context::Ctx;
use crate::error::{ProxyError, Result};
use crate::lookups::account::account_info;
use crate::lookups::container::container_info;
use crate::pipeline::step::{Next, Reply, Step};
use crate::pipeline::subrequest::{self as sub, query_param};
use crate::request::ProxyRequest;
use base64::Engine;
use common::headers::{get, set};
use common::http::Body;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, Response};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) struct TempUrl {
    methods: Vec<String>,
}

const DIGESTS: [&str; 3] = ["sha1", "sha256", "sha512"];
/// Headers a TempURL PUT/POST may not set: they would reach beyond the signed object.
const DISALLOWED: [&str; 3] = ["x-object-manifest", "x-symlink-target", "x-copy-from"];

impl TempUrl {
    pub(crate) fn new(methods: &[String]) -> Self {
        TempUrl { methods: methods.to_vec() }
    }
}

impl Step for TempUrl {
    fn name(&self) -> &'static str {
        "tempurl"
    }

    fn info(&self) -> Option<Value> {
        Some(json!({
            "methods": self.methods,
            "incoming_remove_headers": ["x-timestamp", "x-open-expired"],
            "incoming_allow_headers": [],
            "outgoing_remove_headers": ["x-object-meta-*"],
            "outgoing_allow_headers": ["x-object-meta-public-*"],
            "allowed_digests": DIGESTS,
            "deprecated_digests": ["sha1"],
        }))
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            let q = req.query().map(str::to_string);
            let sig = query_param(q.as_deref(), "temp_url_sig");
            let expires_raw = query_param(q.as_deref(), "temp_url_expires");
            if req.method() == Method::OPTIONS || (sig.is_none() && expires_raw.is_none()) {
                return next.run(req).await;
            }
            self.handle(req, next, sig, expires_raw, q).await
        })
    }
}

impl TempUrl {
    async fn handle(
        &self,
        req: ProxyRequest,
        next: Next,
        sig: Option<String>,
        expires_raw: Option<String>,
        q: Option<String>,
    ) -> Result<Response<Body>> {
        let method = req.method().clone();
        let (Some(sig), Some(expires_raw)) = (sig.filter(|s| !s.is_empty()), expires_raw) else {
            return Err(ProxyError::TempUrlInvalid);
        };
        let expires = normalize_expires(&expires_raw).ok_or(ProxyError::TempUrlInvalid)?;
        let (algo, sig_hex) = digest_and_algorithm(&sig).ok_or(ProxyError::TempUrlInvalid)?;
        let prefix = query_param(q.as_deref(), "temp_url_prefix");
        let container_root = matches!(method, Method::GET | Method::HEAD) && prefix.as_deref() == Some("");
        if !self.methods.iter().any(|m| m == method.as_str()) {
            return Err(ProxyError::TempUrlInvalid);
        }
        let (account, container, object) = path_parts(req.path(), container_root).ok_or(ProxyError::TempUrlInvalid)?;
        if query_param(q.as_deref(), "temp_url_ip_range").is_some() {
            // Client addresses are not tracked through the pipeline; refuse rather than guess.
            return Err(ProxyError::TempUrlInvalid);
        }
        let ctx = req.ctx.sub("TU");
        let keys = keys(&next, &ctx, &account, &container).await?;
        if keys.is_empty() {
            return Err(ProxyError::TempUrlInvalid);
        }
        let signed_path = match &prefix {
            None => format!("/v1/{account}/{container}/{object}"),
            Some(p) if object.starts_with(p.as_str()) => format!("prefix:/v1/{account}/{container}/{p}"),
            Some(_) => return Err(ProxyError::TempUrlInvalid),
        };
        // A HEAD may use a URL signed for any of the read or write verbs.
        let verbs: Vec<&str> =
            if method == Method::HEAD { vec!["HEAD", "GET", "POST", "PUT"] } else { vec![method.as_str()] };
        let mut scope = None;
        'found: for verb in verbs {
            let message = format!("{verb}\n{expires}\n{signed_path}");
            for (key, container_scoped) in &keys {
                if hmac_matches(algo, key, &message, &sig_hex) {
                    scope = Some(*container_scoped);
                    break 'found;
                }
            }
        }
        let Some(container_scoped) = scope else { return Err(ProxyError::TempUrlInvalid) };
        if !matches!(method, Method::GET | Method::HEAD) {
            if let Some(h) = DISALLOWED.iter().find(|h| req.headers().contains_key(**h)) {
                return Err(ProxyError::BadRequest(format!(
                    "The header {:?} is not allowed in this tempurl",
                    title(h)
                )));
            }
        }
        let mut req = req;
        let parts = &mut req.head;
        for h in ["x-timestamp", "x-open-expired"] {
            parts.headers.remove(h);
        }
        req.ctx.identity = None;
        req.ctx.temp_url =
            Some(TempUrlScope { account: account.clone(), container: container_scoped.then(|| container.clone()) });
        // The signature parameters are not passed on (listings would reject them).
        let rest = sub::query_without(
            parts.uri.query(),
            &["temp_url_sig", "temp_url_expires", "temp_url_prefix", "filename", "inline", "temp_url_ip_range"],
        );
        let uri = match rest {
            Some(r) => format!("{}?{r}", parts.uri.path()),
            None => parts.uri.path().to_string(),
        };
        parts.uri = uri.parse().map_err(|_| ProxyError::TempUrlInvalid)?;
        let mut resp = next.run(req).await?;
        clean_outgoing(resp.headers_mut());
        if matches!(method, Method::GET | Method::HEAD) && resp.status().is_success() {
            if object.is_empty() && get(resp.headers(), "x-backend-content-generator") != Some("staticweb") {
                return Err(ProxyError::TempUrlInvalid);
            }
            let filename = query_param(q.as_deref(), "filename");
            let inline =
                q.as_deref().is_some_and(|q| q.split('&').any(|kv| kv == "inline" || kv.starts_with("inline=")));
            let existing = get(resp.headers(), "content-disposition").map(str::to_string);
            let disposition = match (inline, filename, existing) {
                (true, Some(f), _) => disposition_format("inline", &f),
                (true, None, _) => "inline".to_string(),
                (false, Some(f), _) => disposition_format("attachment", &f),
                (false, None, Some(e)) => e,
                (false, None, None) => {
                    let name = object.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
                    disposition_format("attachment", &name)
                }
            };
            set(resp.headers_mut(), "content-disposition", &disposition.replace('\n', "%0A"));
            let at = UNIX_EPOCH + std::time::Duration::from_secs(expires);
            set(resp.headers_mut(), "expires", &httpdate::fmt_http_date(at));
        }
        Ok(resp)
    }
}

/// `Content-Disposition` as Swift formats it (RFC 6266 with the RFC 5987 `filename*`).
fn disposition_format(kind: &str, filename: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    const KEEP_SPACE_SLASH: &AsciiSet = &KEEP.remove(b' ').remove(b'/');
    format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        utf8_percent_encode(filename, KEEP_SPACE_SLASH),
        utf8_percent_encode(filename, KEEP)
    )
}

fn title(h: &str) -> String {
    h.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Object metadata is private to the owner unless named `X-Object-Meta-Public-*`.
fn clean_outgoing(h: &mut HeaderMap) {
    let private: Vec<_> = h
        .keys()
        .filter(|n| n.as_str().starts_with("x-object-meta-") && !n.as_str().starts_with("x-object-meta-public-"))
        .cloned()
        .collect();
    for n in private {
        h.remove(&n);
    }
}

/// Unix seconds or `%Y-%m-%dT%H:%M:%SZ`; `None` when unparsable or past.
fn normalize_expires(v: &str) -> Option<u64> {
    let at = match v.trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            let t = httpdate::parse_http_date(&iso_to_http_date(v)?).ok()?;
            t.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64
        }
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    (at >= now).then_some(at as u64)
}

/// `2030-01-02T03:04:05Z` -> an HTTP date string (so one parser reads both forms).
fn iso_to_http_date(v: &str) -> Option<String> {
    let v = v.strip_suffix('Z')?;
    let (date, time) = v.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<u32>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.parse::<u32>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || day == 0 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Day of the week is required by the HTTP-date grammar: Zeller's congruence.
    let (yy, mm_) = if m < 3 { (y as i64 - 1, m as i64 + 12) } else { (y as i64, m as i64) };
    let k = yy % 100;
    let j = yy / 100;
    let h = (day as i64 + 13 * (mm_ + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7;
    let wd = ["Sat", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri"][h as usize];
    let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m as usize - 1];
    Some(format!("{wd}, {day:02} {mon} {y} {hh:02}:{mm:02}:{ss:02} GMT"))
}

/// `<hex>` (algorithm from its length) or `<algo>:<base64>` -> (algorithm, hex).
fn digest_and_algorithm(sig: &str) -> Option<(&'static str, String)> {
    match sig.split_once(':') {
        Some((algo, b64)) => {
            let algo = *DIGESTS.iter().find(|d| **d == algo)?;
            let std = if (b64.contains('-') || b64.contains('_')) && !(b64.contains('+') || b64.contains('/')) {
                b64.replace('-', "+").replace('_', "/")
            } else {
                b64.to_string()
            };
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(std.trim_end_matches('=')).ok()?;
            Some((algo, hex::encode(bytes)))
        }
        None => {
            hex::decode(sig).ok()?;
            let algo = match sig.len() {
                40 => "sha1",
                64 => "sha256",
                128 => "sha512",
                _ => return None,
            };
            Some((algo, sig.to_ascii_lowercase()))
        }
    }
}

fn hmac_matches(algo: &str, key: &str, message: &str, sig_hex: &str) -> bool {
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &str, message: &str) -> Option<Vec<u8>> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key.as_bytes()).ok()?;
        m.update(message.as_bytes());
        Some(m.finalize().into_bytes().to_vec())
    }
    let got = match algo {
        "sha1" => mac::<Hmac<sha1::Sha1>>(key, message),
        "sha256" => mac::<Hmac<sha2::Sha256>>(key, message),
        "sha512" => mac::<Hmac<sha2::Sha512>>(key, message),
        _ => None,
    };
    got.is_some_and(|g| crate::auth::tempauth::constant_time_eq(hex::encode(g).as_bytes(), sig_hex.as_bytes()))
}

/// `/v1/a/c/o` -> (a, c, o); `/v1/a/c` too when `container_root` (object "").
fn path_parts(path: &str, container_root: bool) -> Option<(String, String, String)> {
    let decoded = common::path::decode(path).ok()?;
    let rest = decoded.strip_prefix("/v1/")?;
    let mut it = rest.splitn(3, '/');
    let (a, c) = (it.next()?, it.next()?);
    let o = it.next().unwrap_or("");
    if a.is_empty() || c.is_empty() || (o.trim_matches('/').is_empty() && !container_root) {
        return None;
    }
    Some((a.to_string(), c.to_string(), o.to_string()))
}

/// The account keys, then the container keys, each marked container-scoped or not.
async fn keys(next: &Next, ctx: &Ctx, account: &str, container: &str) -> Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    let pick = |h: &HeaderMap, kind: &str, scoped: bool, out: &mut Vec<(String, bool)>| {
        for suffix in ["", "-2"] {
            if let Some(k) = get(h, &format!("x-{kind}-meta-temp-url-key{suffix}")).filter(|k| !k.is_empty()) {
                out.push((k.to_string(), scoped));
            }
        }
    };
    if let Some(h) = account_info(next.cluster(), ctx, account).await? {
        pick(&h, "account", false, &mut out);
    }
    if let Some(info) = container_info(next.cluster(), ctx, account, container).await? {
        pick(&info.headers, "container", true, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_in_both_forms() {
        let msg = "GET\n1999999999\n/v1/AUTH_a/c/o";
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(b"k").unwrap();
        m.update(msg.as_bytes());
        let raw = m.finalize().into_bytes();
        let hex_sig = hex::encode(raw);
        let (algo, h) = digest_and_algorithm(&hex_sig).unwrap();
        assert_eq!(algo, "sha256");
        assert!(hmac_matches(algo, "k", msg, &h));
        assert!(!hmac_matches(algo, "other", msg, &h));
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let (algo, h) = digest_and_algorithm(&format!("sha256:{b64}")).unwrap();
        assert!(hmac_matches(algo, "k", msg, &h));
        assert!(digest_and_algorithm("abc").is_none());
        assert!(digest_and_algorithm("md5:AAAA").is_none());
    }

    #[test]
    fn expiry_forms() {
        assert_eq!(normalize_expires("4102444800"), Some(4_102_444_800));
        assert_eq!(normalize_expires("2100-01-01T00:00:00Z"), Some(4_102_444_800));
        assert_eq!(normalize_expires("1"), None);
        assert_eq!(normalize_expires("soon"), None);
    }

    #[test]
    fn paths_and_dispositions() {
        assert_eq!(path_parts("/v1/a/c/o/x", false), Some(("a".into(), "c".into(), "o/x".into())));
        assert_eq!(path_parts("/v1/a/c", false), None);
        assert_eq!(path_parts("/v1/a/c", true), Some(("a".into(), "c".into(), String::new())));
        assert_eq!(
            disposition_format("attachment", "a b.txt"),
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
        );
    }
}
