//! Triangular solves, in place.

use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{MatMut, MatRef, Par};

use crate::error::{LinalgError, Result, shape};
use crate::real::Real;

fn check(
    op: &'static str,
    tri: &MatRef<'_, impl Sized>,
    rhs: &MatMut<'_, impl Sized>,
) -> Result<()> {
    if tri.nrows() != tri.ncols() {
        return Err(LinalgError::NotSquare {
            op,
            nrows: tri.nrows(),
            ncols: tri.ncols(),
        });
    }
    if tri.nrows() != rhs.nrows() {
        return Err(LinalgError::ShapeMismatch {
            op,
            left: shape(tri.nrows(), tri.ncols()),
            right: shape(rhs.nrows(), rhs.ncols()),
            hint: "the right-hand side needs as many rows as the triangular matrix",
        });
    }
    Ok(())
}

/// Solves `L·X = B` in place (`rhs` holds `B` on entry, `X` on return).
///
/// Only the lower triangle of `l` is read. The diagonal must be non-zero; a zero pivot gives
/// infinities, as in LAPACK's `trsm`.
pub fn solve_lower_in_place<T: Real>(l: MatRef<'_, T>, rhs: MatMut<'_, T>, par: Par) -> Result<()> {
    check("solve_lower", &l, &rhs)?;
    solve_lower_triangular_in_place(l, rhs, par);
    Ok(())
}

/// Solves `U·X = B` in place. Only the upper triangle of `u` is read.
pub fn solve_upper_in_place<T: Real>(u: MatRef<'_, T>, rhs: MatMut<'_, T>, par: Par) -> Result<()> {
    check("solve_upper", &u, &rhs)?;
    solve_upper_triangular_in_place(u, rhs, par);
    Ok(())
}
