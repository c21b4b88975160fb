//! Zero-copy column-major views over caller buffers.
//!
//! dictum stores one signal per **column**: signals `Y` are `d x N`, a dictionary `D` is
//! `d x m`, codes `X` are `m x N`. A column-major buffer holds column `j` at
//! `buf[j * nrows .. (j + 1) * nrows]`:
//!
//! ```text
//!          col 0   col 1   col 2          buffer: [y00 y10 y20 | y01 y11 y21 | y02 y12 y22]
//! row 0 [  y00     y01     y02  ]                  \_ col 0 _/   \_ col 1 _/   \_ col 2 _/
//! row 1 [  y10     y11     y12  ]
//! row 2 [  y20     y21     y22  ]
//! ```
//!
//! The same bytes read as a C-order (row-major) `N x d` array — the layout of scikit-learn's
//! `X` and of most `.npy` files — are exactly this `d x N` matrix, so no copy is needed.
//! Views are faer's [`MatRef`]/[`MatMut`]; pass them by value and reborrow with
//! `rb()`/`rb_mut()`.

use faer::{MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::error::{LinalgError, Result};
use crate::real::Real;

fn check_len(len: usize, nrows: usize, ncols: usize) -> Result<()> {
    let expected = nrows.checked_mul(ncols);
    if expected != Some(len) {
        return Err(LinalgError::BufferLength {
            len,
            nrows,
            ncols,
            expected: expected.unwrap_or(usize::MAX),
        });
    }
    Ok(())
}

/// Views `buf` as an `nrows x ncols` column-major matrix, without copying.
///
/// Fails when `buf.len() != nrows * ncols`.
///
/// ```
/// let y = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let m = dictum_linalg::view::col_major(&y, 3, 2)?; // two signals of dimension 3
/// assert_eq!(m[(2, 1)], 6.0);
/// # Ok::<(), dictum_linalg::LinalgError>(())
/// ```
pub fn col_major<T: Real>(buf: &[T], nrows: usize, ncols: usize) -> Result<MatRef<'_, T>> {
    check_len(buf.len(), nrows, ncols)?;
    Ok(MatRef::from_column_major_slice(buf, nrows, ncols))
}

/// Mutable version of [`col_major`].
pub fn col_major_mut<T: Real>(buf: &mut [T], nrows: usize, ncols: usize) -> Result<MatMut<'_, T>> {
    check_len(buf.len(), nrows, ncols)?;
    Ok(MatMut::from_column_major_slice_mut(buf, nrows, ncols))
}

/// Views a C-order (row-major) `n_samples x n_features` buffer — scikit-learn's layout — as
/// the `n_features x n_samples` column-major signal matrix dictum works on. No copy.
pub fn samples_as_rows<T: Real>(
    buf: &[T],
    n_samples: usize,
    n_features: usize,
) -> Result<MatRef<'_, T>> {
    col_major(buf, n_features, n_samples)
}

/// Returns an error naming the first NaN or infinite entry of `a` (scanned column by column).
pub fn check_finite<T: Real>(op: &'static str, a: MatRef<'_, T>) -> Result<()> {
    // Contiguous columns are checked first by a branch-free OR, which vectorizes where the
    // early exit below does not; the exit then only runs to name the entry.
    let all_finite = (0..a.ncols()).all(|j| match a.col(j).try_as_col_major() {
        Some(col) => !col
            .as_slice()
            .iter()
            .fold(false, |bad, v| bad | !num_traits::Float::is_finite(*v)),
        None => false,
    });
    if all_finite {
        return Ok(());
    }
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            let v = a[(i, j)];
            if !num_traits::Float::is_finite(v) {
                return Err(LinalgError::NonFinite {
                    op,
                    row: i,
                    col: j,
                    value: format!("{v}"),
                });
            }
        }
    }
    Ok(())
}

/// [`check_finite`] with the columns scanned in parallel under `Par::Rayon`; the error still
/// names the first bad entry in column order, whatever the threads.
pub fn check_finite_par<T: Real>(op: &'static str, a: MatRef<'_, T>, par: Par) -> Result<()> {
    const COLS: usize = 256;
    let n = a.ncols();
    if matches!(par, Par::Seq) || n <= COLS {
        return check_finite(op, a);
    }
    let first_bad = (0..n.div_ceil(COLS))
        .into_par_iter()
        .map(|b| {
            let c0 = b * COLS;
            let len = COLS.min(n - c0);
            match check_finite(op, a.subcols(c0, len)) {
                Ok(()) => None,
                Err(LinalgError::NonFinite {
                    row, col, value, ..
                }) => Some((c0 + col, row, value)),
                Err(_) => None,
            }
        })
        .find_first(Option::is_some)
        .flatten();
    match first_bad {
        Some((col, row, value)) => Err(LinalgError::NonFinite {
            op,
            row,
            col,
            value,
        }),
        None => Ok(()),
    }
}

/// Returns an error when `a` has no rows or no columns.
pub fn check_nonempty<T>(op: &'static str, a: MatRef<'_, T>) -> Result<()> {
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(LinalgError::Empty {
            op,
            nrows: a.nrows(),
            ncols: a.ncols(),
        });
    }
    Ok(())
}
