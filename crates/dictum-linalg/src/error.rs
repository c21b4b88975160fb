//! Errors of the linear-algebra layer.

/// What went wrong in a `dictum-linalg` routine.
///
/// Every message names the offending values and says how to fix the input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LinalgError {
    /// A buffer's length does not match the matrix shape it was meant to hold.
    #[error(
        "buffer of length {len} cannot hold a {nrows}x{ncols} matrix (needs {expected}); \
         check the shape or pass the whole buffer"
    )]
    BufferLength {
        /// Length of the buffer.
        len: usize,
        /// Requested rows.
        nrows: usize,
        /// Requested columns.
        ncols: usize,
        /// `nrows * ncols`, or `usize::MAX` on overflow.
        expected: usize,
    },
    /// Two operands have incompatible shapes.
    #[error("{op}: shapes do not match: {left} and {right}; {hint}")]
    ShapeMismatch {
        /// The operation, e.g. `"gemm_tn"`.
        op: &'static str,
        /// Shape of the left operand, e.g. `"64x256"`.
        left: String,
        /// Shape of the right operand.
        right: String,
        /// What the operation expects.
        hint: &'static str,
    },
    /// A matrix that must be square is not.
    #[error("{op}: matrix must be square, got {nrows}x{ncols}")]
    NotSquare {
        /// The operation.
        op: &'static str,
        /// Rows.
        nrows: usize,
        /// Columns.
        ncols: usize,
    },
    /// A matrix or operand is empty where data is required.
    #[error("{op}: empty input ({nrows}x{ncols}); pass at least one row and one column")]
    Empty {
        /// The operation.
        op: &'static str,
        /// Rows.
        nrows: usize,
        /// Columns.
        ncols: usize,
    },
    /// A NaN or infinite value was found.
    #[error(
        "{op}: non-finite value {value} at row {row}, column {col}; \
         remove or impute NaN/Inf entries before calling"
    )]
    NonFinite {
        /// The operation.
        op: &'static str,
        /// Row of the first non-finite entry.
        row: usize,
        /// Column of the first non-finite entry.
        col: usize,
        /// The value, printed.
        value: String,
    },
    /// A matrix expected to be symmetric positive definite is not.
    #[error(
        "{op}: matrix is not positive definite (pivot {index} is {pivot:e}); the columns are \
         linearly dependent or the matrix is not a covariance/Gram matrix — add a small ridge \
         (e.g. 1e-8 * trace / n) to the diagonal"
    )]
    NotPositiveDefinite {
        /// The operation.
        op: &'static str,
        /// Index of the failing pivot.
        index: usize,
        /// Value of the failing pivot (not positive, or too small relative to the diagonal).
        pivot: f64,
    },
    /// A factorization has no room left for another column.
    #[error("cholesky append: capacity {capacity} reached; create it with a larger capacity")]
    CapacityExceeded {
        /// The capacity given at construction.
        capacity: usize,
    },
    /// An iterative method did not converge.
    #[error(
        "{op}: did not converge within {iterations} iterations (residual {residual:e}); \
         raise max_iter or loosen tol"
    )]
    NoConvergence {
        /// The operation.
        op: &'static str,
        /// Iterations performed.
        iterations: usize,
        /// Last residual estimate.
        residual: f64,
    },
    /// A parameter value is out of range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The given value, printed.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// The parts of a compressed sparse column matrix are inconsistent.
    #[error("invalid CSC matrix: {0}")]
    InvalidCsc(String),
}

/// `Result` with [`LinalgError`].
pub type Result<T, E = LinalgError> = core::result::Result<T, E>;

pub(crate) fn shape(nrows: usize, ncols: usize) -> String {
    format!("{nrows}x{ncols}")
}
