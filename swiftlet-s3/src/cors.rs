//! Bucket CORS: PutBucketCors/GetBucketCors/DeleteBucketCors keep the rules (as compact
//! JSON) in the bucket container's system metadata; S3 preflights (`OPTIONS /bucket/key`)
//! are answered from the first matching rule, and actual S3 responses to a request with
//! a matching `Origin` carry the CORS headers.
//!
//! A preflight carries no credentials and S3 paths name no account, so the bucket is
//! looked up in the accounts of the configured S3 (tempauth) users, in config order.

use crate::buckets::ascii_json;
use crate::buckets::post_bucket_sysmeta;
use crate::buckets::{empty_response, head_container, read_body, xml_response, MAX_CONFIG_BODY};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::xml::{self, XmlWriter};
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};
use serde::{Deserialize, Serialize};
use swiftlet_proxy::context::Ctx;
use swiftlet_proxy::SwiftApi;

/// Where a bucket's CORS rules are kept.
pub(crate) const SYSMETA_CORS: &str = "x-container-sysmeta-s3api-cors";
/// The methods a rule may allow (S3's list).
const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "HEAD"];
/// S3 keeps at most 100 rules per bucket.
const MAX_RULES: usize = 100;
const MAX_ID_LEN: usize = 255;

const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of \
     Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by \
     the resource's CORS spec.";

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub methods: Vec<String>,
    pub origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

fn one_wildcard(kind: &str, v: &str) -> Result<()> {
    if v.matches('*').count() > 1 {
        return Err(S3Error::InvalidRequest(format!("{kind} \"{v}\" can not have more than one wildcard.")));
    }
    Ok(())
}

/// A `CORSConfiguration` document, validated as S3 does.
pub(crate) fn parse_config(doc: &[u8]) -> Result<Vec<CorsRule>> {
    let root = xml::parse(doc)?;
    if root.name != "CORSConfiguration" || root.children.iter().any(|c| c.name != "CORSRule") {
        return Err(S3Error::MalformedXML);
    }
    if root.children.is_empty() || root.children.len() > MAX_RULES {
        return Err(S3Error::MalformedXML);
    }
    let mut rules = Vec::with_capacity(root.children.len());
    for el in &root.children {
        let mut rule = CorsRule::default();
        for c in &el.children {
            let text = c.text.trim().to_string();
            match c.name.as_str() {
                "ID" if rule.id.is_none() => {
                    if text.len() > MAX_ID_LEN {
                        return Err(S3Error::InvalidArgument(format!(
                            "ID length should not exceed allowed limit of {MAX_ID_LEN}"
                        )));
                    }
                    rule.id = Some(text);
                }
                "AllowedMethod" => {
                    if !METHODS.contains(&text.as_str()) {
                        return Err(S3Error::InvalidRequest(format!(
                            "Found unsupported HTTP method in CORS config. Unsupported method is {text}"
                        )));
                    }
                    rule.methods.push(text);
                }
                "AllowedOrigin" => {
                    one_wildcard("AllowedOrigin", &text)?;
                    rule.origins.push(text);
                }
                "AllowedHeader" => {
                    one_wildcard("AllowedHeader", &text)?;
                    rule.headers.push(text);
                }
                "ExposeHeader" => rule.expose.push(text),
                "MaxAgeSeconds" if rule.max_age.is_none() => {
                    rule.max_age = Some(text.parse().map_err(|_| S3Error::MalformedXML)?);
                }
                _ => return Err(S3Error::MalformedXML),
            }
        }
        if rule.methods.is_empty() || rule.origins.is_empty() {
            return Err(S3Error::MalformedXML);
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// The rules as a GetBucketCors document.
pub(crate) fn to_xml(rules: &[CorsRule]) -> String {
    let mut x = XmlWriter::new();
    x.root("CORSConfiguration");
    for r in rules {
        x.open("CORSRule");
        if let Some(id) = &r.id {
            x.elem("ID", id);
        }
        for (tag, list) in [
            ("AllowedHeader", &r.headers),
            ("AllowedMethod", &r.methods),
            ("AllowedOrigin", &r.origins),
            ("ExposeHeader", &r.expose),
        ] {
            for v in list {
                x.elem(tag, v);
            }
        }
        if let Some(age) = r.max_age {
            x.elem("MaxAgeSeconds", &age.to_string());
        }
        x.close("CORSRule");
    }
    x.close("CORSConfiguration");
    x.finish()
}

/// `pattern` (at most one `*`, matching any run of characters) against `value`.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len() && value.starts_with(head) && value.ends_with(tail)
        }
    }
}

