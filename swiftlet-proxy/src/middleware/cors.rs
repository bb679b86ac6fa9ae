//! CORS, as Swift's proxy does it: `OPTIONS` answers preflights from the container's
//! `X-Container-Meta-Access-Control-Allow-Origin` / `-Max-Age` (no token needed), and
//! container and object responses to requests with an `Origin` get
//! `Access-Control-Allow-Origin` and `-Expose-Headers` (strict mode: only for allowed
//! origins).

use crate::context::Ctx;
use crate::error::Result;
use crate::lookups::container::container_info;
use crate::pipeline::step::{Next, Reply, Step};
use crate::pipeline::subrequest::{self as sub};
use crate::request::ProxyRequest;
use crate::route::Route;
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};

pub(crate) struct Cors {
    /// Origins allowed for every container (Swift's `cors_allow_origin`).
    pub allow_origin: Vec<String>,
    /// Only allowed origins get CORS headers on actual requests (`strict_cors_mode`).
    pub strict: bool,
}

/// A container's CORS settings.
#[derive(Debug, Default)]
struct Rules {
    allow_origin: Option<String>,
    max_age: Option<String>,
    expose_headers: Option<String>,
}

impl Rules {
    fn from(h: &HeaderMap) -> Rules {
        let rule = |n: &str| get(h, &format!("x-container-meta-access-control-{n}")).map(str::to_string);
        Rules { allow_origin: rule("allow-origin"), max_age: rule("max-age"), expose_headers: rule("expose-headers") }
    }

    fn allows_any(&self) -> bool {
        self.allow_origin.as_deref().is_some_and(|o| o.trim() == "*")
    }
}

impl Step for Cors {
    fn name(&self) -> &'static str {
        "cors"
    }

    fn call<'a>(&'a self, req: ProxyRequest, next: Next) -> Reply<'a> {
        Box::pin(async move {
            if !matches!(req.route, Route::Account { .. } | Route::Container { .. } | Route::Object { .. }) {
                return next.run(req).await;
            }
            if req.method() == Method::OPTIONS {
                return self.preflight(&req.head.headers, &req.ctx, &req.route, &next).await;
            }
            let Some(origin) = get(req.headers(), "origin").map(str::to_string) else {
                return next.run(req).await;
            };
            let Some(container) = req.route.container().map(str::to_string) else { return next.run(req).await };
            let account = req.route.account().unwrap_or("").to_string();
            let ctx = req.ctx.clone();
            let resp = next.call(req).await;
            let rules = container_info(next.cluster(), &ctx, &account, &container)
                .await
                .ok()
                .flatten()
                .map(|i| Rules::from(&i.headers))
                .unwrap_or_default();
            Ok(self.decorate(resp, &rules, &origin))
        })
    }
}

impl Cors {
    fn origin_allowed(&self, rules: &Rules, origin: &str) -> bool {
        let mut allowed: Vec<&str> =
            rules.allow_origin.as_deref().unwrap_or("").split(' ').filter(|a| !a.is_empty()).collect();
        allowed.extend(self.allow_origin.iter().map(String::as_str));
        allowed.iter().any(|a| *a == origin || *a == "*")
    }

    async fn preflight(&self, headers: &HeaderMap, ctx: &Ctx, route: &Route, next: &Next) -> Result<Response<Body>> {
        let methods: &[&str] = match route {
            Route::Object { .. } => &["COPY", "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"],
            _ => &["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"],
        };
        let allow = methods.join(", ");
        let mut resp = sub::status_only(StatusCode::OK);
        set(resp.headers_mut(), "allow", &allow);
        set(resp.headers_mut(), "content-length", "0");
        let Some(origin) = get(headers, "origin") else { return Ok(resp) };
        let Some(container) = route.container() else { return Ok(resp) };
        let info = container_info(next.cluster(), ctx, route.account().unwrap_or(""), container).await?;
        let rules = info.map(|i| Rules::from(&i.headers)).unwrap_or_default();
        let wanted = get(headers, "access-control-request-method").unwrap_or("");
        if !self.origin_allowed(&rules, origin) || !methods.contains(&wanted) {
            *resp.status_mut() = StatusCode::UNAUTHORIZED;
            return Ok(resp);
        }
        let h = resp.headers_mut();
        set(h, "access-control-allow-origin", if rules.allows_any() { "*" } else { origin });
        let mut vary = vec!["Origin"];
        if let Some(age) = &rules.max_age {
            set(h, "access-control-max-age", age);
        }
        set(h, "access-control-allow-methods", &allow);
        let requested: Vec<&str> = get(headers, "access-control-request-headers")
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if !requested.is_empty() {
            set(h, "access-control-allow-headers", &requested.join(", "));
            vary.push("Access-Control-Request-Headers");
        }
        set(h, "vary", &vary.join(", "));
        Ok(resp)
    }

    fn decorate(&self, mut resp: Response<Body>, rules: &Rules, origin: &str) -> Response<Body> {
        if self.strict && !self.origin_allowed(rules, origin) {
            return resp;
        }
        let h = resp.headers_mut();
        if !h.contains_key("access-control-expose-headers") {
            let mut expose: Vec<String> = [
                "cache-control",
                "content-language",
                "content-type",
                "expires",
                "last-modified",
                "pragma",
                "etag",
                "x-timestamp",
                "x-trans-id",
                "x-openstack-request-id",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            for name in h.keys() {
                let n = name.as_str();
                if n.starts_with("x-container-meta-") || n.starts_with("x-object-meta-") {
                    expose.push(n.to_string());
                }
            }
            if let Some(extra) = &rules.expose_headers {
                expose.extend(extra.split(' ').filter(|x| !x.is_empty()).map(|x| x.to_ascii_lowercase()));
            }
            expose.dedup();
            set(h, "access-control-expose-headers", &expose.join(", "));
        }
        if !h.contains_key("access-control-allow-origin") {
            if rules.allows_any() {
                set(h, "access-control-allow-origin", "*");
            } else {
                set(h, "access-control-allow-origin", origin);
                let vary = match get(h, "vary") {
                    Some(v) => format!("{v}, Origin"),
                    None => "Origin".into(),
                };
                set(h, "vary", &vary);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let cors = Cors { allow_origin: vec!["http://all.example".into()], strict: true };
        let rules = Rules { allow_origin: Some("http://a.com http://b.com".into()), ..Rules::default() };
        assert!(cors.origin_allowed(&rules, "http://b.com"));
        assert!(cors.origin_allowed(&rules, "http://all.example"));
        assert!(!cors.origin_allowed(&rules, "http://c.com"));
        assert!(cors.origin_allowed(&Rules { allow_origin: Some("*".into()), ..Rules::default() }, "http://x"));
        let resp = cors.decorate(sub::status_only(StatusCode::OK), &rules, "http://a.com");
        assert_eq!(get(resp.headers(), "access-control-allow-origin"), Some("http://a.com"));
        assert_eq!(get(resp.headers(), "vary"), Some("Origin"));
        let resp = cors.decorate(sub::status_only(StatusCode::OK), &rules, "http://c.com");
        assert!(!resp.headers().contains_key("access-control-allow-origin"));
    }
}
