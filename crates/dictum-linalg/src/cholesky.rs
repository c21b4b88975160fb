//! Progressive Cholesky factorisation: append one column at a time, solve at any time.
//!
//! Orthogonal Matching Pursuit grows its support one atom per step; refitting the
//! coefficients on the support needs a solve with the support's Gram matrix `G_S = D_Sᵀ·D_S`.
//! Rather than refactoring `G_S` at every step (`O(k³)` each), the factor `L` of
//! `G_S = L·Lᵀ` is extended by one row: with `w = L⁻¹·g` (the new atom's inner products with
//! the support) the new row is `[wᵀ, sqrt(g_nn − wᵀw)]`, an `O(k²)` step. This is the scheme of
//! Batch-OMP (Rubinstein, Zibulevsky & Elad, *Efficient implementation of the K-SVD
//! algorithm using batch orthogonal matching pursuit*, Technion CS-2008-08).

use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::{Mat, MatRef, Par};

use crate::error::{LinalgError, Result};
use crate::real::Real;
use crate::triangular;

/// The lower-triangular Cholesky factor `L` of a symmetric positive definite matrix,
/// `A = L·Lᵀ`, computed with `par` threads. Only the lower triangle of `a` is read; the
/// strict upper triangle of the result is zero.
///
/// Fails with [`LinalgError::NotPositiveDefinite`] naming the first non-positive pivot.
pub fn cholesky_lower<T: Real>(a: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::cholesky::llt::factor::{
        LltError, cholesky_in_place, cholesky_in_place_scratch,
    };

    let n = a.nrows();
    if a.ncols() != n {
        return Err(LinalgError::NotSquare {
            op: "cholesky",
            nrows: n,
            ncols: a.ncols(),
        });
    }
    crate::view::check_finite("cholesky", a)?;
    let mut l = Mat::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { T::zero() });
    let mut buf = MemBuffer::new(cholesky_in_place_scratch::<T>(n, par, Default::default()));
    cholesky_in_place(
        l.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(
        |LltError::NonPositivePivot { index }| LinalgError::NotPositiveDefinite {
            op: "cholesky",
            index,
            pivot: a[(index, index)].into_f64(),
        },
    )?;
    // The in-place factorisation uses the strict upper triangle as workspace.
    for j in 1..n {
        for i in 0..j {
            l[(i, j)] = T::zero();
        }
    }
    Ok(l)
}

/// A lower-triangular Cholesky factor `L` (`G = L·Lᵀ`) that grows one column at a time.
///
/// ```
/// use dictum_linalg::cholesky::CholeskyAppend;
/// // G = [[4, 2], [2, 3]]
/// let mut chol = CholeskyAppend::<f64>::with_capacity(2);
/// chol.push(&[], 4.0)?;
/// chol.push(&[2.0], 3.0)?;
/// let mut x = [2.0, 1.0]; // solve G x = b
/// chol.solve_in_place(&mut x)?;
/// assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-12);
/// # Ok::<(), dictum_linalg::LinalgError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CholeskyAppend<T> {
    l: Mat<T>,
    len: usize,
}

impl<T: Real> CholeskyAppend<T> {
    /// An empty factor with room for `capacity` columns (the largest support size).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            l: Mat::zeros(capacity, capacity),
            len: 0,
        }
    }

    /// Number of columns factored so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first [`push`](Self::push).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most columns this factor can hold.
    pub fn capacity(&self) -> usize {
        self.l.nrows()
    }

    /// Forgets every column, keeping the allocation (reuse across signals).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The current `len x len` lower-triangular factor (the strict upper part is zero).
    pub fn factor(&self) -> MatRef<'_, T> {
        self.l.as_ref().submatrix(0, 0, self.len, self.len)
    }

    /// Appends a column to the factored matrix.
    ///
    /// `cross[i]` is the inner product of the new column with column `i` already factored
    /// (`cross.len() == self.len()`), `diag` its squared norm. Fails with
    /// [`LinalgError::NotPositiveDefinite`] when the new column is (numerically) in the span of
    /// the previous ones — for OMP, an atom collinear with the support — and leaves the factor
    /// unchanged.
    pub fn push(&mut self, cross: &[T], diag: T) -> Result<()> {
        let n = self.len;
        if n == self.capacity() {
            return Err(LinalgError::CapacityExceeded {
                capacity: self.capacity(),
            });
        }
        if cross.len() != n {
            return Err(LinalgError::ShapeMismatch {
                op: "cholesky append",
                left: format!("{n} factored columns"),
                right: format!("{} inner products", cross.len()),
                hint: "pass one inner product per column already factored",
            });
        }
        let mut w = Mat::<T>::zeros(n, 1);
        for (i, &c) in cross.iter().enumerate() {
            w[(i, 0)] = c;
        }
        solve_lower_triangular_in_place(self.factor(), w.as_mut(), Par::Seq);
        let ww = w.col(0).squared_norm_l2();
        let pivot_sq = diag - ww;
        // A pivot this small means the new column is a combination of the others up to
        // rounding; carrying on would amplify rounding errors by 1/pivot.
        let floor = T::epsilon() * T::cast_usize(n + 1) * num_traits::Float::abs(diag);
        if !num_traits::Float::is_finite(pivot_sq) || pivot_sq <= floor {
            return Err(LinalgError::NotPositiveDefinite {
                op: "cholesky append",
                index: n,
                pivot: pivot_sq.into_f64(),
            });
        }
        for i in 0..n {
            self.l[(n, i)] = w[(i, 0)];
        }
        self.l[(n, n)] = num_traits::Float::sqrt(pivot_sq);
        self.len += 1;
        Ok(())
    }

    fn rhs_view<'a>(&self, rhs: &'a mut [T]) -> Result<faer::MatMut<'a, T>> {
        if rhs.len() != self.len {
            return Err(LinalgError::ShapeMismatch {
                op: "cholesky solve",
                left: format!("{} factored columns", self.len),
                right: format!("right-hand side of length {}", rhs.len()),
                hint: "the right-hand side needs one entry per factored column",
            });
        }
        Ok(faer::MatMut::from_column_major_slice_mut(rhs, self.len, 1))
    }

    /// Forward substitution: solves `L·x = b` in place (the lower half of
    /// [`solve_in_place`](Self::solve_in_place)).
    pub fn forward_substitute_in_place(&self, rhs: &mut [T]) -> Result<()> {
        let r = self.rhs_view(rhs)?;
        triangular::solve_lower_in_place(self.factor(), r, Par::Seq)
    }

    /// Back substitution: solves `Lᵀ·x = b` in place.
    pub fn back_substitute_in_place(&self, rhs: &mut [T]) -> Result<()> {
        let r = self.rhs_view(rhs)?;
        triangular::solve_upper_in_place(self.factor().transpose(), r, Par::Seq)
    }

    /// Solves `G·x = L·Lᵀ·x = b` in place.
    pub fn solve_in_place(&self, rhs: &mut [T]) -> Result<()> {
        self.forward_substitute_in_place(rhs)?;
        self.back_substitute_in_place(rhs)
    }
}
