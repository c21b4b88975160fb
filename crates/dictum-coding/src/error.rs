//! The error type of `dictum-coding`.

use dictum_linalg::{Cancelled, LinalgError};

/// Everything that can go wrong in sparse coding. Each message says what was wrong and how to
/// fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodingError {
    /// A parameter is out of its range.
    #[error("{method}: invalid parameter {name} = {value}: {hint}")]
    InvalidParameter {
        /// The encoder.
        method: &'static str,
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        hint: &'static str,
    },
    /// The sparsity target is larger than the number of atoms.
    #[error(
        "{method}: n_nonzero_coefs = {k} exceeds the number of atoms m = {m}; lower it or use a \
         dictionary with more atoms"
    )]
    SparsityExceedsAtoms {
        /// The encoder.
        method: &'static str,
        /// Requested non-zeros per signal.
        k: usize,
        /// Atoms in the dictionary.
        m: usize,
    },
    /// Neither a sparsity target nor a residual tolerance was given.
    #[error(
        "{method}: no stopping rule; set n_nonzero_coefs (k), tol (squared residual norm), or both"
    )]
    NoStoppingRule {
        /// The encoder.
        method: &'static str,
    },
    /// Signals and dictionary (or another input) disagree in shape.
    #[error("{method}: {what}: expected {expected}, found {found}; {hint}")]
    ShapeMismatch {
        /// The encoder or step.
        method: &'static str,
        /// Which input.
        what: &'static str,
        /// The shape required.
        expected: String,
        /// The shape given.
        found: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// An input is empty.
    #[error("{what} is empty ({nrows}x{ncols}); pass at least one row and one column")]
    Empty {
        /// Which input.
        what: &'static str,
        /// Rows given.
        nrows: usize,
        /// Columns given.
        ncols: usize,
    },
    /// An atom of the dictionary is not unit-norm.
    #[error(
        "dictionary atom {atom} has norm {norm} (sparse coding assumes unit-norm atoms); \
         normalize the dictionary first (Dictionary::normalized makes a unit-norm copy)"
    )]
    NotNormalized {
        /// Index of the first offending atom.
        atom: usize,
        /// Its Euclidean norm.
        norm: f64,
    },
    /// An atom is zero, so it cannot be normalized.
    #[error(
        "dictionary atom {atom} is zero (or not finite); remove it or replace it before coding"
    )]
    ZeroAtom {
        /// Index of the first zero atom.
        atom: usize,
    },
    /// The execution context's observer cancelled the run; nothing was returned.
    #[error("sparse coding was cancelled; no codes were returned")]
    Cancelled,
    /// A linear-algebra step failed.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

impl From<Cancelled> for CodingError {
    fn from(_: Cancelled) -> Self {
        Self::Cancelled
    }
}

impl CodingError {
    /// Whether the run was cancelled (rather than failing).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

/// `Result` with [`CodingError`].
pub type Result<T, E = CodingError> = std::result::Result<T, E>;

/// A helper for parameter errors.
pub(crate) fn invalid(
    method: &'static str,
    name: &'static str,
    value: impl std::fmt::Display,
    hint: &'static str,
) -> CodingError {
    CodingError::InvalidParameter {
        method,
        name,
        value: value.to_string(),
        hint,
    }
}

/// Checks the stopping rule shared by the greedy coders (OMP, MP): a sparsity target `k ≥ 1`,
/// a squared-residual tolerance `tol ≥ 0`, or both.
pub(crate) fn check_stopping_rule(
    method: &'static str,
    k: Option<usize>,
    tol: Option<f64>,
) -> Result<()> {
    if k.is_none() && tol.is_none() {
        return Err(CodingError::NoStoppingRule { method });
    }
    if k == Some(0) {
        return Err(invalid(
            method,
            "n_nonzero_coefs",
            0,
            "must be at least 1 (or unset, to stop by tol only)",
        ));
    }
    if let Some(t) = tol
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(invalid(
            method,
            "tol",
            t,
            "must be a finite squared residual norm >= 0",
        ));
    }
    Ok(())
}