/// The first rule allowing `origin` to use `method` with all of `request_headers`.
pub(crate) fn find_rule<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
    request_headers: &[String],
) -> Option<&'a CorsRule> {
    rules.iter().find(|r| {
        r.origins.iter().any(|o| wildcard_match(o, origin))
            && r.methods.iter().any(|m| m == method)
            && request_headers
                .iter()
                .all(|h| r.headers.iter().any(|a| wildcard_match(&a.to_ascii_lowercase(), &h.to_ascii_lowercase())))
    })
}

/// The rules a bucket's container headers hold, if any.
pub(crate) fn rules_of(h: &HeaderMap) -> Option<Vec<CorsRule>> {
    let v = get(h, SYSMETA_CORS).filter(|v| !v.is_empty())?;
    match serde_json::from_str(v) {
        Ok(rules) => Some(rules),
        Err(e) => {
            tracing::warn!(error = %e, "unreadable stored CORS configuration");
            None
        }
    }
}

pub(crate) async fn put(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    let doc = read_body(ctx, body, MAX_CONFIG_BODY).await?;
    let rules = parse_config(&doc)?;
    post_bucket_sysmeta(ctx, SYSMETA_CORS, &ascii_json(&rules)?).await?;
    Ok(empty_response(StatusCode::OK))
}

pub(crate) async fn get_config(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let h = head_container(ctx).await?;
    let rules = rules_of(&h).ok_or(S3Error::NoSuchCORSConfiguration)?;
    Ok(xml_response(StatusCode::OK, to_xml(&rules)))
}

