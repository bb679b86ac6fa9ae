//! Who is asking: a validated user (tempauth or Keystone), or the scope of a valid TempURL.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The tempauth account name (`test`), not the storage account (`AUTH_test`).
    pub account: String,
    pub user: String,
    pub admin: bool,
    pub reseller_admin: bool,
    /// The storage account this identity's account maps to (`AUTH_test`).
    pub storage_account: String,
    /// The reseller prefix of the auth system that vouched for this identity (`AUTH_`):
    /// it owns no account outside it, however admin it is.
    pub reseller_prefix: String,
    /// A Keystone reader: it owns its account for reading only, and is not shown the
    /// owner's headers there.
    pub read_only: bool,
}

impl Identity {
    /// Admins own their storage account; reseller admins own every account; both only
    /// under their auth system's reseller prefix.
    pub fn owns(&self, storage_account: &str) -> bool {
        storage_account.starts_with(&self.reseller_prefix)
            && (self.reseller_admin || (self.admin && self.storage_account == storage_account))
    }

    /// The account's owner with every right (Swift's `swift_owner`): it may write there and
    /// see the owner-only headers (ACLs, TempURL and sync keys). A reader is not.
    pub fn is_owner(&self, storage_account: &str) -> bool {
        self.owns(storage_account) && !self.read_only
    }

    /// The names ACLs can grant to: `test`, `test:tester`, `AUTH_test`.
    pub fn groups(&self) -> Vec<String> {
        vec![self.account.clone(), format!("{}:{}", self.account, self.user), self.storage_account.clone()]
    }
}

/// What a valid TempURL lets a request (and its sub-requests) reach: the account whose
/// key signed it, or only the container whose key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TempUrlScope {
    pub account: String,
    pub container: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(reseller: bool) -> Identity {
        Identity {
            account: "test".into(),
            user: "tester".into(),
            admin: true,
            reseller_admin: reseller,
            storage_account: "AUTH_test".into(),
            reseller_prefix: "AUTH_".into(),
            read_only: false,
        }
    }

    #[test]
    fn nobody_owns_accounts_outside_its_reseller_prefix() {
        assert!(admin(false).owns("AUTH_test") && !admin(false).owns("OTHER_test"));
        assert!(admin(true).owns("AUTH_anyone"));
        assert!(!admin(true).owns("OTHER_test"), "a reseller admin of AUTH_ does not own OTHER_ accounts");
        assert!(!admin(true).owns("test"));
    }

    #[test]
    fn readers_own_for_reading_only() {
        let reader = Identity { read_only: true, ..admin(false) };
        assert!(reader.owns("AUTH_test") && !reader.is_owner("AUTH_test"));
        assert!(admin(false).is_owner("AUTH_test") && !admin(false).is_owner("AUTH_other"));
    }
}
