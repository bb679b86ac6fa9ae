use super::*;

fn pair() -> (Signer, Verifier) {
    let key = BackendKey::generate();
    (Signer::new(&key), Verifier::new(&key, DEFAULT_WINDOW))
}

fn signed(s: &Signer, method: &Method, pq: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-timestamp", HeaderValue::from_static("1700000000.00000"));
    h.insert("x-container-host", HeaderValue::from_static("10.0.0.1:6201"));
    h.insert("content-type", HeaderValue::from_static("text/plain"));
    h.insert("user-agent", HeaderValue::from_static("proxy-server"));
    s.sign(method, pq, &mut h);
    h
}

#[test]
fn a_signed_request_verifies_once() {
    let (s, v) = pair();
    let h = signed(&s, &Method::PUT, "/sda/1/a/c/o");
    assert_eq!(v.verify(&Method::PUT, "/sda/1/a/c/o", &h), Ok(()));
    assert_eq!(v.verify(&Method::PUT, "/sda/1/a/c/o", &h), Err(AuthError::Replayed));
}

#[test]
fn anything_signed_that_changes_is_refused() {
    let (s, v) = pair();
    let h = signed(&s, &Method::PUT, "/sda/1/a/c/o");
    assert_eq!(v.verify(&Method::DELETE, "/sda/1/a/c/o", &h), Err(AuthError::Mismatch));
    assert_eq!(v.verify(&Method::PUT, "/sda/1/a/c/p", &h), Err(AuthError::Mismatch));
    let mut far = h.clone();
    far.insert("x-timestamp", HeaderValue::from_static("9999999999.00000"));
    assert_eq!(v.verify(&Method::PUT, "/sda/1/a/c/o", &far), Err(AuthError::Mismatch));
    let mut elsewhere = h.clone();
    elsewhere.insert("x-container-host", HeaderValue::from_static("evil.example:80"));
    assert_eq!(v.verify(&Method::PUT, "/sda/1/a/c/o", &elsewhere), Err(AuthError::Mismatch));
    let mut added = h.clone();
    added.insert("x-object-meta-new", HeaderValue::from_static("1"));
    assert_eq!(v.verify(&Method::PUT, "/sda/1/a/c/o", &added), Err(AuthError::Mismatch));
    // Headers outside the signature (hop-by-hop, user agent) may differ.
    let mut hop = h.clone();
    hop.insert("user-agent", HeaderValue::from_static("other"));
    assert_eq!(v.verify(&Method::PUT, "/sda/1/a/c/o", &hop), Ok(()));
}

#[test]
fn another_key_missing_malformed_and_stale_signatures_are_refused() {
    let (s, _) = pair();
    let (_, other) = pair();
    let h = signed(&s, &Method::GET, "/sda/1/a");
    assert_eq!(other.verify(&Method::GET, "/sda/1/a", &h), Err(AuthError::Mismatch));
    assert_eq!(other.verify(&Method::GET, "/sda/1/a", &HeaderMap::new()), Err(AuthError::Missing));
    for bad in ["v1", "v2 1 00000000000000000000000000000000 00", "v1 x y z", "v1 1 zz 00", "v1 1 2 3 4"] {
        let mut m = HeaderMap::new();
        m.insert(SIGNATURE_HEADER, HeaderValue::from_static(bad));
        assert_eq!(other.verify(&Method::GET, "/", &m), Err(AuthError::Malformed), "{bad}");
    }
    let (s, v) = pair();
    let h = signed(&s, &Method::GET, "/sda/1/a");
    let later = SystemTime::now() + DEFAULT_WINDOW + Duration::from_secs(5);
    assert_eq!(v.verify_at(&Method::GET, "/sda/1/a", &h, later), Err(AuthError::Stale));
}

#[test]
fn nonces_are_remembered_across_one_rotation() {
    let n = replay::Nonces::new(Duration::from_secs(10));
    let t0 = SystemTime::now();
    let nonce = "0123456789abcdef0123456789abcdef";
    assert!(n.first_use(nonce, t0));
    assert!(!n.first_use(nonce, t0 + Duration::from_secs(11)), "kept in the previous generation");
    assert!(n.first_use("fedcba9876543210fedcba9876543210", t0 + Duration::from_secs(11)));
}

#[test]
fn keys_parse_from_hex_only() {
    let k = BackendKey::generate();
    assert_eq!(BackendKey::from_hex(&format!(" {}\n", k.to_hex())).unwrap(), k);
    assert!(BackendKey::from_hex("abcd").is_err());
    assert!(BackendKey::from_hex(&"0".repeat(64)).is_err());
    assert!(!format!("{k:?}").contains(&k.to_hex()));
}

#[test]
fn key_files_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backend.key");
    let key = BackendKey::generate();
    std::fs::write(&path, key.to_hex()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(BackendKey::from_private_file(&path), Err(KeyError::Exposed(_))));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(BackendKey::from_private_file(&path).unwrap(), key);
    let cfg = BackendConfig { key_file: Some(path), ..BackendConfig::default() };
    assert_eq!(cfg.load_key_from(None).unwrap(), key);
    assert!(matches!(BackendConfig::default().load_key_from(None), Err(KeyError::Missing)));
    let other = BackendKey::generate();
    assert_eq!(cfg.load_key_from(Some(other.to_hex())).unwrap(), other, "the environment wins");
}
