//! The auditor hook: re-read one object, verify its metadata and body checksum, quarantine
//! it if damaged. The auditor daemon walks devices with [`DiskFileManager`] and calls this
//! for each hash; it blocks, so run it on a daemon thread or the device's pool.

use crate::diskfile::checksum::Algorithm;
use crate::diskfile::{DiskFileManager, ObjectState};
use crate::error::{Result, StoreError};
use common::Timestamp;

/// Block size for audit reads.
pub const AUDIT_BLOCK: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutcome {
    /// The body matched its checksum.
    Ok { bytes: u64 },
    /// Damaged: moved to `<dev>/quarantined/objects/`.
    Quarantined { reason: String },
    /// No data file (deleted, or gone meanwhile): nothing to check.
    NoData,
}

/// Verifies the object stored under `hash` in `partition` on the manager's device.
pub fn audit_object(manager: &DiskFileManager, partition: u32, hash: &str) -> Result<AuditOutcome> {
    let df = manager.diskfile_for_hash(partition, hash);
    // Expired objects are still on disk until the expirer deletes them: audit them too.
    let obj = match df.open_or_quarantine(Timestamp::now(), true) {
        Ok(ObjectState::Exists(obj)) => obj,
        Ok(_) => return Ok(AuditOutcome::NoData),
        Err(StoreError::Quarantined(reason)) => return Ok(AuditOutcome::Quarantined { reason }),
        Err(e) => return Err(e),
    };
    if Algorithm::stored_in(&obj.data_metadata).is_none() {
        manager.quarantine(partition, hash, "no body checksum in metadata")?;
        return Ok(AuditOutcome::Quarantined { reason: "no body checksum in metadata".into() });
    }
    match df.reader(&obj).verify(AUDIT_BLOCK) {
        Ok(bytes) => Ok(AuditOutcome::Ok { bytes }),
        Err(StoreError::Quarantined(reason)) => Ok(AuditOutcome::Quarantined { reason }),
        Err(e) => Err(e),
    }
}
