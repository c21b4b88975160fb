//! Sparse coding for dictum: for each signal `y` (a column of `Y`, `d x N`) find a code `x`
//! with few non-zeros such that `y ≈ D·x`, for a dictionary `D` (`d x m`, unit-norm columns).
//! Codes come back as an `m x N` [`CscMatrix`](dictum_linalg::CscMatrix), rows sorted.
//!
//! | coder | problem | type |
//! |---|---|---|
//! | Matching Pursuit | greedy, no re-fit | [`MatchingPursuit`] |
//! | OMP / Batch-OMP / NN-OMP | `min ‖y − Dx‖²` s.t. `‖x‖₀ ≤ k` and/or `‖y − Dx‖² ≤ tol` | [`Omp`] |
//! | LARS-LASSO, elastic net | `min ½‖y − Dx‖² + λ‖x‖₁ + ½λ₂‖x‖²` (exact, path) | [`Lars`], [`lars_path`] |
//! | FISTA / ISTA | the same, batched proximal gradient | [`Fista`] |
//! | thresholding | top-k, soft, relative, absolute | [`Threshold`] |
//!
//! | nested (Matryoshka) OMP | each atom prefix a dictionary of its own | [`Matryoshka`] |
//!
//! Every coder is a parameter struct with a builder whose `check` validates it once and
//! returns a [`Valid`] coder, which implements [`Encoder`] (the coding step dictionary
//! learning takes); [`Method`] picks one at run time. The dictionary is checked once, by
//! [`Dictionary::new`]: finite, unit-norm atoms (or use [`Dictionary::normalized`] to opt in
//! to normalization); [`Signals::new`] checks signals once for a learner that codes them many
//! times. Every encode runs under an execution context ([`Exec`](dictum_linalg::Exec):
//! threads, backend, progress and cancellation); the driver computes each block's `Dᵀ·Y`
//! through the context's backend and hands it to the coder. Signals are coded in blocks of
//! [`BLOCK`], in parallel under `Par::Rayon`; codes do not depend on the number of threads.
//! Degenerate input is handled, never turned into NaN: zero signals get empty codes, atoms
//! collinear with a support are skipped, and supports stop at the rank.
//!
//! ```
//! use dictum_coding::{Dictionary, Encoder, Omp};
//! use dictum_linalg::{Exec, Mat};
//! // D = [e1 e2 e3 (e1+e2)/√2] in R³; y uses atoms 0 and 2.
//! let s = std::f64::consts::FRAC_1_SQRT_2;
//! let d = Mat::from_fn(3, 4, |i, j| match (i, j) { (0, 0) | (1, 1) | (2, 2) => 1.0, (0, 3) | (1, 3) => s, _ => 0.0 });
//! let y = Mat::from_fn(3, 1, |i, _| [2.0, 0.0, -1.0][i]);
//! let dict = Dictionary::new(d.as_ref())?;
//! let x = Omp::new().n_nonzero_coefs(2).check()?.encode(&dict, y.as_ref(), &Exec::default())?;
//! assert_eq!(x.col(0).0, &[0, 2]);
//! # Ok::<(), dictum_coding::CodingError>(())
//! ```

// Index loops mirror the formulas of the papers; `!(a > b)` is deliberate: it is also true
// for NaN, which must take the degenerate branch.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

#[cfg(target_arch = "x86_64")]
mod avx512;
mod dictionary;
mod direction;
mod encoder;
mod error;
pub mod lasso;
pub mod matryoshka;
mod method;
pub mod mp;
mod nnls;
mod offload;
pub mod omp;
mod packed;
mod residual;
mod run;
pub mod threshold;
mod vector;

pub use dictionary::{Dictionary, Signals, UNIT_NORM_TOLERANCE};
pub use encoder::{Encoder, Valid};
pub use error::{CodingError, Result};
pub use lasso::{Fista, Lars, LarsPath, LassoGradient, lars_path, lasso_backward};
pub use matryoshka::Matryoshka;
pub use method::Method;
pub use mp::{GramUse, MatchingPursuit};
pub use omp::{Omp, OmpVariant, Selection};
pub use residual::{relative_error, residual_norms};
pub use run::BLOCK;
pub use threshold::{Threshold, ThresholdRule};
