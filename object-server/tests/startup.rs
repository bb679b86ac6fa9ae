//! The `object-server` binary refuses to start without the cluster's secrets (a placement
//! secret and a private backend key) or its container ring, and says what is missing.

mod support;

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary with `config` (as TOML) and no secrets from the environment.
fn run(dir: &Path, config: &str) -> Output {
    let file = dir.join("object-server.toml");
    std::fs::write(&file, config).unwrap();
    std::fs::create_dir_all(dir.join("devices")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_object-server"))
        .args(["--config", file.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .args(["--devices", dir.join("devices").to_str().unwrap()])
        .env_remove(common::backend_auth::KEY_ENV)
        .env_remove("SWIFTLET_HASH_PATH_PREFIX")
        .env_remove("SWIFTLET_HASH_PATH_SUFFIX")
        .env("RUST_LOG", "off")
        .output()
        .unwrap()
}

fn refused(out: &Output, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(why), "stderr does not say {why:?}: {stderr}");
}

#[test]
fn refuses_to_start_without_secrets_or_a_container_ring() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let key = support::backend_key().to_hex();
    let hash_path = "[hash_path]\nsuffix = \"s3cr3t\"\n";
    let swift_dir = format!("swift_dir = {etc:?}\n");

    // No [hash_path] at all.
    refused(&run(dir.path(), &format!("{swift_dir}[backend]\nkey = \"{key}\"\n")), "[hash_path]");
    // No backend key.
    refused(&run(dir.path(), &format!("{swift_dir}{hash_path}")), "no backend key");
    // A key file others can read.
    let key_file = dir.path().join("backend.key");
    std::fs::write(&key_file, &key).unwrap();
    let exposed = format!("{swift_dir}{hash_path}[backend]\nkey_file = {key_file:?}\n");
    refused(&run(dir.path(), &exposed), "readable by group or others");
    // Secrets, but no container ring to check update targets against.
    let no_ring = format!("{swift_dir}{hash_path}[backend]\nkey = \"{key}\"\n");
    refused(&run(dir.path(), &no_ring), "container.ring");
}
