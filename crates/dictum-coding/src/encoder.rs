//! The [`Encoder`] trait: what dictionary learning takes as its coding step.

use dictum_linalg::{CscMatrix, MatRef, Real};

use crate::dictionary::Dictionary;
use crate::error::Result;
use crate::run::RunOptions;

/// A sparse coder: maps signals `Y` (`d x N`, one signal per column) to codes `X` (`m x N`,
/// sparse, CSC) with `Y ≈ D·X`.
///
/// Every parameter struct of this crate implements it ([`Omp`](crate::Omp),
/// [`MatchingPursuit`](crate::MatchingPursuit), [`Lars`](crate::Lars), [`Fista`](crate::Fista),
/// [`Threshold`](crate::Threshold)), and so does [`Method`](crate::Method), the choice made at
/// run time. Dictionary learning is generic over it, so any coder can be K-SVD's or online
/// learning's coding step.
pub trait Encoder<T: Real>: Send + Sync {
    /// A short name for logs and reports (`"batch-omp"`, `"lars"`, …).
    fn name(&self) -> &'static str;

    /// Codes every column of `signals` over `dict`. Parameters are validated first; the
    /// result has one column per signal and rows sorted within each column.
    fn encode(
        &self,
        dict: &Dictionary<'_, T>,
        signals: MatRef<'_, T>,
        opts: &RunOptions<'_>,
    ) -> Result<CscMatrix<T>>;
}
