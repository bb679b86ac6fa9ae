//! The broker's one error type. Servers map it to a status in their own `HttpError` impl.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("database {0} does not exist")]
    NotFound(PathBuf),
    #[error("database {0} already exists")]
    AlreadyExists(PathBuf),
    #[error("device {0} is not mounted")]
    Unmounted(String),
    #[error("invalid device: {0}")]
    BadDevice(String),
    #[error("{0}")]
    BadInput(String),
    #[error("database {path} quarantined to {to}: {reason}")]
    Quarantined { path: PathBuf, to: PathBuf, reason: String },
    #[error("database {path} has schema version {found}, newer than this build knows ({known})")]
    SchemaTooNew { path: PathBuf, found: i64, known: i64 },
    #[error("database {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("database file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("corrupt value in {path}: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{0}")]
    Failed(String),
    #[error("database worker stopped")]
    WorkerGone,
}

impl BrokerError {
    pub(crate) fn sqlite(path: &std::path::Path, source: rusqlite::Error) -> Self {
        BrokerError::Sqlite { path: path.to_owned(), source }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        BrokerError::Io { path: path.to_owned(), source }
    }

    /// Why this error means the file itself is damaged (and must be quarantined), if it does.
    pub fn corruption_reason(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode::*;
        match self {
            BrokerError::Sqlite { source: rusqlite::Error::SqliteFailure(e, _), .. } => match e.code {
                DatabaseCorrupt => Some("malformed database"),
                NotADatabase => Some("corrupted database"),
                SystemIoFailure => Some("disk error while accessing database"),
                _ => None,
            },
            BrokerError::Corrupt { .. } => Some("malformed row"),
            _ => None,
        }
    }
}

pub type Result<T, E = BrokerError> = std::result::Result<T, E>;
