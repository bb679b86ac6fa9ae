//! Object versioning (Swift's legacy `versioned_writes`): the step and its sub-requests.

pub mod archive;
pub mod writes;
