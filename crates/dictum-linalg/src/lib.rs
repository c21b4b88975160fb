//! Dense and sparse linear algebra for dictum, generic over `f32` and `f64`.
//!
//! Everything here works on column-major matrices with **one signal per column** (see
//! [`view`] for the layout): signals `Y` are `d x N`, a dictionary `D` is `d x m` with unit-norm
//! columns, sparse codes `X` are `m x N` ([`CscMatrix`]). Dense storage and kernels are
//! [faer](https://docs.rs/faer)'s; every kernel that can use threads takes a [`Par`].
//!
//! The algorithms above this crate do not call those kernels for their heavy products: they
//! go through the execution context, [`Exec`] ([`exec`]: threads, backend, observer, seed),
//! which runs them on the context's [`backend`] (the CPU, or a device behind the same
//! trait) and falls back to the CPU for what a backend declines.
//!
//! | task | function |
//! |---|---|
//! | view a buffer as a matrix, no copy | [`view::col_major`], [`view::samples_as_rows`] |
//! | correlations `Dᵀ·Y`, products | [`gemm::gemm_tn`], [`gemm::gemm_nn`] |
//! | Gram matrix `Dᵀ·D` | [`gemm::gram`] |
//! | column norms, unit-norm atoms | [`norms::column_norms`], [`norms::normalize_columns`] |
//! | Cholesky: dense, and grown one column at a time (OMP) | [`cholesky::cholesky_lower`], [`cholesky::CholeskyAppend`] |
//! | triangular solves | [`triangular`] |
//! | top singular triplet (K-SVD), thin SVD | [`svd::leading_singular_triplet`], [`svd::thin_svd`] |
//! | symmetric and generalised eigenproblems (SMT) | [`eigen`] |
//! | sparse codes and sparse×dense products | [`CscMatrix`] |
//! | the same products on the context's backend | [`Exec::gemm`], [`Exec::gram`], [`Exec::sparse_product`], [`Exec::outer_products`], [`Exec::column_norms`] |
//!
//! ```
//! use dictum_linalg::{Par, gemm, view};
//! let d = [1.0f64, 0.0, 0.0, 1.0]; // 2x2 identity dictionary
//! let y = [3.0f64, 4.0]; // one signal
//! let c = gemm::gemm_tn(view::col_major(&d, 2, 2)?, view::col_major(&y, 2, 1)?, Par::Seq)?;
//! assert_eq!((c[(0, 0)], c[(1, 0)]), (3.0, 4.0));
//! # Ok::<(), dictum_linalg::LinalgError>(())
//! ```

mod atoms;
pub mod backend;
pub mod cholesky;
pub mod csc;
pub mod eigen;
pub mod error;
pub mod exec;
mod factorization;
pub mod gemm;
mod lasso;
pub mod norms;
mod operand;
mod pursuit;
pub mod real;
pub mod simd;
pub mod svd;
pub mod triangular;
pub mod view;

pub use csc::{CscBuilder, CscMatrix};
pub use error::{LinalgError, Result};
pub use exec::{Cancelled, Exec};
pub use faer::{Mat, MatMut, MatRef, Par};
pub use real::{Precision, Real};
