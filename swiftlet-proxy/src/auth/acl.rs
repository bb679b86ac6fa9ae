//! Container ACLs in Swift's syntax: comma-separated referrer designations (`.r:*`,
//! `.r:.example.com`, `.r:-bad.example.com`), `.rlistings`, and group names (`account`,
//! `account:user`, and the `*:user`, `account:*`, `*` wildcards Keystone users know).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    /// Host designations after `.r:` (`*`, `host`, `.domain`, or `-` + one of those).
    pub referrers: Vec<String>,
    /// Group names, and `.rlistings`.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerAcl {
    pub read: Acl,
    pub write: Acl,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub(crate) struct InvalidAcl(pub String);

/// Normalizes an ACL header the way Swift stores it (`clean_acl`): spaces and empty entries
/// dropped, `.ref:`/`.referrer:` spelled `.r:`, `*.domain` as `.domain`; referrers are
/// refused in write ACLs and unknown `.designators:` everywhere.
pub(crate) fn clean(header_name: &str, value: &str) -> Result<String, InvalidAcl> {
    let write = header_name.to_ascii_lowercase().contains("write");
    let mut out = Vec::new();
    for raw in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let Some((first, second)) = raw.split_once(':').map(|(a, b)| (a.trim(), b.trim())) else {
            out.push(raw.to_string());
            continue;
        };
        if first.is_empty() || !first.starts_with('.') {
            out.push(raw.to_string());
        } else if matches!(first, ".r" | ".ref" | ".referer" | ".referrer") {
            if write {
                return Err(InvalidAcl(format!("Referrers not allowed in write ACL: '{raw}'")));
            }
            let (negate, mut host) = match second.strip_prefix('-') {
                Some(h) => (true, h.trim()),
                None => (false, second),
            };
            if host != "*" && host.starts_with('*') {
                host = host[1..].trim();
            }
            if host.is_empty() || host == "." {
                return Err(InvalidAcl(format!("No host/domain value after referrer designation in ACL: '{raw}'")));
            }
            out.push(format!(".r:{}{host}", if negate { "-" } else { "" }));
        } else {
            return Err(InvalidAcl(format!("Unknown designator '{first}' in ACL: '{raw}'")));
        }
    }
    Ok(out.join(","))
}

impl Acl {
    /// Reads a stored ACL (already cleaned); never fails.
    pub fn parse(text: &str) -> Acl {
        let mut acl = Acl::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.strip_prefix(".r:") {
                Some(r) => acl.referrers.push(r.to_string()),
                None => acl.groups.push(percent_encoding::percent_decode_str(entry).decode_utf8_lossy().into_owned()),
            }
        }
        acl
    }

    /// `.rlistings`: referrers allowed to read may also list.
    pub fn listings(&self) -> bool {
        self.groups.iter().any(|g| g == ".rlistings")
    }

    /// Swift's `referrer_allowed`: the last matching designation wins; negations deny.
    pub fn referrer_allowed(&self, referer: Option<&str>) -> bool {
        let host = referer.and_then(referer_host).unwrap_or_else(|| "unknown".into());
        let hit = |m: &str| m == host || (m.starts_with('.') && host.ends_with(m));
        let mut allow = false;
        for r in &self.referrers {
            match r.strip_prefix('-') {
                Some(m) if hit(m) => allow = false,
                Some(_) => {}
                None if r == "*" || hit(r) => allow = true,
                None => {}
            }
        }
        allow
    }

    pub fn allows_groups(&self, groups: &[String]) -> bool {
        self.groups.iter().any(|g| {
            g == "*"
                || groups.iter().any(|mine| {
                    mine == g || {
                        // `*:user` and `account:*` wildcards.
                        match (g.split_once(':'), mine.split_once(':')) {
                            (Some(("*", u)), Some((_, mu))) => u == mu,
                            (Some((a, "*")), Some((ma, _))) => a == ma,
                            _ => false,
                        }
                    }
                })
        })
    }
}

/// The host of a Referer URL (`http://a.example.com:80/x` -> `a.example.com`).
fn referer_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cleaning_follows_swift() {
        assert_eq!(clean("x-container-read", " bob , sue,,").unwrap(), "bob,sue");
        assert_eq!(clean("x-container-read", ".referrer : *").unwrap(), ".r:*");
        assert_eq!(clean("x-container-read", ".ref:*.example.com").unwrap(), ".r:.example.com");
        assert_eq!(clean("x-container-read", ".r:*, .rlistings").unwrap(), ".r:*,.rlistings");
        assert_eq!(clean("x-container-read", ".r:-bad.com").unwrap(), ".r:-bad.com");
        assert!(clean("x-container-write", ".r:*").is_err());
        assert!(clean("x-container-read", ".r:").is_err());
        assert!(clean("x-container-read", ".bogus:x").is_err());
        assert_eq!(clean("x-container-read", ".bogus").unwrap(), ".bogus");
    }

    #[test]
    fn referrers() {
        let a = Acl::parse(".r:.example.com,.r:-bad.example.com");
        assert!(a.referrer_allowed(Some("http://www.example.com/page")));
        assert!(!a.referrer_allowed(Some("http://bad.example.com/")));
        assert!(!a.referrer_allowed(Some("http://other.org/")));
        assert!(!a.referrer_allowed(None));
        assert!(Acl::parse(".r:*").referrer_allowed(None));
        assert!(!Acl::parse(".r:*").listings());
        assert!(Acl::parse(".r:*,.rlistings").listings());
    }

    #[test]
    fn groups_and_wildcards() {
        let a = Acl::parse("test:tester3, other");
        assert!(a.allows_groups(&g(&["test", "test:tester3"])));
        assert!(!a.allows_groups(&g(&["test", "test:tester"])));
        assert!(a.allows_groups(&g(&["other"])));
        assert!(Acl::parse("*:tester3").allows_groups(&g(&["x:tester3"])));
        assert!(Acl::parse("test:*").allows_groups(&g(&["test:anyone"])));
    }
}
