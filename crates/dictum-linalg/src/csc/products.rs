//! Products of a [`CscMatrix`] with dense matrices (`A·X`, `X·B`, `Xᵀ·B`) and the sparse
//! outer-product sums `U·Vᵀ`: the CPU kernels behind the backend seam's sparse operations.

use faer::reborrow::ReborrowMut;
use faer::{Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::CscMatrix;
use crate::error::{LinalgError, Result, shape};
use crate::real::Real;
use crate::simd::with_simd;

impl<T: Real> CscMatrix<T> {
    /// `dst = A·X`: a dense `d x m` matrix times this `m x N` sparse one (`dst` is `d x N`).
    /// With `A = D` this reconstructs the signals `D·X` from their codes.
    pub fn dense_mul_into(&self, dst: MatMut<'_, T>, a: MatRef<'_, T>, par: Par) -> Result<()> {
        check_shapes(
            "dense_mul (A·X)",
            (a.nrows(), a.ncols()),
            (self.nrows, self.ncols),
            &dst,
            a.nrows(),
            self.ncols,
        )?;
        self.dense_mul_unchecked(dst, a, par);
        Ok(())
    }

    /// [`dense_mul_into`](Self::dense_mul_into) for shapes already checked (the CPU backend).
    pub(crate) fn dense_mul_unchecked(&self, dst: MatMut<'_, T>, a: MatRef<'_, T>, par: Par) {
        for_each_col_block(dst, par, |start, mut block| {
            for c in 0..block.ncols() {
                let (rows, vals) = self.col(start + c);
                let mut out = block.rb_mut().col_mut(c);
                out.fill(T::zero());
                for (&r, &v) in rows.iter().zip(vals) {
                    let acol = a.col(r as usize);
                    for i in 0..out.nrows() {
                        out[i] += v * acol[i];
                    }
                }
            }
        });
    }

    /// Allocating version of [`dense_mul_into`](Self::dense_mul_into): returns `A·X`.
    pub fn dense_mul(&self, a: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let mut dst = Mat::zeros(a.nrows(), self.ncols);
        self.dense_mul_into(dst.as_mut(), a, par)?;
        Ok(dst)
    }

    /// `dst = X·B`: this `m x N` sparse matrix times a dense `N x p` one (`dst` is `m x p`).
    pub fn mul_dense_into(&self, dst: MatMut<'_, T>, b: MatRef<'_, T>, par: Par) -> Result<()> {
        check_shapes(
            "mul_dense (X·B)",
            (self.nrows, self.ncols),
            (b.nrows(), b.ncols()),
            &dst,
            self.nrows,
            b.ncols(),
        )?;
        self.mul_dense_unchecked(dst, b, par);
        Ok(())
    }

    /// [`mul_dense_into`](Self::mul_dense_into) for shapes already checked (the CPU backend).
    pub(crate) fn mul_dense_unchecked(&self, dst: MatMut<'_, T>, b: MatRef<'_, T>, par: Par) {
        for_each_col_block(dst, par, |start, mut block| {
            for c in 0..block.ncols() {
                let bcol = b.col(start + c);
                let mut out = block.rb_mut().col_mut(c);
                out.fill(T::zero());
                for j in 0..self.ncols {
                    let bj = bcol[j];
                    if bj == T::zero() {
                        continue;
                    }
                    let (rows, vals) = self.col(j);
                    for (&r, &v) in rows.iter().zip(vals) {
                        out[r as usize] += v * bj;
                    }
                }
            }
        });
    }

    /// Allocating version of [`mul_dense_into`](Self::mul_dense_into): returns `X·B`.
    pub fn mul_dense(&self, b: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let mut dst = Mat::zeros(self.nrows, b.ncols());
        self.mul_dense_into(dst.as_mut(), b, par)?;
        Ok(dst)
    }

    /// `dst = Xᵀ·B`: the transpose of this `m x N` matrix times a dense `m x p` one (`dst` is
    /// `N x p`). With `B = Dᵀ·R` this gathers per-signal correlations on each code's support;
    /// with `X = V` (sparse data) and `B = W` it is NMF's `Vᵀ·W`.
    pub fn transpose_mul_dense_into(
        &self,
        dst: MatMut<'_, T>,
        b: MatRef<'_, T>,
        par: Par,
    ) -> Result<()> {
        check_shapes(
            "transpose_mul_dense (Xᵀ·B)",
            (self.ncols, self.nrows),
            (b.nrows(), b.ncols()),
            &dst,
            self.ncols,
            b.ncols(),
        )?;
        self.transpose_mul_dense_unchecked(dst, b, par);
        Ok(())
    }

    /// [`transpose_mul_dense_into`](Self::transpose_mul_dense_into) for shapes already checked
    /// (the CPU backend). Row `c` of `Xᵀ·B` is `Σ_i x_ic·b_i` over the non-zeros of column `c`:
    /// the rows of `B` are copied once into vectors padded to whole [`LANES`], so each term is
    /// an axpy of whole vector registers, accumulated in registers for the column and stored
    /// once; columns in parallel.
    pub(crate) fn transpose_mul_dense_unchecked(
        &self,
        mut dst: MatMut<'_, T>,
        b: MatRef<'_, T>,
        par: Par,
    ) {
        let (m, p) = (b.nrows(), b.ncols());
        let stride = padded(p);
        let mut rows = vec![T::zero(); m * stride];
        for k in 0..p {
            for (i, &x) in b.col(k).iter().enumerate() {
                rows[i * stride + k] = x;
            }
        }
        let out = gather(self, &rows, stride, par);
        for k in 0..p {
            for (c, x) in dst.rb_mut().col_mut(k).iter_mut().enumerate() {
                *x = out[c * stride + k];
            }
        }
    }

    /// Allocating version of [`transpose_mul_dense_into`](Self::transpose_mul_dense_into).
    pub fn transpose_mul_dense(&self, b: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let mut dst = Mat::zeros(self.ncols, b.ncols());
        self.transpose_mul_dense_into(dst.as_mut(), b, par)?;
        Ok(dst)
    }
}

/// `dst += U·Vᵀ` for sparse `u` (`p x n`) and `v` (`q x n`), shapes checked: the CPU
/// backend's outer-product sums (the SMT's `A·Aᵀ`). Column `j` of `dst` gets
/// `Σ_k v_jk·u_k`; the work splits by blocks of columns of `dst` (no per-thread copies of a
/// `p x q` matrix), and every entry adds its terms in order of `k`, whatever the threads.
pub(crate) fn add_outer_products<T: Real>(
    mut dst: MatMut<'_, T>,
    u: &CscMatrix<T>,
    v: &CscMatrix<T>,
    par: Par,
) {
    let (q, n) = (v.nrows(), v.ncols());
    if q == 0 || dst.nrows() == 0 {
        return;
    }
    let threads = match par {
        Par::Seq => 1,
        Par::Rayon(t) => t.get(),
    };
    let cols_per = q.div_ceil(4 * threads).max(1);
    let work = |block_index: usize, mut block: MatMut<'_, T>| {
        let c0 = block_index * cols_per;
        let c1 = c0 + block.ncols();
        for k in 0..n {
            let (vi, vv) = v.col(k);
            let lo = vi.partition_point(|&i| (i as usize) < c0);
            let hi = vi.partition_point(|&i| (i as usize) < c1);
            if lo == hi {
                continue;
            }
            let (ui, uv) = u.col(k);
            for t in lo..hi {
                let (j, y) = (vi[t] as usize - c0, vv[t]);
                let mut col = block.rb_mut().col_mut(j);
                for (&i, &x) in ui.iter().zip(uv) {
                    col[i as usize] += x * y;
                }
            }
        }
    };
    if threads == 1 {
        work(0, dst);
    } else {
        dst.rb_mut()
            .par_col_chunks_mut(cols_per)
            .enumerate()
            .for_each(|(b, block)| work(b, block));
    }
}

