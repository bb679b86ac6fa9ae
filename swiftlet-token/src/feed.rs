//! The revocation feed on the wire: `GET /v3/OS-REVOKE/events` on the identity service
//! answers `{"events": [...]}`. Besides an admin token, the identity service accepts a
//! short-lived signature made with a key derived from the token signing key, so a
//! service that validates tokens (the proxy) can poll without an account of its own.
//!
//! The signature header is `<unix seconds>.<base64url HMAC-SHA256>` over a fixed label
//! and the time; it is accepted within [`FEED_AUTH_WINDOW`] seconds of the server's
//! clock and checked in constant time. A captured header only lets its holder read the
//! events (token ids and user and project ids, none of them credentials) for that long.

use crate::revocation::RevocationEvent;
use crate::KeystoneTokens;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const EVENTS_PATH: &str = "/v3/OS-REVOKE/events";
pub const FEED_AUTH_HEADER: &str = "x-swiftlet-revocation-auth";
/// How far a signature's time may be from the server's clock.
pub const FEED_AUTH_WINDOW: u64 = 300;

/// The feed's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<RevocationEvent>,
}

/// Signs and checks feed requests; derived from the token key, never the key itself.
#[derive(Clone)]
pub struct FeedKey {
    key: [u8; 32],
}

impl std::fmt::Debug for FeedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedKey(..)")
    }
}

impl FeedKey {
    pub fn new(tokens: &KeystoneTokens) -> Self {
        let mut mac = HmacSha256::new_from_slice(tokens.key()).expect("HMAC takes any key length");
        mac.update(b"swiftlet-revocation-feed-v1");
        FeedKey { key: mac.finalize().into_bytes().into() }
    }

    fn mac(&self, time: u64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"GET ");
        mac.update(EVENTS_PATH.as_bytes());
        mac.update(b"\n");
        mac.update(time.to_string().as_bytes());
        mac
    }

    /// The header value for a request made at `now`.
    pub fn sign(&self, now: u64) -> String {
        format!("{now}.{}", URL_SAFE_NO_PAD.encode(self.mac(now).finalize().into_bytes()))
    }

    /// Whether `value` is a signature made with this key within the window around `now`.
    pub fn verify(&self, value: &str, now: u64) -> bool {
        let Some((time, sig)) = value.split_once('.') else { return false };
        let Ok(time) = time.parse::<u64>() else { return false };
        if time.abs_diff(now) > FEED_AUTH_WINDOW {
            return false;
        }
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else { return false };
        // verify_slice compares in constant time.
        self.mac(time).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_expire_and_need_the_key() {
        let key = FeedKey::new(&KeystoneTokens::from_key([3; 32]));
        let sig = key.sign(1000);
        assert!(key.verify(&sig, 1000) && key.verify(&sig, 1000 + FEED_AUTH_WINDOW));
        assert!(key.verify(&sig, 1000 - FEED_AUTH_WINDOW), "a clock a little behind");
        assert!(!key.verify(&sig, 1001 + FEED_AUTH_WINDOW), "too old");
        let other = FeedKey::new(&KeystoneTokens::from_key([4; 32]));
        assert!(!other.verify(&sig, 1000));
        let moved = sig.replacen("1000", "1001", 1);
        assert!(!key.verify(&moved, 1000), "the time is signed");
        for bad in ["", "1000", "x.y", "1000.!!", "1000."] {
            assert!(!key.verify(bad, 1000), "{bad}");
        }
        assert_eq!(format!("{key:?}"), "FeedKey(..)");
    }
}
