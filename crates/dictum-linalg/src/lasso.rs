//! LASSO and the elastic net by FISTA or ISTA as one fused operation of the seam
//! ([`Op::Lasso`](crate::backend::Op)): a device iterates many signals at once, one `G·Z`
//! product per iteration, with the codes resident, and returns them once.
//!
//! On the CPU, FISTA iterates blocks of 128 signals with one GEMM per iteration through the
//! seam; a device given those GEMMs one by one would move the block's codes across the bus
//! every iteration. The rules are the CPU's (`dictum-coding`'s `lasso` module; Beck &
//! Teboulle 2009 for FISTA): step `1/L`, soft thresholding (non-negative with `positive`),
//! the momentum sequence `t_{k+1} = (1 + √(1 + 4t_k²))/2`, and a signal stops when its duality
//! gap is at most `tol` times its objective, checked every `check_every` iterations, after
//! which it no longer moves.

use crate::csc::CscMatrix;
use crate::operand::Input;
use faer::MatRef;

/// One LASSO job: `min_x ½‖y − Dx‖² + λ‖x‖₁ + ½λ₂‖x‖²` for every column `y` of `signals`.
#[derive(Debug, Clone, Copy)]
pub struct Lasso<'a, T> {
    /// The dictionary `D`, `d x m` (usually resident).
    pub atoms: Input<'a, T>,
    /// Its Gram matrix `DᵀD`, `m x m` (usually resident).
    pub gram: Input<'a, T>,
    /// The signals, `d x N`, finite (checked by the caller).
    pub signals: MatRef<'a, T>,
    /// Codes to start from (`m x N`), else zero.
    pub init: Option<&'a CscMatrix<T>>,
    /// `λ`, the ℓ1 weight.
    pub lambda: f64,
    /// `λ₂`, the ℓ2 weight.
    pub lambda2: f64,
    /// Non-negative codes.
    pub positive: bool,
    /// FISTA's momentum (else ISTA).
    pub accelerated: bool,
    /// Iterations at most.
    pub max_iter: usize,
    /// Relative duality gap at which a signal stops.
    pub tol: f64,
    /// Iterations between gap checks.
    pub check_every: usize,
    /// The step's Lipschitz constant `L` (`σ_max(D)²·(1 + 1e-6) + λ₂` on the CPU).
    pub lipschitz: f64,
}