/// Vector width of [`gather`]'s padded rows.
const LANES: usize = 8;

/// `r` rounded up to whole [`LANES`].
fn padded(r: usize) -> usize {
    r.div_ceil(LANES).max(1) * LANES
}

/// `out_c = Σ_{(i, x) ∈ column c of m} x·src_i` for every column `c` of `m`, with `src` and
/// `out` holding contiguous vectors `stride` apart (`stride` a multiple of [`LANES`], padded
/// with zeros, so that each axpy is whole vector registers with no scalar tail); columns in
/// parallel.
fn gather<T: Real>(m: &CscMatrix<T>, src: &[T], stride: usize, par: Par) -> Vec<T> {
    match stride {
        8 => gather_fixed::<T, 8>(m, src, par),
        16 => gather_fixed::<T, 16>(m, src, par),
        24 => gather_fixed::<T, 24>(m, src, par),
        32 => gather_fixed::<T, 32>(m, src, par),
        40 => gather_fixed::<T, 40>(m, src, par),
        48 => gather_fixed::<T, 48>(m, src, par),
        56 => gather_fixed::<T, 56>(m, src, par),
        64 => gather_fixed::<T, 64>(m, src, par),
        _ => gather_any(m, src, stride, par),
    }
}

/// [`gather`] for a stride known at compile time: each output vector is accumulated in
/// registers over its column and stored once.
fn gather_fixed<T: Real, const S: usize>(m: &CscMatrix<T>, src: &[T], par: Par) -> Vec<T> {
    let mut out = vec![T::zero(); S * m.ncols()];
    let work = |(c, o): (usize, &mut [T])| {
        with_simd(
            #[inline(always)]
            || {
                let (idx, vals) = m.col(c);
                let mut acc = [T::zero(); S];
                let zero = [T::zero(); S];
                for (&i, &x) in idx.iter().zip(vals) {
                    // Always S long: `src` holds whole padded vectors.
                    let si: &[T; S] = src[i as usize * S..(i as usize + 1) * S]
                        .try_into()
                        .unwrap_or(&zero);
                    for l in 0..S {
                        acc[l] += x * si[l];
                    }
                }
                o.copy_from_slice(&acc);
            },
        )
    };
    match par {
        Par::Seq => out.chunks_mut(S).enumerate().for_each(work),
        Par::Rayon(_) => out.par_chunks_mut(S).enumerate().for_each(work),
    }
    out
}

