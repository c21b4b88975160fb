//! Dense products through faer's GEMM: `Aᵀ·B` (correlations `Dᵀ·Y`), `A·B`, and the Gram
//! matrix `Dᵀ·D`.
//!
//! Every kernel takes a [`Par`] so the caller decides how many threads it may use
//! (`Par::Seq`, or `Par::rayon(n)` inside the caller's rayon pool; `n = 0` means all of
//! them). On small shared machines `Par::Seq` can be the faster choice; measure.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef, Par};

use crate::error::{LinalgError, Result, shape};
use crate::real::Real;

fn check_dst<T>(op: &'static str, dst: &MatMut<'_, T>, nrows: usize, ncols: usize) -> Result<()> {
    if dst.nrows() != nrows || dst.ncols() != ncols {
        return Err(LinalgError::ShapeMismatch {
            op,
            left: shape(dst.nrows(), dst.ncols()),
            right: shape(nrows, ncols),
            hint: "the destination must have the shape of the product",
        });
    }
    Ok(())
}

/// `dst = Aᵀ·B` for `A` of shape `k x m` and `B` of shape `k x n`; `dst` is `m x n`.
///
/// With `A = D` (`d x m` dictionary) and `B = Y` (`d x N` signals) this is the correlation
/// matrix `Dᵀ·Y` every pursuit algorithm starts from.
pub fn gemm_tn_into<T: Real>(
    dst: MatMut<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    par: Par,
) -> Result<()> {
    if a.nrows() != b.nrows() {
        return Err(LinalgError::ShapeMismatch {
            op: "gemm_tn",
            left: shape(a.nrows(), a.ncols()),
            right: shape(b.nrows(), b.ncols()),
            hint: "Aᵀ·B needs A and B with the same number of rows (the signal dimension)",
        });
    }
    check_dst("gemm_tn", &dst, a.ncols(), b.ncols())?;
    product_into(dst, a.transpose(), b, par);
    Ok(())
}

/// Allocating version of [`gemm_tn_into`]: returns `Aᵀ·B`.
pub fn gemm_tn<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
    let mut dst = Mat::zeros(a.ncols(), b.ncols());
    gemm_tn_into(dst.as_mut(), a, b, par)?;
    Ok(dst)
}

/// `dst = A·B` for `A` of shape `m x k` and `B` of shape `k x n`; `dst` is `m x n`.
pub fn gemm_nn_into<T: Real>(
    dst: MatMut<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    par: Par,
) -> Result<()> {
    if a.ncols() != b.nrows() {
        return Err(LinalgError::ShapeMismatch {
            op: "gemm_nn",
            left: shape(a.nrows(), a.ncols()),
            right: shape(b.nrows(), b.ncols()),
            hint: "A·B needs A's column count to equal B's row count",
        });
    }
    check_dst("gemm_nn", &dst, a.nrows(), b.ncols())?;
    product_into(dst, a, b, par);
    Ok(())
}

/// Allocating version of [`gemm_nn_into`]: returns `A·B`.
pub fn gemm_nn<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
    let mut dst = Mat::zeros(a.nrows(), b.ncols());
    gemm_nn_into(dst.as_mut(), a, b, par)?;
    Ok(dst)
}

/// `dst = Dᵀ·D`, the `m x m` Gram matrix of the columns of `D` (`d x m`).
///
/// Only the lower triangle is computed (half the flops of a general product) and then
/// mirrored, so the result is exactly symmetric.
pub fn gram_into<T: Real>(dst: MatMut<'_, T>, d: MatRef<'_, T>, par: Par) -> Result<()> {
    let m = d.ncols();
    check_dst("gram", &dst, m, m)?;
    gram_unchecked(dst, d, par);
    Ok(())
}

/// `dst = a·b` for shapes already checked: the CPU backend's GEMM.
pub(crate) fn product_into<T: Real>(
    dst: MatMut<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    par: Par,
) {
    matmul(dst, Accum::Replace, a, b, T::one(), par);
}

/// [`gram_into`] for shapes already checked: the CPU backend's Gram matrix.
pub(crate) fn gram_unchecked<T: Real>(mut dst: MatMut<'_, T>, d: MatRef<'_, T>, par: Par) {
    let m = d.ncols();
    triangular::matmul(
        dst.rb_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        d.transpose(),
        BlockStructure::Rectangular,
        d,
        BlockStructure::Rectangular,
        T::one(),
        par,
    );
    for j in 0..m {
        for i in 0..j {
            dst[(i, j)] = dst[(j, i)];
        }
    }
}

/// Allocating version of [`gram_into`]: returns `Dᵀ·D`.
pub fn gram<T: Real>(d: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
    let mut dst = Mat::zeros(d.ncols(), d.ncols());
    gram_into(dst.as_mut(), d, par)?;
    Ok(dst)
}

/// Flop count of `Aᵀ·B` (`2·m·n·k`), for throughput reports.
pub fn gemm_flops(m: usize, n: usize, k: usize) -> f64 {
    2.0 * m as f64 * n as f64 * k as f64
}
