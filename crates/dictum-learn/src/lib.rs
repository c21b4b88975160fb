//! Dictionary learning for dictum: K-SVD and its batched variants, MOD, online, k-means,
//! amortized and task-driven learning and the machinery they share (initialisation, atom
//! replacement, stopping rules, history); non-negative factorization (NMF) and NPEFF.
//!
//! Every learner is a [`Learner`]: parameters checked once, then fitted to data (signals as
//! matrix views, `d x N`, one signal per column; NMF's dense or sparse matrix; NPEFF's PEFs)
//! under an execution context ([`Exec`](dictum_linalg::Exec): threads, backend, progress and
//! cancellation, seed), returning a [`Fit`] with one [`IterationStats`] per iteration and a
//! [`StopReason`]. Dictionary learners take any [`Encoder`](dictum_coding::Encoder) of
//! `dictum-coding` as their coding step. This crate knows no file formats; `dictum-io` and
//! the `dictum` facade read and write its models.

// Numerical loops index several arrays in lockstep; index loops say that more plainly than
// zipped iterators.
#![allow(clippy::needless_range_loop)]

mod adam;
pub mod denoise;
pub mod dictionary;
pub mod error;
mod fit;
pub mod nmf;
pub mod npeff;
pub mod patches;
pub mod rng;

pub use dictum_linalg::exec::IterationStats;
pub use error::{LearnError, Result};
pub use fit::{Fit, Learner, StopReason, Stopping};
