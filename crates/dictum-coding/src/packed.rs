//! Triangular solves with the small Cholesky factors that OMP, ORMP and LARS grow one row at a
//! time. A factor is lower triangular and row-major: row `t` starts at `l[t·stride]`.

use dictum_linalg::Real;

use crate::vector::dot;

/// Solves `L·x = b` in place (`x` holds `b` on entry); `x.len()` rows of `L` are used.
#[inline(always)]
pub(crate) fn forward_substitute<T: Real>(l: &[T], stride: usize, x: &mut [T]) {
    for t in 0..x.len() {
        let row = &l[t * stride..t * stride + t];
        x[t] = (x[t] - dot(row, &x[..t])) / l[t * stride + t];
    }
}

/// Solves `Lᵀ·x = b` in place (`x` holds `b` on entry); `x.len()` rows of `L` are used.
#[inline(always)]
pub(crate) fn back_substitute_transposed<T: Real>(l: &[T], stride: usize, x: &mut [T]) {
    let s = x.len();
    for t in (0..s).rev() {
        let mut v = x[t];
        for u in t + 1..s {
            v -= l[u * stride + t] * x[u];
        }
        x[t] = v / l[t * stride + t];
    }
}
