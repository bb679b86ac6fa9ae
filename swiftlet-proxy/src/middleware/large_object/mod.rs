//! What SLO and DLO share: the segment pump and byte ranges over a large object.

pub mod pump;
pub mod ranges;
