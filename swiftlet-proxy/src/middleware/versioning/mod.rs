//! Object versioning (Swift's legacy `versioned_writes`): the step and its sub-requests.

pub(crate) mod archive;
pub(crate) mod writes;
