//! No known credentials outside saio: the services refuse to start unless the admin
//! password is configured and is not a well-known default, a demo user exists only with a
//! configured password of its own, and a generated admin password is written 0600.

mod support;

use compute_shim::config::IdentityConfig;
use support::*;

async fn starts(identity: IdentityConfig) -> Result<Shim, String> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = compute_shim::ShimConfig { identity, ..test_config(dir.path()) };
    let listeners = compute_shim::Listeners::bind(&cfg).await.unwrap();
    match compute_shim::start(cfg.clone(), listeners).await {
        Ok(cloud) => Ok(Shim { cloud, http: reqwest::Client::new(), cfg, dir }),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_or_missing_admin_passwords_refuse_to_start() {
    let strong = || ADMIN_PASSWORD.to_string();
    let cases = [
        ("the defaults", IdentityConfig::default()),
        (
            "admin/admin",
            IdentityConfig {
                admin_password: "admin".into(),
                demo_password: String::new(),
                ..IdentityConfig::default()
            },
        ),
        ("no admin password", IdentityConfig { admin_password: String::new(), ..IdentityConfig::default() }),
        (
            "demo/demo",
            IdentityConfig { admin_password: strong(), demo_password: "demo".into(), ..IdentityConfig::default() },
        ),
        (
            "a known weak one",
            IdentityConfig {
                admin_password: "Password".into(),
                demo_password: String::new(),
                ..IdentityConfig::default()
            },
        ),
    ];
    for (what, identity) in cases {
        let err = starts(identity).await.err().unwrap_or_else(|| panic!("{what}: started"));
        assert!(err.contains("password"), "{what}: {err}");
    }

    // A configured admin password alone: no demo user at all.
    let shim =
        starts(IdentityConfig { admin_password: strong(), demo_password: String::new(), ..IdentityConfig::default() })
            .await
            .expect("a configured admin password starts");
    assert_eq!(shim.try_login("admin", ADMIN_PASSWORD, "admin").await.0, 201);
    assert_eq!(shim.try_login("demo", "demo", "demo").await.0, 401);
    assert_eq!(shim.try_login("admin", "admin", "admin").await.0, 401);
}
