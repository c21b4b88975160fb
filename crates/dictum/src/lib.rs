//! # dictum: sparse representations in Rust
//!
//! Sparse coding, dictionary learning (K-SVD and its batched variants, online learning),
//! non-negative factorisation (NMF, NPEFF) and the Sparse Manifold Transform, on any CPU and
//! (later) any GPU through wgpu. This facade re-exports the layers below it; the crates can
//! also be used on their own.
//!
//! **Data layout** (as in KSVD.jl and SPAMS): one signal per column. Signals `Y` are `d x N`,
//! a dictionary `D` is `d x m` with unit-norm columns, codes `X` are `m x N` and sparse
//! ([`CscMatrix`]); `Y ≈ D·X`. A C-order `N x d` `.npy` file (scikit-learn's layout) is read
//! as `d x N` without copying.
//!
//! What exists today:
//!
//! | module | what |
//! |---|---|
//! | [`linalg`] | views, GEMM/Gram, progressive Cholesky, leading singular triplet, thin SVD, (generalised) symmetric eigenproblems, CSC codes |
//! | [`io`] | `.npy`/`.npz` (memory-mapped, chunked), scipy sparse `.npz`, HDF5 (feature `hdf5`) |
//! | [`datasets`] | bundled digits, photographs and 8x8 patches |
//! | [`coding`] | sparse coding: MP, OMP/Batch-OMP/NN-OMP, LARS-LASSO, FISTA, thresholding; one call: [`encode`], fit: [`relative_error`] |
//! | [`smt`] | the Sparse Manifold Transform: patches, ZCA, dictionaries, general sparse coding, differential operators, the embedding, kNN |
//! | [`learn`] | dictionary learning: K-SVD (exact, approximate, batched parallel), MOD, online, k-means, amortized, task-driven ([`learn::dictionary`]); results saved and loaded with [`save_learned`], [`load_learned`]; NMF ([`learn::nmf`]); NPEFF ([`learn::npeff`], files in [`io::npeff`], classifiers in [`npeff`]) |
//!
//! Every encode and fit takes an execution context, [`Exec`]: threads ([`Par`]), the backend
//! the heavy products run on (the CPU by default), an [`Observer`] that sees progress and
//! iterations and can cancel, and the seed of every random choice.
//!
//! ```
//! use dictum::coding::{Dictionary, Encoder, Omp};
//! use dictum::learn::dictionary::Ksvd;
//! use dictum::{Exec, Learner, Par, datasets};
//! let digits = datasets::load_digits()?;            // 64 x 1797, one digit per column
//! let exec = Exec::new(Par::rayon(2)).with_seed(1);
//! let omp = Omp::new().n_nonzero_coefs(4).check()?; // parameters checked once
//! let fit = Ksvd::new(32, omp.clone()).max_iter(3).fit(digits.images.as_ref(), &exec)?;
//! let dict = Dictionary::new(fit.dictionary.as_ref())?;
//! let codes = omp.encode(&dict, digits.images.as_ref(), &exec)?;
//! assert_eq!((codes.nrows(), codes.ncols(), fit.n_iter), (32, 1797, 3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The Rust examples of the README and the guides in docs/ compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/coding.md")]
struct CodingGuideExamples;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/learn.md")]
struct LearnGuideExamples;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/nmf.md")]
struct NmfGuideExamples;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/npeff.md")]
struct NpeffGuideExamples;

mod encode;
mod learned;
pub mod npeff;
mod smt_model;

pub use dictum_coding as coding;
pub use dictum_coding::relative_error;
#[cfg(feature = "gpu")]
pub use dictum_gpu as gpu;
pub use dictum_io as io;
pub use dictum_io::datasets;
pub use dictum_learn as learn;
pub use dictum_learn::{Fit, IterationStats, Learner, StopReason};
pub use dictum_linalg as linalg;
pub use dictum_linalg::exec::{Event, Exec, Observer};
pub use dictum_linalg::{Cancelled, CscMatrix, Mat, MatMut, MatRef, Par, Precision, Real};
pub use dictum_smt as smt;
pub use encode::encode;
pub use learned::{load_learned, save_learned};
pub use smt_model::{load_smt_model, save_smt_model};

impl Error {
    /// Whether the computation was cancelled by the execution context's observer (a typed
    /// result, not a failure: nothing was written).
    pub fn is_cancelled(&self) -> bool {
        match self {
            Error::Coding(e) => e.is_cancelled(),
            Error::Learn(e) => e.is_cancelled(),
            Error::Smt(e) => e.is_cancelled(),
            _ => false,
        }
    }
}

/// Any error dictum returns: each variant wraps one layer's error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the linear-algebra layer.
    #[error(transparent)]
    Linalg(#[from] dictum_linalg::LinalgError),
    /// From the file layer.
    #[error(transparent)]
    Io(#[from] dictum_io::IoError),
    /// From sparse coding.
    #[error(transparent)]
    Coding(#[from] dictum_coding::CodingError),
    /// From dictionary learning.
    #[error(transparent)]
    Learn(#[from] dictum_learn::LearnError),
    /// From the Sparse Manifold Transform.
    #[error(transparent)]
    Smt(#[from] dictum_smt::SmtError),
    /// From the GPU backend (opening a device).
    #[cfg(feature = "gpu")]
    #[error(transparent)]
    Gpu(#[from] dictum_gpu::GpuError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
