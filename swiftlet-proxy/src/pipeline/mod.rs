//! The pipeline's mechanics: the [`step::Step`] trait every step implements, [`step::Next`]
//! (the rest of the pipeline), sub-requests, and the [`frontend::Frontend`] trait with the
//! facade a frontend (S3) runs Swift requests through. The steps themselves, and the one
//! ordered list of them, are in `middleware`.

pub(crate) mod frontend;
pub(crate) mod step;
pub(crate) mod subrequest;
