//! Dictionary learning for dictum: K-SVD and its batched variants, MOD, online, k-means,
//! amortized and task-driven learning and the machinery they share (initialisation, atom
//! replacement, stopping rules, history); non-negative factorization (NMF) and NPEFF.
//!
//! Learners take signals as matrix views (`d x N`, one signal per column) and any
//! [`Encoder`](dictum_coding::Encoder) of `dictum-coding` as their coding step; file formats
//! live in `dictum-io`.

// Numerical loops index several arrays in lockstep; index loops say that more plainly than
// zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod denoise;
pub mod dictionary;
pub mod error;
pub mod nmf;
pub mod npeff;
pub mod patches;
pub mod rng;

pub use error::{LearnError, Result};
