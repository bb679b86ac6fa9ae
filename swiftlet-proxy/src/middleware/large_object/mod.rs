//! What SLO and DLO share: the segment pump and byte ranges over a large object.

pub(crate) mod pump;
pub(crate) mod ranges;
