//! Password hashes: argon2id in PHC string form, computed on a blocking thread (tens of
//! milliseconds of deliberate work each).

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

pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| ShimError::Internal(format!("hash task: {e}")))?
}

pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_blocking(&password, &hash)).await.unwrap_or(false)
}

/// Spends the time of a real verification, so unknown user names cannot be told apart
/// from wrong passwords by timing.
pub async fn burn(password: String) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let _ = tokio::task::spawn_blocking(move || {
        let hash = DUMMY.get_or_init(|| hash_blocking("swiftlet: no such user").unwrap_or_default());
        verify_blocking(&password, hash)
    })
    .await;
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
