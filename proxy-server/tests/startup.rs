//! The `proxy-server` binary refuses to start without a token key of its own (a private
//! `[token] key_file` or `SWIFTLET_TOKEN_KEY`), or with a user whose key is one of the
//! well-known test credentials, and says why.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// 64 hex digits, as `openssl rand -hex 32` makes them.
fn random_hex() -> String {
    (0..32).map(|_| format!("{:02x}", rand_byte())).collect()
}

fn rand_byte() -> u8 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish() as u8
}

/// What the binary did with `config`: `Some((exit code, stderr))` if it exited within a few
/// seconds, `None` if it was still serving (then it is killed).
fn run(dir: &Path, config: &str) -> Option<(Option<i32>, String)> {
    let file = dir.join("proxy-server.toml");
    std::fs::write(&file, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_proxy-server"))
        .args(["--config", file.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .env_remove("SWIFTLET_TOKEN_KEY")
        .env_remove("SWIFTLET_BACKEND_KEY")
        .env_remove("SWIFTLET_HASH_PATH_PREFIX")
        .env_remove("SWIFTLET_HASH_PATH_SUFFIX")
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return Some((status.code(), stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

fn refused(outcome: Option<(Option<i32>, String)>, why: &str) {
    let Some((code, stderr)) = outcome else { panic!("proxy-server started; it should refuse: {why}") };
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(why), "stderr does not say {why:?}: {stderr}");
}

#[test]
fn refuses_to_start_without_a_token_key_or_with_known_test_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let ports = [saio::rings::NodePorts { object: 6010, container: 6011, account: 6012 }];
    saio::rings::build(&etc, "127.0.0.1", &ports, 1.0, 4).unwrap();
    let base =
        format!("swift_dir = {etc:?}\n[hash_path]\nsuffix = \"s3cr3t\"\n[backend]\nkey = \"{}\"\n", random_hex());
    let user = |key: &str| format!("[[tempauth.users]]\naccount = \"ops\"\nuser = \"alice\"\nkey = \"{key}\"\n");
    let token_file = dir.path().join("token.key");
    std::fs::write(&token_file, random_hex()).unwrap();
    let token = format!("[token]\nkey_file = {token_file:?}\n");

    // No token key: tokens would have nothing of their own to be signed with.
    refused(run(dir.path(), &format!("{base}{}", user("a-long-random-key"))), "no token key");
    // A token key file others can read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(run(dir.path(), &format!("{base}{token}")), "readable by group or others");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    // A user whose key is one of the SAIO's well-known ones.
    for known in ["testing", "admin", "testing3"] {
        refused(run(dir.path(), &format!("{base}{token}{}", user(known))), "known test credential");
    }
    // With its own token key and its own users' keys, it serves.
    let good = format!("{base}{token}{}", user("a-long-random-key"));
    assert!(run(dir.path(), &good).is_none(), "it starts");

    // TLS: both files or neither, a key only its owner reads, and then it serves HTTPS.
    let tls = common::http::write_self_signed(&dir.path().join("tls"), &["localhost"]).unwrap();
    let (cert, key) = (tls.cert_file.unwrap(), tls.key_file.unwrap());
    refused(run(dir.path(), &format!("{good}[tls]\ncert_file = {cert:?}\n")), "needs both cert_file and key_file");
    let both = format!("{good}[tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    refused(run(dir.path(), &both), "readable by other users");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let missing = format!("{good}[tls]\ncert_file = \"/nonexistent.pem\"\nkey_file = {key:?}\n");
    refused(run(dir.path(), &missing), "reading the TLS certificate /nonexistent.pem");
    assert!(run(dir.path(), &both).is_none(), "it starts with TLS");
}

/// The proxy takes every server's command line, but flags for storage devices do nothing
/// here, so it refuses them rather than ignore them.
#[test]
fn refuses_flags_that_do_not_apply_to_a_proxy() {
    for flag in ["--devices=/srv/node", "--no-mount-check"] {
        let output = Command::new(env!("CARGO_BIN_EXE_proxy-server"))
            .args([flag, "--bind", "127.0.0.1:0"])
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{flag}: {stderr}");
        let name = flag.split('=').next().unwrap();
        assert!(stderr.contains(&format!("proxy-server: {name} does not apply to this server")), "{flag}: {stderr}");
    }
}
