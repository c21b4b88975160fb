//! LASSO and elastic net: ℓ1-regularized sparse coding.
//!
//! Both coders here minimize, for each signal `y`, the objective of SPAMS (`lasso`, mode 2)
//! and scikit-learn (`SparseCoder(transform_alpha=λ)`, which rescales internally to the same):
//!
//! ```text
//!     ½‖y − D·x‖₂² + λ‖x‖₁ + ½λ₂‖x‖₂²        (optionally subject to x ≥ 0)
//! ```
//!
//! `λ` is [`lambda`](Lars::lambda), `λ₂` the elastic-net ridge [`lambda2`](Lars::lambda2)
//! (0 by default). Note that scikit-learn's `Lasso(alpha)` on a single regression divides the
//! squared loss by the number of samples; `SparseCoder` undoes that, so its `transform_alpha`
//! is this `λ`.
//!
//! - [`Lars`]: the homotopy / LARS-LASSO algorithm (Osborne, Presnell & Turlach 2000; Efron,
//!   Hastie, Johnstone & Tibshirani, *Least angle regression*, Ann. Stat. 2004) follows the
//!   piecewise-linear solution path from `λ = ‖Dᵀy‖∞` down to the requested `λ`; the result is
//!   exact up to rounding. [`lars_path`] returns the whole path for one signal.
//! - [`Fista`]: accelerated proximal gradient (Beck & Teboulle, *A fast iterative
//!   shrinkage-thresholding algorithm*, SIAM J. Imaging Sci. 2009), batched so that each
//!   iteration over a block of signals is one GEMM with the Gram matrix (as the parallel FISTA
//!   of SparseVQVAE), with warm starts and a duality-gap stopping rule; ISTA without the
//!   momentum.
//! - [`lasso_backward`]: the vector-Jacobian product of the codes with respect to `D` and `Y`
//!   (task-driven dictionary learning; sparse coding inside a gradient-trained model).

mod backward;
mod fista;
mod lars;

pub use backward::{LassoGradient, lasso_backward};
pub use fista::Fista;
pub use lars::{Lars, LarsPath, lars_path};

use crate::error::{Result, invalid};

/// Checks `λ ≥ 0` and `λ₂ ≥ 0` (finite).
fn check_penalties(method: &'static str, lambda: f64, lambda2: f64) -> Result<()> {
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(invalid(
            method,
            "lambda",
            lambda,
            "the l1 weight must be finite and >= 0",
        ));
    }
    if !(lambda2.is_finite() && lambda2 >= 0.0) {
        return Err(invalid(
            method,
            "lambda2",
            lambda2,
            "the ridge weight must be finite and >= 0",
        ));
    }
    Ok(())
}
