//! Backend authentication: only the cluster talks to storage nodes.
//!
//! Every request between Swiftlet servers (proxy -> storage node, storage node -> storage
//! node) carries `X-Backend-Signature: v1 <unix secs> <nonce> <hmac>`: an HMAC-SHA256, under
//! the cluster's backend key, over the method, the path and query, the time, a random
//! nonce, and every `x-*` header plus `content-type` and `etag` (so the timestamps, container
//! update targets and metadata a request carries cannot be changed without the key). A
//! storage node accepts a signature only within `window` of its own clock, and each nonce
//! once ([`replay`]); the comparison is constant-time.
//!
//! The body is not signed (object bodies are streamed and checked by their own checksums);
//! what this keeps out is anyone on the storage network who does not hold the key. Mutual
//! TLS would also hide the bytes; see SECURITY.md.

mod config;
mod key;
mod replay;

pub use config::{BackendAuth, BackendConfig, KEY_ENV};
pub use key::{BackendKey, KeyError};

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue, Method};
use replay::Nonces;
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SIGNATURE_HEADER: &str = "x-backend-signature";

/// How far a signature's time may be from the receiver's clock.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// Why a backend request was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("backend request is not signed")]
    Missing,
    #[error("backend signature is malformed")]
    Malformed,
    #[error("backend signature is outside the accepted time window")]
    Stale,
    #[error("backend signature was already used")]
    Replayed,
    #[error("backend signature does not match")]
    Mismatch,
}

/// Signs outgoing backend requests.
#[derive(Clone)]
pub struct Signer {
    mac: Hmac<Sha256>,
}

/// Checks incoming backend requests.
pub struct Verifier {
    mac: Hmac<Sha256>,
    window: Duration,
    nonces: Nonces,
}

impl Signer {
    pub fn new(key: &BackendKey) -> Signer {
        Signer { mac: key.mac() }
    }

    /// Adds the signature header to a request about to be sent.
    pub fn sign(&self, method: &Method, path_and_query: &str, headers: &mut HeaderMap) {
        headers.remove(SIGNATURE_HEADER);
        let secs = unix_secs(SystemTime::now());
        let nonce = format!("{:032x}", rand::random::<u128>());
        let sig = hex::encode(digest(&self.mac, method, path_and_query, secs, &nonce, headers));
        if let Ok(v) = HeaderValue::from_str(&format!("v1 {secs} {nonce} {sig}")) {
            headers.insert(SIGNATURE_HEADER, v);
        }
    }
}

impl Verifier {
    pub fn new(key: &BackendKey, window: Duration) -> Verifier {
        Verifier { mac: key.mac(), window, nonces: Nonces::new(window * 2) }
    }

    /// Checks the signature of a received request.
    pub fn verify(&self, method: &Method, path_and_query: &str, headers: &HeaderMap) -> Result<(), AuthError> {
        self.verify_at(method, path_and_query, headers, SystemTime::now())
    }

    fn verify_at(&self, method: &Method, pq: &str, headers: &HeaderMap, now: SystemTime) -> Result<(), AuthError> {
        let value = headers.get(SIGNATURE_HEADER).ok_or(AuthError::Missing)?;
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let mut parts = value.split(' ');
        let (Some("v1"), Some(secs), Some(nonce), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed);
        };
        let secs: u64 = secs.parse().map_err(|_| AuthError::Malformed)?;
        if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::Malformed);
        }
        let sig = hex::decode(sig).map_err(|_| AuthError::Malformed)?;
        if unix_secs(now).abs_diff(secs) > self.window.as_secs() {
            return Err(AuthError::Stale);
        }
        let mut mac = self.mac.clone();
        feed(&mut mac, method, pq, secs, nonce, headers);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&sig).map_err(|_| AuthError::Mismatch)?;
        // Only a genuine signature spends its nonce, so forgeries cannot fill the table.
        if !self.nonces.first_use(nonce, now) {
            return Err(AuthError::Replayed);
        }
        Ok(())
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Whether a header is covered by the signature.
fn signed_header(name: &str) -> bool {
    (name.starts_with("x-") && name != SIGNATURE_HEADER) || name == "content-type" || name == "etag"
}

fn digest(mac: &Hmac<Sha256>, method: &Method, pq: &str, secs: u64, nonce: &str, headers: &HeaderMap) -> Vec<u8> {
    let mut mac = mac.clone();
    feed(&mut mac, method, pq, secs, nonce, headers);
    mac.finalize().into_bytes().to_vec()
}

/// The canonical request: one line each for the version, method, path, time and nonce, then
/// `name:value` lines of the signed headers sorted by name (repeated headers keep their order).
fn feed(mac: &mut Hmac<Sha256>, method: &Method, pq: &str, secs: u64, nonce: &str, headers: &HeaderMap) {
    for line in ["v1", method.as_str(), pq, &secs.to_string(), nonce] {
        mac.update(line.as_bytes());
        mac.update(b"\n");
    }
    let mut names: Vec<&str> = headers.keys().map(|n| n.as_str()).filter(|n| signed_header(n)).collect();
    names.sort_unstable();
    for name in names {
        for value in headers.get_all(name) {
            mac.update(name.as_bytes());
            mac.update(b":");
            mac.update(value.as_bytes());
            mac.update(b"\n");
        }
    }
}

#[cfg(test)]
mod tests;
