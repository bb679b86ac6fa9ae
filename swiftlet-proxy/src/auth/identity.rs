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
}

impl Identity {
    /// Admins own their storage account; reseller admins own every account.
    pub fn owns(&self, storage_account: &str) -> bool {
        self.reseller_admin || (self.admin && self.storage_account == storage_account)
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