pub(crate) async fn delete(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    head_container(ctx).await?;
    post_bucket_sysmeta(ctx, SYSMETA_CORS, "").await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// Where a bucket was found: `None` if in no account, else its rules (if any).
async fn bucket_rules(
    api: &SwiftApi,
    trans_id: &str,
    account: Option<&str>,
    bucket: &str,
) -> Option<Option<Vec<CorsRule>>> {
    let ctx = Ctx::new(trans_id, None);
    let accounts: Vec<String> = match account {
        Some(a) => vec![a.to_string()],
        None => {
            let mut seen: Vec<String> = Vec::new();
            for u in api.users() {
                let a = api.storage_account(&u.account);
                if !seen.contains(&a) {
                    seen.push(a);
                }
            }
            seen
        }
    };
    for a in accounts {
        match api.container_info(&ctx, &a, bucket).await {
            Ok(Some(info)) => return Some(rules_of(&info.headers)),
            Ok(None) => {}
            Err(e) => tracing::warn!(account = %a, bucket, error = %e, "CORS lookup failed"),
        }
    }
    None
}

/// The headers a rule grants `origin` (`allow_headers` only for preflights).
fn grant(h: &mut HeaderMap, rule: &CorsRule, origin: &str, allow_headers: Option<&[String]>) {
    let any = rule.origins.iter().any(|o| o == "*");
    set(h, "access-control-allow-origin", if any { "*" } else { origin });
    if !any {
        set(h, "access-control-allow-credentials", "true");
    }
    set(h, "access-control-allow-methods", &rule.methods.join(", "));
    if let Some(headers) = allow_headers.filter(|a| !a.is_empty()) {
        set(h, "access-control-allow-headers", &headers.join(", "));
    }
    if !rule.expose.is_empty() {
        set(h, "access-control-expose-headers", &rule.expose.join(", "));
    }
    if let Some(age) = rule.max_age {
        set(h, "access-control-max-age", &age.to_string());
    }
    set(h, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

/// Answers an S3 preflight `OPTIONS` (no credentials involved).
pub(crate) async fn preflight(api: &SwiftApi, trans_id: &str, parts: &http::request::Parts) -> Result<Response<Body>> {
    let origin = get(&parts.headers, "origin")
        .ok_or_else(|| S3Error::CorsBadRequest("Insufficient information. Origin request header needed.".into()))?;
    let method = get(&parts.headers, "access-control-request-method")
        .ok_or_else(|| S3Error::CorsBadRequest("Invalid Access-Control-Request-Method: null".into()))?;
    let requested: Vec<String> = get(&parts.headers, "access-control-request-headers")
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let (bucket, _) = crate::paths::bucket_and_key(crate::paths::host_bucket(&parts.headers), parts.uri.path())?;
    // Anyone may send a preflight: a missing bucket, one without rules and one whose rules
    // do not match answer alike, so it tells no stranger which buckets exist in any account.
    let denied = || S3Error::CorsForbidden(NOT_ALLOWED.into());
    let bucket = bucket.ok_or_else(denied)?;
    let Some(Some(rules)) = bucket_rules(api, trans_id, None, &bucket).await else { return Err(denied()) };
    let rule = find_rule(&rules, origin, method, &requested).ok_or_else(denied)?;
    let mut resp = empty_response(StatusCode::OK);
    grant(resp.headers_mut(), rule, origin, Some(&requested));
    Ok(resp)
}

/// Adds the CORS headers to an actual S3 response when the bucket's rules allow the
/// request's `Origin` and method.
pub(crate) async fn decorate(
    api: &SwiftApi,
    trans_id: &str,
    origin: &str,
    method: &Method,
    account: &str,
    bucket: &str,
    resp: &mut Response<Body>,
) {
    let Some(Some(rules)) = bucket_rules(api, trans_id, Some(account), bucket).await else { return };
    if let Some(rule) = find_rule(&rules, origin, method.as_str(), &[]) {
        grant(resp.headers_mut(), rule, origin, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &[u8] = br#"<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
        <CORSRule><ID>web</ID><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>
        <AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>
        <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>
        <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
        </CORSConfiguration>"#;

    #[test]
    fn parses_and_round_trips() {
        let rules = parse_config(DOC).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].id.as_deref(), Some("web"));
        assert_eq!(rules[0].methods, ["GET", "PUT"]);
        assert_eq!(rules[0].max_age, Some(600));
        assert_eq!(parse_config(to_xml(&rules).as_bytes()).unwrap(), rules);
        let json = ascii_json(&rules).unwrap();
        assert_eq!(serde_json::from_str::<Vec<CorsRule>>(&json).unwrap(), rules);
        let odd = vec![CorsRule { origins: vec!["https://é.example/😀\"".into()], ..CorsRule::default() }];
        let json = ascii_json(&odd).unwrap();
        assert!(json.is_ascii() && http::HeaderValue::from_str(&json).is_ok(), "{json}");
        assert_eq!(serde_json::from_str::<Vec<CorsRule>>(&json).unwrap(), odd);
    }

    #[test]
    fn refuses_what_s3_refuses() {
        let doc = |rule: &str| format!("<CORSConfiguration><CORSRule>{rule}</CORSRule></CORSConfiguration>");
        let bad_method = doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>");
        assert!(matches!(parse_config(bad_method.as_bytes()), Err(S3Error::InvalidRequest(m)) if m.contains("PATCH")));
        let two_stars = doc("<AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>");
        assert!(matches!(parse_config(two_stars.as_bytes()), Err(S3Error::InvalidRequest(_))));
        for bad in [
            doc("<AllowedMethod>GET</AllowedMethod>"),
            doc("<AllowedOrigin>*</AllowedOrigin>"),
            doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Nope/>"),
            doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds>"),
            "<CORSConfiguration/>".into(),
            "<Other><CORSRule/></Other>".into(),
            "<CORSConfiguration><CORSRule>".into(),
        ] {
            assert!(matches!(parse_config(bad.as_bytes()), Err(S3Error::MalformedXML)), "{bad}");
        }
    }

    #[test]
    fn matches_origins_methods_and_headers() {
        let rules = parse_config(DOC).unwrap();
        let hdrs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let r = find_rule(&rules, "https://app.example.com", "PUT", &hdrs(&["x-amz-date", "content-type"]));
        assert_eq!(r.and_then(|r| r.id.as_deref()), Some("web"));
        assert!(find_rule(&rules, "https://app.example.com", "PUT", &hdrs(&["authorization"])).is_none());
        assert!(find_rule(&rules, "http://app.example.com", "GET", &[]).is_none());
        assert!(find_rule(&rules, "https://example.com", "DELETE", &[]).is_none());
        assert_eq!(find_rule(&rules, "http://anything", "HEAD", &[]).map(|r| r.origins[0].as_str()), Some("*"));
        assert!(wildcard_match("a*", "a") && wildcard_match("*", "") && !wildcard_match("ab*ba", "aba"));
    }

    #[test]
    fn grants_headers() {
        let rules = parse_config(DOC).unwrap();
        let mut h = HeaderMap::new();
        grant(&mut h, &rules[0], "https://a.example.com", Some(&["x-amz-date".to_string()]));
        assert_eq!(get(&h, "access-control-allow-origin"), Some("https://a.example.com"));
        assert_eq!(get(&h, "access-control-allow-methods"), Some("GET, PUT"));
        assert_eq!(get(&h, "access-control-allow-headers"), Some("x-amz-date"));
        assert_eq!(get(&h, "access-control-expose-headers"), Some("ETag"));
        assert_eq!(get(&h, "access-control-max-age"), Some("600"));
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        let mut h = HeaderMap::new();
        grant(&mut h, &rules[1], "http://x", None);
        assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
        assert!(h.get("access-control-allow-credentials").is_none());
    }
}
