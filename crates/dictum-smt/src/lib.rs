//! The Sparse Manifold Transform (Chen, Paiton & Olshausen, *The Sparse Manifold Transform*,
//! NeurIPS 2018; Chen, Yun, Ma, Olshausen & LeCun, *Minimalistic Unsupervised Representation
//! Learning with the Sparse Manifold Transform*, ICLR 2023).
//!
//! SMT first expands signals into sparse codes over an overcomplete dictionary, then
//! contracts the codes linearly into a low-dimensional embedding in which neighbours (in time,
//! or in space for the patches of one image) move slowly:
//!
//! 1. [`patches`]: `p x p` patches of images, context mean removed; [`whiten`]: ZCA.
//! 2. [`dictionary`]: k-means / spherical k-means atoms, or greedily chosen data patches.
//! 3. [`coding`]: general sparse coding (every atom within a cosine threshold), or any
//!    encoder of `dictum-coding`.
//! 4. [`operator`]: the first or second derivative over temporal or spatial neighbours.
//! 5. [`embed`]: `min ‖P·A·D‖²_F` s.t. `P·V·Pᵀ = I`, a generalized symmetric eigenproblem
//!    over `m x m` sums accumulated in bounded memory.
//! 6. [`knn`]: pooled image features and the cosine (soft) kNN classifier.
//!
//! [`pipeline::ImageSmt`] runs steps 1–5 on images, streaming them in chunks, and its
//! [`SmtModel`] turns images into features.
//! [`manifold`] holds the synthetic circle and disk whose embeddings are known.

// Numerical loops index several arrays in lockstep.
#![allow(clippy::needless_range_loop)]

pub mod coding;
pub mod dictionary;
pub mod embed;
pub mod error;
pub mod knn;
pub mod manifold;
pub mod operator;
pub mod patches;
pub mod pipeline;
pub mod whiten;

pub use coding::GeneralCoding;
pub use embed::{Covariances, EigenSolver, Embedding, SmtEmbedding};
pub use error::{Result, SmtError};
pub use knn::{Knn, KnnScore, pool_images};
pub use operator::{Derivative, DifferentialOperator, Neighbourhood};
pub use patches::{MeanRemoval, PatchExtractor};
pub use pipeline::{DictionaryKind, ImageSmt, SmtModel, stage};
pub use whiten::{MomentAccumulator, Zca};
