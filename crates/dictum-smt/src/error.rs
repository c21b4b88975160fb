//! The error type of `dictum-smt`.

use dictum_linalg::LinalgError;

/// Everything that can go wrong in the Sparse Manifold Transform. Each message says what was
/// wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmtError {
    /// A parameter is out of its range.
    #[error("smt: invalid parameter {name} = {value}: {hint}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        hint: &'static str,
    },
    /// The patch does not fit in the image.
    #[error(
        "smt: a {patch}x{patch} patch does not fit in a {height}x{width} image; use a smaller \
         patch or check the image shape"
    )]
    PatchTooLarge {
        /// Patch side.
        patch: usize,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// An input has the wrong shape.
    #[error("smt: {what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// Which input.
        what: &'static str,
        /// The shape required.
        expected: String,
        /// The shape given.
        found: String,
    },
    /// The input is empty.
    #[error("smt: {what} is empty; pass at least one")]
    Empty {
        /// What is empty.
        what: &'static str,
    },
    /// The input holds NaN or infinite values.
    #[error("smt: {what} {index} holds a NaN or infinite value; clean the data first")]
    NonFinite {
        /// What holds it.
        what: &'static str,
        /// Which one.
        index: usize,
    },
    /// The execution context's observer cancelled the run; nothing was returned.
    #[error("the Sparse Manifold Transform was cancelled; no model was returned")]
    Cancelled,
    /// A linear-algebra kernel failed.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
    /// The sparse coder failed.
    #[error(transparent)]
    Coding(dictum_coding::CodingError),
    /// Dictionary learning (k-means) failed.
    #[error(transparent)]
    Learn(dictum_learn::LearnError),
}

impl From<dictum_coding::CodingError> for SmtError {
    fn from(e: dictum_coding::CodingError) -> Self {
        if e.is_cancelled() {
            Self::Cancelled
        } else {
            Self::Coding(e)
        }
    }
}

impl From<dictum_learn::LearnError> for SmtError {
    fn from(e: dictum_learn::LearnError) -> Self {
        if e.is_cancelled() {
            Self::Cancelled
        } else {
            Self::Learn(e)
        }
    }
}

impl From<dictum_linalg::Cancelled> for SmtError {
    fn from(_: dictum_linalg::Cancelled) -> Self {
        Self::Cancelled
    }
}

impl SmtError {
    /// Whether the run was cancelled (rather than failing).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

/// Results of this crate.
pub type Result<T, E = SmtError> = std::result::Result<T, E>;

pub(crate) fn invalid(name: &'static str, value: impl ToString, hint: &'static str) -> SmtError {
    SmtError::InvalidParameter {
        name,
        value: value.to_string(),
        hint,
    }
}
