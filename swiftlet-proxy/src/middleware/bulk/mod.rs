//! Bulk operations: bulk delete, and the report and heartbeat it shares with SLO.

pub mod delete;
pub mod heartbeat;
pub mod report;
