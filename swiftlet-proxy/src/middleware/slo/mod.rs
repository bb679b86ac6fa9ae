//! Static Large Objects: the step, manifest uploads, reads, deletes and the manifest format.

pub(crate) mod delete;
pub(crate) mod get;
pub(crate) mod manifest;
pub(crate) mod put;
pub(crate) mod step;
