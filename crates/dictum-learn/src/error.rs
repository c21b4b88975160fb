//! The error type of `dictum-learn`.

use dictum_coding::CodingError;
use dictum_linalg::{Cancelled, LinalgError};

/// Everything that can go wrong while learning a dictionary. Each message says what was wrong
/// and how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LearnError {
    /// A parameter is out of its range.
    #[error("{method}: invalid parameter {name} = {value}: {hint}")]
    InvalidParameter {
        /// The learner.
        method: &'static str,
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        hint: &'static str,
    },
    /// The signals are empty.
    #[error(
        "{method}: the signals are empty ({nrows}x{ncols}); pass at least one signal of dimension ≥ 1"
    )]
    Empty {
        /// The learner.
        method: &'static str,
        /// Rows (signal dimension) given.
        nrows: usize,
        /// Columns (signals) given.
        ncols: usize,
    },
    /// The signals hold NaN or infinite values.
    #[error(
        "{method}: signal {signal} holds a NaN or infinite value; clean or drop such signals first"
    )]
    NonFinite {
        /// The learner.
        method: &'static str,
        /// The first offending signal (column).
        signal: usize,
    },
    /// Initialising from data columns needs at least as many non-zero signals as atoms.
    #[error(
        "{method}: {atoms} atoms cannot be initialised from {signals} non-zero signals; ask for \
         fewer atoms, pass more signals, or use the random initialisation (Init::Random)"
    )]
    TooFewSignals {
        /// The learner.
        method: &'static str,
        /// Atoms requested.
        atoms: usize,
        /// Non-zero signals available.
        signals: usize,
    },
    /// Every signal is zero: there is nothing to learn.
    #[error("{method}: every signal is zero; there is nothing to learn from")]
    AllZero {
        /// The learner.
        method: &'static str,
    },
    /// An input has the wrong shape.
    #[error("{method}: {what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// The learner.
        method: &'static str,
        /// Which input.
        what: &'static str,
        /// The shape required.
        expected: String,
        /// The shape given.
        found: String,
    },
    /// The execution context's observer cancelled the fit; nothing was returned.
    #[error("learning was cancelled; no model was returned")]
    Cancelled,
    /// The coding step failed.
    #[error(transparent)]
    Coding(CodingError),
    /// A linear-algebra kernel failed.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

impl From<CodingError> for LearnError {
    fn from(e: CodingError) -> Self {
        // A cancelled coding step cancels the fit it belongs to.
        if e.is_cancelled() {
            Self::Cancelled
        } else {
            Self::Coding(e)
        }
    }
}

impl From<Cancelled> for LearnError {
    fn from(_: Cancelled) -> Self {
        Self::Cancelled
    }
}

impl LearnError {
    /// Whether the fit was cancelled (rather than failing).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

/// Results of this crate.
pub type Result<T, E = LearnError> = std::result::Result<T, E>;

pub(crate) fn invalid(
    method: &'static str,
    name: &'static str,
    value: impl ToString,
    hint: &'static str,
) -> LearnError {
    LearnError::InvalidParameter {
        method,
        name,
        value: value.to_string(),
        hint,
    }
}
