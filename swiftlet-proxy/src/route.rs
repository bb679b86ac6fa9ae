//! Parse, then dispatch: a request's path becomes one `Route`, parsed once, which then
//! travels down the pipeline in the request ([`crate::request::ProxyRequest`]).

use crate::error::{ProxyError, Result};
use common::path::{decode, split_path, validate_names};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Not parsed into a route: the front door hands requests over so, and the router step
    /// parses them (an S3 request leaves for its frontend before, and never has a Swift
    /// route). A sub-request whose path does not parse stays so; the controllers answer it
    /// with the parse error, as they would have answered its path.
    Unparsed,
    Healthcheck,
    Info,
    /// `GET /auth/v1.0` (and Swift's other spellings).
    Auth,
    Account {
        account: String,
    },
    Container {
        account: String,
        container: String,
    },
    Object {
        account: String,
        container: String,
        object: String,
    },
}

impl Route {
    pub fn parse(raw_path: &str) -> Result<Route> {
        match raw_path {
            "/healthcheck" => return Ok(Route::Healthcheck),
            "/info" => return Ok(Route::Info),
            "/auth/v1.0" | "/v1.0" | "/auth/v1/auth" => return Ok(Route::Auth),
            _ => {}
        }
        let path = decode(raw_path)?;
        // As Swift's proxy: a path that does not split names nothing (404); a version with
        // no account (`/v1`, `/info%20x`) is a bad URL (412); an account under anything but
        // a known API version is a bad request (400).
        let parts = split_path(&path, 1, 4, true).map_err(|_| ProxyError::NotFound)?;
        if parts.get(1).is_none_or(String::is_empty) {
            return Err(ProxyError::PreconditionFailed("Bad URL".into()));
        }
        if parts[0] != "v1" && parts[0] != "v1.0" {
            return Err(ProxyError::BadRequest(format!("Invalid API version {:?}", parts[0])));
        }
        let mut it = parts.into_iter().skip(1);
        let account = it.next().unwrap_or_default();
        let container = it.next().filter(|c| !c.is_empty());
        let object = it.next().filter(|o| !o.is_empty());
        validate_names(&account, container.as_deref(), object.as_deref())?;
        Ok(match (container, object) {
            (None, _) => Route::Account { account },
            (Some(container), None) => Route::Container { account, container },
            (Some(container), Some(object)) => Route::Object { account, container, object },
        })
    }

    /// The route of a sub-request's path (already quoted), or [`Route::Unparsed`] when it
    /// names nothing the Swift API serves.
    pub fn of_subrequest(quoted_path: &str) -> Route {
        Route::parse(quoted_path).unwrap_or(Route::Unparsed)
    }

    pub fn account(&self) -> Option<&str> {
        match self {
            Route::Account { account } | Route::Container { account, .. } | Route::Object { account, .. } => {
                Some(account)
            }
            _ => None,
        }
    }

    pub fn container(&self) -> Option<&str> {
        match self {
            Route::Container { container, .. } | Route::Object { container, .. } => Some(container),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::parse("/healthcheck").unwrap(), Route::Healthcheck);
        assert_eq!(Route::parse("/v1/AUTH_t").unwrap(), Route::Account { account: "AUTH_t".into() });
        assert_eq!(Route::parse("/v1/AUTH_t/").unwrap(), Route::Account { account: "AUTH_t".into() });
        assert_eq!(
            Route::parse("/v1/AUTH_t/c/").unwrap(),
            Route::Container { account: "AUTH_t".into(), container: "c".into() }
        );
        assert_eq!(
            Route::parse("/v1/AUTH_t/c/a/b%2Fc").unwrap(),
            Route::Object { account: "AUTH_t".into(), container: "c".into(), object: "a/b/c".into() }
        );
    }

    #[test]
    fn rejects() {
        assert!(matches!(Route::parse("/v2/x"), Err(ProxyError::BadRequest(_))));
        for bad_url in ["/v1", "/v1/", "/v1.0/", "/info%20asdf", "/favicon.ico"] {
            assert!(matches!(Route::parse(bad_url), Err(ProxyError::PreconditionFailed(_))), "{bad_url}");
        }
        assert!(matches!(Route::parse("/"), Err(ProxyError::NotFound)));
        assert!(matches!(Route::parse("/v1/a/c/o%FF"), Err(ProxyError::Path(_))));
        assert!(matches!(Route::parse("/v1//c/o"), Err(ProxyError::NotFound)));
        assert!(matches!(Route::parse("/v1/a//o"), Err(ProxyError::NotFound)));
        assert!(Route::parse("/v1/a/c/o%00").is_err());
        assert!(Route::parse(&format!("/v1/a/{}", "c".repeat(257))).is_err());
        assert!(Route::parse(&format!("/v1/a/c/{}", "o".repeat(1025))).is_err());
    }
}
