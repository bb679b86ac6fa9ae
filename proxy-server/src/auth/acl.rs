//! Container ACLs in Swift's syntax: comma-separated `.r:<referrer>`, `.rlistings` and
//! group names (`account`, `account:user`, `*:user`, `account:*`, `*`).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    /// `.r:*` or a referrer list: we grant anonymous reads only for `*` (no Referer trust).
    pub any_referrer: bool,
    pub listings: bool,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerAcl {
    pub read: Acl,
    pub write: Acl,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Invalid ACL entry {0:?}")]
pub struct InvalidAcl(pub String);

impl Acl {
    pub fn parse(text: &str) -> Result<Acl, InvalidAcl> {
        let mut acl = Acl::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Some(referrer) = entry.strip_prefix(".r:").or_else(|| entry.strip_prefix(".referrer:")) {
                match referrer {
                    "*" | ".*" => acl.any_referrer = true,
                    r if r.starts_with('-') || !r.is_empty() => {} // specific referrers: not trusted, ignored
                    _ => return Err(InvalidAcl(entry.into())),
                }
            } else if entry == ".rlistings" {
                acl.listings = true;
            } else if entry.starts_with('.') {
                return Err(InvalidAcl(entry.into()));
            } else {
                acl.groups.push(entry.to_string());
            }
        }
        Ok(acl)
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

    pub fn allows_object_read(&self, groups: &[String]) -> bool {
        self.any_referrer || self.allows_groups(groups)
    }

    pub fn allows_listing(&self, groups: &[String]) -> bool {
        (self.any_referrer && self.listings) || self.allows_groups(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn public_read_and_listings() {
        let a = Acl::parse(".r:*").unwrap();
        assert!(a.allows_object_read(&[]));
        assert!(!a.allows_listing(&[]));
        let a = Acl::parse(".r:*,.rlistings").unwrap();
        assert!(a.allows_listing(&[]));
    }

    #[test]
    fn groups_and_wildcards() {
        let a = Acl::parse("test:tester3, other").unwrap();
        assert!(a.allows_groups(&g(&["test", "test:tester3"])));
        assert!(!a.allows_groups(&g(&["test", "test:tester"])));
        assert!(a.allows_groups(&g(&["other"])));
        assert!(Acl::parse("*:tester3").unwrap().allows_groups(&g(&["x:tester3"])));
        assert!(Acl::parse("test:*").unwrap().allows_groups(&g(&["test:anyone"])));
        assert!(Acl::parse(".bogus").is_err());
    }
}
