//! The passwords of the users a new identity database starts with. Outside saio nothing
//! is a known default: the admin password must be configured (`admin_password`, or
//! `admin_password_file`, generated there 0600 when the file is missing) and must not be
//! a well-known or short one; the demo user exists only with a configured password of its
//! own. saio keeps its known test credentials (`test_credentials`) and says so.

use crate::config::IdentityConfig;
use crate::error::{Result, ShimError};
use std::path::Path;

/// Passwords anyone would try first (compared without regard to case).
const KNOWN_PASSWORDS: &[&str] = &[
    "admin",
    "demo",
    "password",
    "passw0rd",
    "secret",
    "changeme",
    "change_me",
    "openstack",
    "swiftlet",
    "keystone",
    "nomoresecret",
    "devstack",
    "test",
    "testing",
    "letmein",
    "12345678",
    "123456789",
    "admin123",
    "adminadmin",
    "qwertyuiop",
    "default",
];
/// Shorter passwords are refused too.
pub const MIN_PASSWORD_LEN: usize = 8;

/// The passwords of the users to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPasswords {
    pub admin: String,
    /// `None`: no demo user.
    pub demo: Option<String>,
}

fn refuse(msg: String) -> ShimError {
    ShimError::Config(msg)
}

/// Why `password` may not be a user's start-up password, if it may not.
fn weakness(password: &str) -> Option<&'static str> {
    if KNOWN_PASSWORDS.iter().any(|k| k.eq_ignore_ascii_case(password)) {
        Some("is a well-known default")
    } else if password.chars().count() < MIN_PASSWORD_LEN {
        Some("is shorter than 8 characters")
    } else {
        None
    }
}

/// The start-up passwords of `cfg`, or why the services must not start with them. With
/// `create` (a new database) a missing password file is generated; without it the file
/// is only checked when it exists.
pub fn seed_passwords(cfg: &IdentityConfig, create: bool) -> Result<SeedPasswords> {
    if cfg.test_credentials {
        tracing::warn!(
            "identity: known test credentials are allowed (saio): never expose these services beyond this host"
        );
        let or = |pw: &str, default: &str| if pw.is_empty() { default.to_string() } else { pw.to_string() };
        return Ok(SeedPasswords {
            admin: or(&cfg.admin_password, "admin"),
            demo: Some(or(&cfg.demo_password, "demo")),
        });
    }
    let admin =
        match (&cfg.admin_password_file, cfg.admin_password.is_empty()) {
            (Some(_), false) => {
                return Err(refuse("[identity] sets both admin_password and admin_password_file: set one".into()))
            }
            (Some(file), true) => admin_password_from_file(file, create)?,
            (None, false) => Some(cfg.admin_password.clone()),
            (None, true) => return Err(refuse(
                "[identity] admin_password (or admin_password_file) is required: the admin user needs a password of \
                 its own"
                    .into(),
            )),
        };
    if let Some(why) = admin.as_deref().and_then(weakness) {
        return Err(refuse(format!("[identity] the admin password {why}: choose another")));
    }
    let demo = (!cfg.demo_password.is_empty()).then(|| cfg.demo_password.clone());
    if let Some(why) = demo.as_deref().and_then(weakness) {
        return Err(refuse(format!(
            "[identity] demo_password {why}: choose another, or leave it unset for no demo user"
        )));
    }
    // Only an existing database may lack the file: its admin already has a password.
    Ok(SeedPasswords { admin: admin.unwrap_or_default(), demo })
}

/// The file's password; a new random one written there (0600) when it is missing and
/// `create`; `None` when it is missing and not `create`.
fn admin_password_from_file(file: &Path, create: bool) -> Result<Option<String>> {
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let pw = text.trim_end_matches(['\r', '\n']).to_string();
            if pw.is_empty() {
                return Err(refuse(format!("[identity] admin_password_file {} is empty", file.display())));
            }
            Ok(Some(pw))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let pw = hex::encode(rand::random::<[u8; 16]>());
            common::secrets::write_private(file, format!("{pw}\n").as_bytes())?;
            tracing::warn!(file = %file.display(), "identity: generated the admin password into this file (0600)");
            Ok(Some(pw))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(refuse(format!("[identity] reading admin_password_file {}: {e}", file.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn cfg(admin: &str, demo: &str) -> IdentityConfig {
        IdentityConfig { admin_password: admin.into(), demo_password: demo.into(), ..IdentityConfig::default() }
    }

    #[test]
    fn only_configured_strong_passwords_pass() {
        let ok = seed_passwords(&cfg("a long admin secret", ""), true).unwrap();
        assert_eq!(ok, SeedPasswords { admin: "a long admin secret".into(), demo: None });
        let with_demo = seed_passwords(&cfg("a long admin secret", "a demo secret"), true).unwrap();
        assert_eq!(with_demo.demo.as_deref(), Some("a demo secret"));
        for (admin, demo) in
            [("", ""), ("admin", ""), ("ADMIN", ""), ("ChangeMe", ""), ("short", ""), ("long enough!", "demo")]
        {
            let e = seed_passwords(&cfg(admin, demo), true).unwrap_err();
            assert!(matches!(e, ShimError::Config(_)), "{admin}/{demo}: {e}");
        }
        let saio = IdentityConfig { test_credentials: true, ..IdentityConfig::default() };
        assert_eq!(
            seed_passwords(&saio, true).unwrap(),
            SeedPasswords { admin: "admin".into(), demo: Some("demo".into()) }
        );
    }

    #[test]
    fn a_missing_password_file_is_generated_private_and_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("admin-password");
        let c = IdentityConfig { admin_password_file: Some(file.clone()), ..IdentityConfig::default() };
        assert_eq!(seed_passwords(&c, false).unwrap().admin, "", "an existing database generates nothing");
        assert!(!file.exists());
        let generated = seed_passwords(&c, true).unwrap().admin;
        assert_eq!(generated.len(), 32);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(seed_passwords(&c, true).unwrap().admin, generated, "read back, not generated again");
        std::fs::write(&file, "admin\n").unwrap();
        assert!(seed_passwords(&c, true).is_err(), "a known password in the file");
        let both = IdentityConfig { admin_password: "a long admin secret".into(), ..c };
        assert!(seed_passwords(&both, true).is_err());
    }
}