fn gather_any<T: Real>(m: &CscMatrix<T>, src: &[T], stride: usize, par: Par) -> Vec<T> {
    let mut out = vec![T::zero(); stride * m.ncols()];
    let work = |(c, o): (usize, &mut [T])| {
        with_simd(
            #[inline(always)]
            || {
                let (idx, vals) = m.col(c);
                for (&i, &x) in idx.iter().zip(vals) {
                    let si = &src[i as usize * stride..(i as usize + 1) * stride];
                    for (a, &b) in o.iter_mut().zip(si) {
                        *a += x * b;
                    }
                }
            },
        )
    };
    match par {
        Par::Seq => out.chunks_mut(stride.max(1)).enumerate().for_each(work),
        Par::Rayon(_) => out.par_chunks_mut(stride.max(1)).enumerate().for_each(work),
    }
    out
}

fn check_shapes<T>(
    op: &'static str,
    left: (usize, usize),
    right: (usize, usize),
    dst: &MatMut<'_, T>,
    rows: usize,
    cols: usize,
) -> Result<()> {
    if left.1 != right.0 {
        return Err(LinalgError::ShapeMismatch {
            op,
            left: shape(left.0, left.1),
            right: shape(right.0, right.1),
            hint: "the inner dimensions of a product must agree",
        });
    }
    if dst.nrows() != rows || dst.ncols() != cols {
        return Err(LinalgError::ShapeMismatch {
            op,
            left: shape(dst.nrows(), dst.ncols()),
            right: shape(rows, cols),
            hint: "the destination must have the shape of the product",
        });
    }
    Ok(())
}

/// Runs `f(first_column, block)` over column blocks of `dst`, in parallel under `Par::Rayon`.
fn for_each_col_block<T: Real>(
    dst: MatMut<'_, T>,
    par: Par,
    f: impl Fn(usize, MatMut<'_, T>) + Sync,
) {
    let ncols = dst.ncols();
    match par {
        Par::Seq => f(0, dst),
        Par::Rayon(threads) => {
            if ncols == 0 {
                return;
            }
            // A few blocks per thread balances columns of uneven sparsity.
            let chunk = ncols.div_ceil(threads.get() * 4).max(1);
            dst.par_col_chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, block)| f(i * chunk, block));
        }
    }
}
