//! Bulk operations: bulk delete, and the report and heartbeat it shares with SLO.

pub(crate) mod delete;
pub(crate) mod heartbeat;
pub(crate) mod report;
