//! TOML config loading: every server's config is one serde struct with a default for every key.

use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config {path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
}

/// Loads `T` from a TOML file, or its defaults when no file is given.
pub fn load<T: DeserializeOwned + Default>(path: Option<&Path>) -> Result<T, ConfigError> {
    let Some(path) = path else { return Ok(T::default()) };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_owned(), source: Box::new(e) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Demo {
        port: u16,
        name: String,
    }

    #[test]
    fn defaults_and_errors() {
        assert_eq!(load::<Demo>(None).unwrap(), Demo::default());
        let dir = std::env::temp_dir().join(format!("swiftlet-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "port = 7\n").unwrap();
        assert_eq!(load::<Demo>(Some(&f)).unwrap().port, 7);
        std::fs::write(&f, "port = 'x'\n").unwrap();
        assert!(matches!(load::<Demo>(Some(&f)), Err(ConfigError::Parse { .. })));
        assert!(matches!(load::<Demo>(Some(&dir.join("missing"))), Err(ConfigError::Read { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
