//! Password hashes: argon2id in PHC string form, computed on a blocking thread (tens of
//! milliseconds of deliberate work each) behind the [`HashGate`], which bounds how many
//! run and wait at once.

use super::hash_gate::HashGate;
use crate::error::{Result, ShimError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;

pub fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&rand::thread_rng().gen::<[u8; 16]>())
        .map_err(|e| ShimError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ShimError::Internal(format!("hashing a password: {e}")))
}

pub fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

pub async fn hash(gate: &HashGate, password: String) -> Result<String> {
    gate.run(move || hash_blocking(&password)).await?
}

/// Whether `password` matches `hash`; [`ShimError::Busy`] when the gate is full.
pub async fn verify(gate: &HashGate, password: String, hash: String) -> Result<bool> {
    gate.run(move || verify_blocking(&password, &hash)).await
}

/// Spends the time of a real verification, so unknown user names cannot be told apart
/// from wrong passwords by timing (it passes the gate like a real one, too).
pub async fn burn(gate: &HashGate, password: String) -> Result<()> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    gate.run(move || {
        let hash = DUMMY.get_or_init(|| hash_blocking("swiftlet: no such user").unwrap_or_default());
        verify_blocking(&password, hash)
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_and_verify() {
        let h = super::hash_blocking("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify_blocking("s3cret", &h));
        assert!(!super::verify_blocking("S3cret", &h));
        assert!(!super::verify_blocking("s3cret", "not a hash"));
        assert_ne!(h, super::hash_blocking("s3cret").unwrap(), "salted");
    }
}
