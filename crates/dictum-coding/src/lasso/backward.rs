//! The backward pass of LASSO / elastic-net coding: the vector-Jacobian product of the codes
//! `x*(D, y)` with respect to the dictionary and the signals (Mairal, Bach & Ponce,
//! *Task-driven dictionary learning*, IEEE TPAMI 2012, Prop. 1), so that sparse coding can sit
//! inside a model trained by gradients, as the sparse-dictionary VQ-VAE does.
//!
//! On the support `Λ` of `x*` the codes solve `(D_Λᵀ·D_Λ + λ₂I)·x_Λ = D_Λᵀ·y − λ·sign(x_Λ)`,
//! and off it they are zero, locally constant in `(D, y)`. For an upstream gradient
//! `g = ∂L/∂x`, with `β_Λ = (D_Λᵀ·D_Λ + λ₂I)⁻¹·g_Λ` and `β` zero off `Λ`:
//!
//! ```text
//!     ∂L/∂D = −D·β·x*ᵀ + (y − D·x*)·βᵀ          ∂L/∂y = D·β
//! ```
//!
//! summed over signals for `D`. With `λ₂ = 0` the solve needs `D_Λ` of full column rank, which
//! LARS guarantees for its supports; `λ₂ > 0` makes the map differentiable almost everywhere.

use dictum_linalg::cholesky::CholeskyAppend;
use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use crate::error::{CodingError, Result};

/// Gradients returned by [`lasso_backward`].
#[derive(Debug, Clone, PartialEq)]
pub struct LassoGradient<T> {
    /// `∂L/∂D`, `d x m`, summed over the signals.
    pub dictionary: Mat<T>,
    /// `∂L/∂Y`, `d x N`, one column per signal.
    pub signals: Mat<T>,
}

/// Backpropagates `grad_codes = ∂L/∂X` (`m x N`, dense) through the LASSO / elastic-net codes
/// `codes` of `signals` over `dict` with ridge `lambda2` (the same `λ₂` the codes were
/// computed with). See the module documentation for the formulas.
pub fn lasso_backward<T: Real>(
    dict: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    codes: &CscMatrix<T>,
    grad_codes: MatRef<'_, T>,
    lambda2: f64,
) -> Result<LassoGradient<T>> {
    let (d, m, n) = (dict.nrows(), dict.ncols(), signals.ncols());
    let shape = |what: &'static str, expected: String, found: String| CodingError::ShapeMismatch {
        method: "lasso_backward",
        what,
        expected,
        found,
        hint: "pass the dictionary, signals and codes of one forward pass, and ∂L/∂X shaped like the codes",
    };
    if signals.nrows() != d {
        return Err(shape(
            "signals",
            format!("{d} rows"),
            format!("{} x {}", signals.nrows(), n),
        ));
    }
    if codes.nrows() != m || codes.ncols() != n {
        return Err(shape(
            "codes",
            format!("{m} x {n}"),
            format!("{} x {}", codes.nrows(), codes.ncols()),
        ));
    }
    if grad_codes.nrows() != m || grad_codes.ncols() != n {
        return Err(shape(
            "grad_codes",
            format!("{m} x {n}"),
            format!("{} x {}", grad_codes.nrows(), grad_codes.ncols()),
        ));
    }
    if !(lambda2.is_finite() && lambda2 >= 0.0) {
        return Err(crate::error::invalid(
            "lasso_backward",
            "lambda2",
            lambda2,
            "the ridge weight must be finite and >= 0",
        ));
    }
    let l2 = T::cast_f64(lambda2);
    let mut out = LassoGradient {
        dictionary: Mat::zeros(d, m),
        signals: Mat::zeros(d, n),
    };
    let mut chol = CholeskyAppend::<T>::with_capacity(m.min(d.max(1)).max(1));
    let mut cross = Vec::new();
    let (mut db, mut r) = (vec![T::zero(); d], vec![T::zero(); d]);
    for j in 0..n {
        let (rows, vals) = codes.col(j);
        let s = rows.len();
        if s == 0 {
            continue;
        }
        if chol.capacity() < s {
            chol = CholeskyAppend::with_capacity(s);
        }
        chol.clear();
        for (t, &a) in rows.iter().enumerate() {
            let da = dict.col(a as usize);
            cross.clear();
            for &b in &rows[..t] {
                let dbc = dict.col(b as usize);
                cross.push((0..d).fold(T::zero(), |acc, i| acc + da[i] * dbc[i]));
            }
            let diag = (0..d).fold(T::zero(), |acc, i| acc + da[i] * da[i]) + l2;
            chol.push(&cross, diag).map_err(|_| {
                crate::error::invalid(
                    "lasso_backward",
                    "codes",
                    format!("signal {j}: support atoms are linearly dependent"),
                    "use lambda2 > 0 (elastic net) or codes from LARS, whose supports are independent",
                )
            })?;
        }
        let mut beta: Vec<T> = rows.iter().map(|&a| grad_codes[(a as usize, j)]).collect();
        chol.solve_in_place(&mut beta)?;
        db.iter_mut().for_each(|v| *v = T::zero());
        for (i, ri) in r.iter_mut().enumerate() {
            *ri = signals[(i, j)];
        }
        for ((&a, &b), &x) in rows.iter().zip(&beta).zip(vals) {
            let da = dict.col(a as usize);
            for i in 0..d {
                db[i] += da[i] * b;
                r[i] -= da[i] * x;
            }
        }
        for ((&a, &b), &x) in rows.iter().zip(&beta).zip(vals) {
            for i in 0..d {
                out.dictionary[(i, a as usize)] += r[i] * b - db[i] * x;
            }
        }
        for i in 0..d {
            out.signals[(i, j)] = db[i];
        }
    }
    Ok(out)
}
