//! Non-negative matrix factorization as one fused operation of the seam
//! ([`Op::Factorize`](crate::backend::Op)): the iterations of HALS or of the multiplicative
//! updates run on a device with `V`, `W` and `H` resident there, and each iteration sends
//! back only the few sums its statistics need.
//!
//! On the CPU every product of an iteration goes through the seam and the updates run
//! between them; a device that ran only the products would move `W`, `H` and four
//! `r`-wide products across the bus twice per iteration. A backend that implements
//! `Kernels::factorize` instead keeps the factors and runs the updates as kernels. The rules
//! are the CPU's (`dictum-learn`'s `nmf` module): HALS sweeps (Cichocki & Phan 2009; Gillis
//! & Glineur 2012), Lee & Seung's multiplicative updates for the Frobenius loss and the
//! generalised Kullback–Leibler divergence, with the same penalties and guards.

use crate::csc::CscMatrix;
use faer::MatRef;

/// The update rule of a [`Factorization`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorRule {
    /// HALS: `sweeps` coordinate sweeps over `H`'s rows, then over `W`'s columns, per
    /// iteration.
    Hals {
        /// Sweeps per factor and iteration.
        sweeps: usize,
    },
    /// Multiplicative updates for the Frobenius loss.
    Frobenius,
    /// Multiplicative updates for the generalised Kullback–Leibler divergence.
    KullbackLeibler,
}

/// The data `V` (`n x p`, non-negative, finite; checked by the caller).
#[derive(Debug, Clone, Copy)]
pub enum FactorData<'a, T> {
    /// Dense.
    Dense(MatRef<'a, T>),
    /// Sparse, by columns and by rows (`Vᵀ` in CSC form).
    Sparse {
        /// `V` in CSC form.
        cols: &'a CscMatrix<T>,
        /// `Vᵀ` in CSC form.
        rows: &'a CscMatrix<T>,
    },
}

impl<T: crate::real::Real> FactorData<'_, T> {
    /// `(n, p)`.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Self::Dense(v) => (v.nrows(), v.ncols()),
            Self::Sparse { cols, .. } => (cols.nrows(), cols.ncols()),
        }
    }
}

/// One factorization job: at most `max_iter` iterations of `rule` on `data` from the factors
/// the call is given.
#[derive(Debug, Clone, Copy)]
pub struct Factorization<'a, T> {
    /// `V`.
    pub data: FactorData<'a, T>,
    /// The update rule.
    pub rule: FactorRule,
    /// `(ℓ1, ℓ2)` penalty weights on `W`.
    pub penalty_w: (f64, f64),
    /// `(ℓ1, ℓ2)` penalty weights on `H`.
    pub penalty_h: (f64, f64),
    /// The multiplicative rules' guard against division by zero.
    pub eps: f64,
    /// Iterations at most.
    pub max_iter: usize,
}

/// What one iteration measured, after both factors were updated: the sums from which the
/// caller forms its objective and relative error without `W·H`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FactorStep {
    /// Iteration number, from 1.
    pub iter: usize,
    /// `tr(Wᵀ·V·Hᵀ)`.
    pub cross: f64,
    /// `tr(WᵀW·HHᵀ)`, so that `‖V − WH‖² = ‖V‖² − 2·cross + quad`.
    pub quad: f64,
    /// `(Σ w, Σ w²)` over `W`'s entries.
    pub w_sums: (f64, f64),
    /// `(Σ h, Σ h²)` over `H`'s entries.
    pub h_sums: (f64, f64),
    /// Non-zero entries of `H`.
    pub h_nonzeros: usize,
    /// For the KL rule: `Σ_{v>0} v·ln(v / ((WH) + eps)) − v` and `Σ (WH)`.
    pub kl: Option<(f64, f64)>,
}
