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

/// Options of [`smallest_generalized_eigen`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubspaceOptions {
    /// Extra vectors carried beyond the `k` wanted (more: faster convergence per iteration).
    pub extra: usize,
    /// Iterations at most.
    pub max_iter: usize,
    /// Stop when every wanted pair has `‖A·v − λ·B·v‖ ≤ tol·‖A·v‖` (or `‖B·v‖·λ_max`).
    pub tol: f64,
    /// Seed of the starting block.
    pub seed: u64,
}

impl Default for SubspaceOptions {
    fn default() -> Self {
        Self {
            extra: 16,
            max_iter: 300,
            tol: 1e-8,
            seed: 0,
        }
    }
}

/// The `k` smallest eigenpairs of `A·v = λ·B·v` (`A` symmetric positive semi-definite, `B`
/// symmetric positive definite, both given in full: unlike the dense solvers, which read lower
/// triangles, this one multiplies by them, and copying an `n x n` matrix to symmetrise it is
/// what large problems cannot afford) by shift-and-invert subspace iteration
/// (Saad, *Numerical Methods for Large Eigenvalue Problems*, ch. 5) with Rayleigh–Ritz
/// projections: one Cholesky factorisation of `A + δ·B` (`δ` a tiny shift that keeps it
/// definite when `A` is singular), then per iteration a few products with `A`, `B` and the
/// factor on a block of `k + extra` vectors.
///
/// For large problems (thousands of unknowns) this costs about a third of the full
/// [`generalized_symmetric_eigen`], which must reduce the whole matrix. The eigenvectors are
/// `B`-orthonormal; eigenvalues ascending. Fails with [`LinalgError::NoConvergence`] when
/// the residuals do not reach `tol` within `max_iter` iterations.
pub fn smallest_generalized_eigen<T: Real>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    k: usize,
    opts: SubspaceOptions,
    par: Par,
) -> Result<SymmetricEigen<T>> {
    check_square("smallest_generalized_eigen (A)", a)?;
    check_square("smallest_generalized_eigen (B)", b)?;
    let n = a.nrows();
    if b.nrows() != n {
        return Err(LinalgError::ShapeMismatch {
            op: "smallest_generalized_eigen",
            left: crate::error::shape(a.nrows(), a.ncols()),
            right: crate::error::shape(b.nrows(), b.ncols()),
            hint: "A and B must be square matrices of the same size",
        });
    }
    let p = (k + opts.extra.max(1)).min(n);
    if k == 0 || k > n {
        return Err(LinalgError::InvalidParameter {
            name: "k",
            value: k.to_string(),
            expected: "between 1 and the problem size",
        });
    }
    let trace = |m: MatRef<'_, T>| (0..n).map(|i| m[(i, i)].into_f64()).sum::<f64>();
    let delta = 1e-7 * trace(a).max(f64::MIN_POSITIVE) / trace(b).max(f64::MIN_POSITIVE);
    // Only the lower triangle is factorised.
    let shifted = Mat::from_fn(n, n, |i, j| {
        if i >= j {
            a[(i, j)] + T::cast_f64(delta) * b[(i, j)]
        } else {
            T::zero()
        }
    });
    let l = cholesky_lower(shifted.as_ref(), par)?;
    drop(shifted);
    // A seeded Gaussian-ish start (splitmix64 and a sum of uniforms: no dependencies).
    let mut state = opts.seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    };
    let mut x = Mat::<T>::from_fn(n, p, |_, _| T::cast_f64(next() + next() + next() - 1.5));
    let mut last = None;
    for iter in 0..opts.max_iter {
        // Z = (A + δB)⁻¹·B·X, orthonormalised (the block keeps its span, not its conditioning).
        let mut z = crate::gemm::gemm_nn(b, x.as_ref(), par)?;
        solve_lower_triangular_in_place(l.as_ref(), z.as_mut(), par);
        solve_upper_triangular_in_place(l.as_ref().transpose(), z.as_mut(), par);
        let z = z.qr().compute_thin_Q();
        // Rayleigh–Ritz on span(Z).
        let az = crate::gemm::gemm_nn(a, z.as_ref(), par)?;
        let bz = crate::gemm::gemm_nn(b, z.as_ref(), par)?;
        let sa = crate::gemm::gemm_tn(z.as_ref(), az.as_ref(), par)?;
        let sb = crate::gemm::gemm_tn(z.as_ref(), bz.as_ref(), par)?;
        let small = generalized_symmetric_eigen(sa.as_ref(), sb.as_ref(), Par::Seq)?;
        let w = &small.vectors;
        x = crate::gemm::gemm_nn(z.as_ref(), w.as_ref(), par)?;
        let ax = crate::gemm::gemm_nn(az.as_ref(), w.as_ref(), par)?;
        let bx = crate::gemm::gemm_nn(bz.as_ref(), w.as_ref(), par)?;
        let lam_max = small
            .values
            .iter()
            .fold(0f64, |m, v| m.max(v.into_f64().abs()));
        let mut worst = 0f64;
        for i in 0..k {
            let lam = small.values[i].into_f64();
            let (mut r2, mut a2, mut b2) = (0f64, 0f64, 0f64);
            for row in 0..n {
                let (av, bv) = (ax[(row, i)].into_f64(), bx[(row, i)].into_f64());
                r2 += (av - lam * bv).powi(2);
                a2 += av * av;
                b2 += bv * bv;
            }
            let scale = a2.sqrt().max(b2.sqrt() * lam_max).max(f64::MIN_POSITIVE);
            worst = worst.max(r2.sqrt() / scale);
        }
        last = Some((iter, worst));
        if worst <= opts.tol {
            let mut vectors = x.as_ref().subcols(0, k).to_owned();
            // B-normalise (Rayleigh–Ritz already makes the block B-orthogonal).
            for j in 0..k {
                let nb: f64 = (0..n)
                    .map(|r| vectors[(r, j)].into_f64() * bx[(r, j)].into_f64())
                    .sum::<f64>()
                    .sqrt();
                if nb > 0.0 {
                    for r in 0..n {
                        vectors[(r, j)] /= T::cast_f64(nb);
                    }
                }
            }
            return Ok(SymmetricEigen {
                values: small.values[..k].to_vec(),
                vectors,
            });
        }
    }
    let (iterations, residual) = last.unwrap_or((0, f64::NAN));
    Err(LinalgError::NoConvergence {
        op: "smallest_generalized_eigen",
        iterations: iterations + 1,
        residual,
    })
}
