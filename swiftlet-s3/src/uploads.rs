//! Multipart upload ids: 32 random hex digits.

use rand::Rng;

/// A fresh upload id: 32 hex digits.
pub(crate) fn new_upload_id() -> String {
    hex::encode(rand::thread_rng().gen::<[u8; 16]>())
}

pub(crate) fn is_upload_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
