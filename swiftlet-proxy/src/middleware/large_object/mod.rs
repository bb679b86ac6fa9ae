//! What SLO, DLO and bulk share: the segment pump, byte ranges over a large object, and
//! the write check made before a body is read.

pub(crate) mod access;
pub(crate) mod pump;
pub(crate) mod ranges;
