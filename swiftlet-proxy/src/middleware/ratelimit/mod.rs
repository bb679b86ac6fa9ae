//! Rate limiting: the step, and the per-key schedules it books.

pub mod limit;
pub mod schedules;
