//! Symmetric eigendecomposition and the generalised symmetric-definite eigenproblem
//! `A·v = λ·B·v`.
//!
//! The Sparse Manifold Transform (Chen, Paiton & Olshausen, NeurIPS 2018) finds its embedding
//! from the *smallest* generalised eigenpairs of a (second-difference cost, code covariance)
//! pair. faer has no dedicated symmetric-definite solver (its general QZ is ~7x slower), so
//! the problem is reduced to a standard one by the Cholesky factor of `B = L·Lᵀ`:
//! `C = L⁻¹·A·L⁻ᵀ`, `C·y = λ·y`, `v = L⁻ᵀ·y` (Golub & Van Loan, *Matrix Computations*, §8.7).

use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Mat, MatRef, Par};

use crate::cholesky::cholesky_lower;

use crate::error::{LinalgError, Result};
use crate::real::Real;
use crate::view::{check_finite, check_nonempty};

/// Eigenvalues in ascending order with their eigenvectors as columns.
#[derive(Debug, Clone)]
pub struct SymmetricEigen<T> {
    /// Eigenvalues, ascending.
    pub values: Vec<T>,
    /// Eigenvectors: column `i` belongs to `values[i]`.
    pub vectors: Mat<T>,
}

impl<T: Real> SymmetricEigen<T> {
    /// Keeps only the `k` smallest eigenpairs (all of them if `k` is larger).
    pub fn truncate_smallest(mut self, k: usize) -> Self {
        let k = k.min(self.values.len());
        self.values.truncate(k);
        self.vectors = self.vectors.as_ref().subcols(0, k).to_owned();
        self
    }
}

fn check_square(op: &'static str, a: MatRef<'_, impl Real>) -> Result<()> {
    if a.nrows() != a.ncols() {
        return Err(LinalgError::NotSquare {
            op,
            nrows: a.nrows(),
            ncols: a.ncols(),
        });
    }
    check_nonempty(op, a)?;
    check_finite(op, a)
}

/// The full symmetric matrix whose lower triangle is that of `a`.
fn symmetric_from_lower<T: Real>(a: MatRef<'_, T>) -> Mat<T> {
    let n = a.nrows();
    Mat::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { a[(j, i)] })
}

/// Eigendecomposition of the symmetric matrix `a` (only its lower triangle is read), using
/// `par` for its threads. Eigenvalues come out ascending.
pub fn symmetric_eigen<T: Real>(a: MatRef<'_, T>, par: Par) -> Result<SymmetricEigen<T>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};

    check_square("symmetric_eigen", a)?;
    let n = a.nrows();
    let mut vectors = Mat::zeros(n, n);
    let mut values = faer::diag::Diag::zeros(n);
    let scratch =
        self_adjoint_evd_scratch::<T>(n, ComputeEigenvectors::Yes, par, Default::default());
    let mut buf = MemBuffer::new(scratch);
    self_adjoint_evd(
        a,
        values.as_mut(),
        Some(vectors.as_mut()),
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|_| LinalgError::NoConvergence {
        op: "symmetric_eigen",
        iterations: 0,
        residual: f64::NAN,
    })?;
    Ok(SymmetricEigen {
        values: values.column_vector().iter().copied().collect(),
        vectors,
    })
}

/// Solves `A·v = λ·B·v` for symmetric `A` and symmetric positive definite `B` (only their
/// lower triangles are read).
///
/// Returns all eigenpairs, eigenvalues ascending; the eigenvectors are `B`-orthonormal:
/// `Vᵀ·B·V = I`. Fails with [`LinalgError::NotPositiveDefinite`] when `B` is not positive
/// definite (add a small ridge to its diagonal).
pub fn generalized_symmetric_eigen<T: Real>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    par: Par,
) -> Result<SymmetricEigen<T>> {
    check_square("generalized_symmetric_eigen (A)", a)?;
    check_square("generalized_symmetric_eigen (B)", b)?;
    if a.nrows() != b.nrows() {
        return Err(LinalgError::ShapeMismatch {
            op: "generalized_symmetric_eigen",
            left: crate::error::shape(a.nrows(), a.ncols()),
            right: crate::error::shape(b.nrows(), b.ncols()),
            hint: "A and B must be square matrices of the same size",
        });
    }
    let n = a.nrows();
    let l = cholesky_lower(b, par).map_err(|e| match e {
        LinalgError::NotPositiveDefinite { index, pivot, .. } => LinalgError::NotPositiveDefinite {
            op: "generalized_symmetric_eigen (B)",
            index,
            pivot,
        },
        other => other,
    })?;
    let l = l.as_ref();
    // C = L⁻¹·A·L⁻ᵀ: two triangular solves, the second on the transpose of the first result.
    let mut c = symmetric_from_lower(a);
    solve_lower_triangular_in_place(l, c.as_mut(), par);
    let mut ct = c.transpose().to_owned();
    solve_lower_triangular_in_place(l, ct.as_mut(), par);
    // Symmetrise away rounding so the symmetric solver sees an exactly symmetric matrix.
    let c = Mat::from_fn(n, n, |i, j| (ct[(i, j)] + ct[(j, i)]) * T::cast_f64(0.5));
    let SymmetricEigen {
        values,
        vectors: mut y,
    } = symmetric_eigen(c.as_ref(), par)?;
    solve_upper_triangular_in_place(l.transpose(), y.as_mut(), par);
    Ok(SymmetricEigen { values, vectors: y })
}
