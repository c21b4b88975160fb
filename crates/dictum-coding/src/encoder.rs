//! The [`Encoder`] trait (what dictionary learning takes as its coding step) and [`Valid`],
//! encoder parameters checked once.

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, MatRef, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::error::Result;

/// A sparse coder: maps signals `Y` (`d x N`, one signal per column) to codes `X` (`m x N`,
/// sparse, CSC) with `Y ≈ D·X`.
///
/// The coders of this crate implement it once their parameters are checked
/// ([`Valid<Omp>`](crate::Omp), [`Valid<MatchingPursuit>`](crate::MatchingPursuit), …, and
/// [`Valid<Method>`](crate::Method), the choice made at run time), so coding many batches
/// checks nothing twice. Dictionary learning is generic over it, so any coder can be K-SVD's
/// or online learning's coding step.
pub trait Encoder<T: Real>: Send + Sync {
    /// A short name for logs and reports (`"batch-omp"`, `"lars"`, …).
    fn name(&self) -> &'static str;

    /// Codes every column of `signals` over `dict` under `exec` (threads, backend, progress
    /// and cancellation). The result has one column per signal and rows sorted within each
    /// column. Signals that were not checked up front are checked block by block.
    fn encode_signals(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>>;

    /// Codes every column of `signals` (checked for NaN and infinity as they are coded).
    fn encode(
        &self,
        dict: &Dictionary<'_, T>,
        signals: MatRef<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        self.encode_signals(dict, Signals::lazy(signals), exec)
    }
}

/// Parameters `P` that passed their checks: made only by the parameters' `check`, it is what
/// implements [`Encoder`], so nothing is checked again however many times it codes. It
/// dereferences to `P` for reading the parameters back.
///
/// ```
/// use dictum_coding::{Dictionary, Encoder, Omp};
/// use dictum_linalg::{exec::Exec, view};
/// assert!(Omp::new().check().is_err()); // no stopping rule
/// let omp = Omp::new().n_nonzero_coefs(1).check()?;
/// let d = [1.0f64, 0.0, 0.0, 1.0];
/// let y = [0.5f64, -2.0];
/// let dict = Dictionary::new(view::col_major(&d, 2, 2)?)?;
/// let x = omp.encode(&dict, view::col_major(&y, 2, 1)?, &Exec::default())?;
/// assert_eq!(x.col(0).0, &[1]);
/// # Ok::<(), dictum_coding::CodingError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<P>(P);

impl<P> Valid<P> {
    /// Wraps parameters that their own `check` has just validated.
    pub(crate) fn checked(params: P) -> Self {
        Self(params)
    }

    /// The parameters.
    pub fn params(&self) -> &P {
        &self.0
    }

    /// The parameters, to change them (they must then be checked again).
    pub fn into_params(self) -> P {
        self.0
    }
}

impl<P> std::ops::Deref for Valid<P> {
    type Target = P;

    fn deref(&self) -> &P {
        &self.0
    }
}
