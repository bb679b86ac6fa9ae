//! Where a body check that fails mid-stream (a signed payload, a chunk signature) leaves
//! its error for the handler.

use crate::error::S3Error;

/// Where a body check that fails mid-stream leaves its S3 error, so the handler can answer
/// with it instead of the storage layer's "client disconnected".
#[derive(Debug, Clone, Default)]
pub struct BodyFailure(std::sync::Arc<std::sync::Mutex<Option<S3Error>>>);

impl BodyFailure {
    pub fn set(&self, e: S3Error) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }

    pub fn take(&self) -> Option<S3Error> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
