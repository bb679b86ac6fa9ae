//! Static Large Objects: the step, manifest uploads, reads, deletes and the manifest format.

pub mod delete;
pub mod get;
pub mod manifest;
pub mod put;
pub mod step;
