//! The pipeline's mechanics: the [`step::Step`] trait every step implements, [`step::Next`]
//! (the rest of the pipeline), sub-requests, and the [`frontend::Frontend`] trait with the
//! facade a frontend (S3) runs Swift requests through. The steps themselves, and the one
//! ordered list of them, are in `middleware`.

pub mod frontend;
pub mod step;
pub mod subrequest;
