//! The secrets a server starts with, checked before it serves: the placement secret
//! (`[hash_path]`) must be set, and the backend key must be present and private. Servers
//! refuse to start otherwise; only `saio` makes its own (and says so). Files that hold a
//! secret are written with [`write_private`].

use crate::backend_auth::{BackendAuth, BackendConfig, BackendKey, KeyError};
use crate::hash::HashPathSecret;
use std::io::Write;
use std::path::Path;

/// Why a server's secrets are not usable.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "[hash_path] prefix and suffix are both empty: set suffix to a long random string, the same on \
         every host of the cluster (or SWIFTLET_HASH_PATH_SUFFIX)"
    )]
    EmptyHashPath,
    #[error(transparent)]
    BackendKey(#[from] KeyError),
}

/// What a storage server needs of the cluster's secrets.
#[derive(Clone)]
pub struct Secrets {
    /// Places names on the ring and on disk; never changes in a cluster's life.
    pub hash_path: HashPathSecret,
    /// Signs and checks every request between the cluster's servers.
    pub backend: BackendAuth,
}

impl Secrets {
    /// The secrets of a config, environment overrides applied, or why they are unusable.
    pub fn load(hash_path: &HashPathSecret, backend: &BackendConfig) -> Result<Secrets, SecretError> {
        Secrets::check(hash_path.clone().with_env_overrides(), backend.load_key(), backend)
    }

    /// Secrets with a new random backend key (saio makes its cluster's this way, once).
    pub fn with_new_backend_key(hash_path: HashPathSecret) -> Secrets {
        let backend = BackendConfig::default();
        Secrets { hash_path, backend: BackendAuth::new(&BackendKey::generate(), backend.window()) }
    }

    fn check(
        hash_path: HashPathSecret,
        key: Result<BackendKey, KeyError>,
        backend: &BackendConfig,
    ) -> Result<Secrets, SecretError> {
        if hash_path.prefix.is_empty() && hash_path.suffix.is_empty() {
            return Err(SecretError::EmptyHashPath);
        }
        Ok(Secrets { hash_path, backend: BackendAuth::new(&key?, backend.window()) })
    }
}

/// Writes `contents` to `path` readable by its owner only (mode 0600): a temp file in the
/// same directory, fsynced, renamed over `path`, then the directory fsynced, so a crash
/// leaves the old file or the new one, never a torn or world-readable one.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_replace_atomically() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.toml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
    }

    #[test]
    fn empty_placement_secret_or_missing_key_refuse_to_start() {
        let cfg = BackendConfig::default();
        let key = || Ok(BackendKey::generate());
        assert!(matches!(Secrets::check(HashPathSecret::default(), key(), &cfg), Err(SecretError::EmptyHashPath)));
        let set = HashPathSecret::new("", "s3cr3t");
        assert!(Secrets::check(set.clone(), key(), &cfg).is_ok());
        let err = Secrets::check(set, cfg.load_key_from(None), &cfg).err().unwrap();
        assert!(err.to_string().contains("no backend key"), "{err}");
    }
}
