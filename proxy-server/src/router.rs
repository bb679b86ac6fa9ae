//! Parse, then dispatch: a request's method and path become one `Route`.

use crate::error::{ProxyError, Result};
use common::path::{decode, split_path, validate_names};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
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
        // As Swift's proxy: a version with no account is a bad URL; a path that does not
        // split into version/account/container/object names nothing (404).
        if matches!(path.as_str(), "/v1" | "/v1/" | "/v1.0" | "/v1.0/") {
            return Err(ProxyError::PreconditionFailed("Bad URL".into()));
        }
        let parts = split_path(&path, 2, 4, true).map_err(|_| ProxyError::NotFound)?;
        if parts[0] != "v1" && parts[0] != "v1.0" {
            return Err(ProxyError::NotFound);
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
        assert!(matches!(Route::parse("/v2/x"), Err(ProxyError::NotFound)));
        assert!(matches!(Route::parse("/v1"), Err(ProxyError::PreconditionFailed(_))));
        assert!(matches!(Route::parse("/v1//c/o"), Err(ProxyError::NotFound)));
        assert!(matches!(Route::parse("/v1/a//o"), Err(ProxyError::NotFound)));
        assert!(Route::parse("/v1/a/c/o%00").is_err());
        assert!(Route::parse(&format!("/v1/a/{}", "c".repeat(257))).is_err());
        assert!(Route::parse(&format!("/v1/a/c/{}", "o".repeat(1025))).is_err());
    }
}
