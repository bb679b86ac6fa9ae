//! Rate limiting: the step, and the per-key schedules it books.

pub(crate) mod limit;
pub(crate) mod schedules;
