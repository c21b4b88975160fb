//! HALS, hierarchical alternating least squares (Cichocki & Phan, IEICE 2009): exact
//! coordinate steps on one row of `H` or column of `W` at a time, several cheap sweeps per
//! pair of expensive products (Gillis & Glineur, Neural Comput. 2012).

use dictum_linalg::exec::Exec;
use dictum_linalg::simd::with_simd;
use dictum_linalg::{Mat, Par, Real};

use super::Nmf;
use super::data::Data;
use crate::error::Result;

impl Nmf {
    /// HALS on the rows of `H` with `W` fixed (as columns of `Hᵀ`).
    pub(super) fn hals_h<T: Real>(
        &self,
        v: Data<'_, T>,
        w: &Mat<T>,
        h: &mut Mat<T>,
        exec: &Exec<'_>,
    ) -> Result<()> {
        let wtw = exec.gram(w.as_ref())?; // r x r
        let vtw = v.tmul_w(w.as_ref(), exec)?; // p x r
        let (r, p) = (h.nrows(), h.ncols());
        // The rows of H, one after the other (H's columns are the short r-vectors).
        let mut ht: Vec<T> = vec![T::zero(); r * p];
        for j in 0..p {
            for (k, &x) in h.col(j).iter().enumerate() {
                ht[k * p + j] = x;
            }
        }
        let (l1, l2) = self.penalties(self.alpha_h);
        let sweeps = self.sweeps(w.nrows(), p, v.nnz());
        hals_sweeps(&mut ht, p, &vtw, &wtw, l1, l2, sweeps, exec);
        for j in 0..p {
            for (k, x) in h.col_mut(j).iter_mut().enumerate() {
                *x = ht[k * p + j];
            }
        }
        Ok(())
    }

    /// HALS on the columns of `W` with `H` fixed; returns `V·Hᵀ` and `H·Hᵀ`.
    pub(super) fn hals_w<T: Real>(
        &self,
        v: Data<'_, T>,
        w: &mut Mat<T>,
        h: &Mat<T>,
        exec: &Exec<'_>,
    ) -> Result<(Mat<T>, Mat<T>)> {
        let hht = exec.gram(h.transpose())?; // r x r
        let vht = v.mul_ht(h.as_ref(), exec)?; // n x r
        self.hals_w_with(v, w, &vht, &hht, exec);
        Ok((vht, hht))
    }

    /// The HALS sweeps of [`hals_w`](Self::hals_w) given `V·Hᵀ` and `H·Hᵀ`.
    pub(super) fn hals_w_with<T: Real>(
        &self,
        v: Data<'_, T>,
        w: &mut Mat<T>,
        vht: &Mat<T>,
        hht: &Mat<T>,
        exec: &Exec<'_>,
    ) {
        let (n, r) = (w.nrows(), w.ncols());
        // The columns of W, one after the other: W's own column-major storage.
        let mut x: Vec<T> = Vec::with_capacity(n * r);
        for k in 0..r {
            x.extend(w.col(k).iter().copied());
        }
        let (l1, l2) = self.penalties(self.alpha_w);
        let sweeps = self.sweeps(n, v.shape().1, v.nnz());
        hals_sweeps(&mut x, n, vht, hht, l1, l2, sweeps, exec);
        for k in 0..r {
            for (dst, &src) in w.col_mut(k).iter_mut().zip(&x[k * n..(k + 1) * n]) {
                *dst = src;
            }
        }
    }
}

/// Rows per HALS tile: a tile's `rows x r` block of the factor stays in cache for all its
/// sweeps.
const TILE_ROWS: usize = 256;

/// `sweeps` HALS sweeps over the `r` columns of `x` (`len x r`, column-major): column `k`
/// becomes `max(0, x_k + (num_k − l1 − X·gram_k − l2·x_k) / (gram_kk + l2))`, columns in order,
/// each seeing the ones already updated (Cichocki & Phan 2009). `num` is `len x r`, `gram`
/// `r x r`.
///
/// Row `i` of the update reads only row `i` of `X`, so the sweeps run tile by tile over the
/// rows (each tile cached for all its sweeps, tiles in parallel) and equal the sweeps over the
/// whole matrix exactly. Repeating the cheap sweep on the same `num` and `gram` before the next
/// (expensive) products is Gillis & Glineur's accelerated HALS (Neural Comput. 2012).
#[allow(clippy::too_many_arguments)]
fn hals_sweeps<T: Real>(
    x: &mut [T],
    len: usize,
    num: &Mat<T>,
    gram: &Mat<T>,
    l1: f64,
    l2: f64,
    sweeps: usize,
    exec: &Exec<'_>,
) {
    let r = gram.nrows();
    let (l1, l2) = (T::cast_f64(l1), T::cast_f64(l2));
    let g: Vec<T> = (0..r)
        .flat_map(|k| (0..r).map(move |t| (t, k)))
        .map(|(t, k)| gram[(t, k)])
        .collect();
    let xs: &[T] = x;
    let tile = |i0: usize| -> Vec<T> {
        let rows = TILE_ROWS.min(len - i0);
        // The tile, column-major rows x r, and its numerators.
        let mut xt: Vec<T> = (0..r)
            .flat_map(|k| xs[k * len + i0..k * len + i0 + rows].iter().copied())
            .collect();
        let nt: Vec<T> = (0..r)
            .flat_map(|k| (0..rows).map(move |i| (i, k)))
            .map(|(i, k)| num[(i0 + i, k)])
            .collect();
        let mut acc = vec![T::zero(); rows];
        with_simd(
            #[inline(always)]
            || {
                for _ in 0..sweeps {
                    for k in 0..r {
                        let gk = &g[k * r..(k + 1) * r];
                        let denom = gk[k] + l2;
                        if denom.is_nan() || denom <= T::zero() {
                            xt[k * rows..(k + 1) * rows]
                                .iter_mut()
                                .for_each(|v| *v = T::zero());
                            continue;
                        }
                        for (a, &nv) in acc.iter_mut().zip(&nt[k * rows..(k + 1) * rows]) {
                            *a = nv - l1;
                        }
                        let mut t = 0;
                        while t + 4 <= r {
                            let (w0, w1, w2, w3) = (gk[t], gk[t + 1], gk[t + 2], gk[t + 3]);
                            let cols = &xt[t * rows..(t + 4) * rows];
                            let (c0, rest) = cols.split_at(rows);
                            let (c1, rest) = rest.split_at(rows);
                            let (c2, c3) = rest.split_at(rows);
                            for ((((a, &p), &q), &u), &v) in
                                acc.iter_mut().zip(c0).zip(c1).zip(c2).zip(c3)
                            {
                                *a -= (w0 * p + w1 * q) + (w2 * u + w3 * v);
                            }
                            t += 4;
                        }
                        while t < r {
                            let w = gk[t];
                            for (a, &p) in acc.iter_mut().zip(&xt[t * rows..(t + 1) * rows]) {
                                *a -= w * p;
                            }
                            t += 1;
                        }
                        let inv = T::one() / denom;
                        for (xv, &a) in xt[k * rows..(k + 1) * rows].iter_mut().zip(&acc) {
                            let v = *xv + (a - l2 * *xv) * inv;
                            *xv = if v > T::zero() { v } else { T::zero() };
                        }
                    }
                }
            },
        );
        xt
    };
    let starts: Vec<usize> = (0..len).step_by(TILE_ROWS).collect();
    let tiles: Vec<Vec<T>> = match exec.par() {
        Par::Seq => starts.iter().map(|&i0| tile(i0)).collect(),
        Par::Rayon(_) => {
            use rayon::prelude::*;
            starts.par_iter().map(|&i0| tile(i0)).collect()
        }
    };
    for (&i0, xt) in starts.iter().zip(&tiles) {
        let rows = TILE_ROWS.min(len - i0);
        for k in 0..r {
            x[k * len + i0..k * len + i0 + rows].copy_from_slice(&xt[k * rows..(k + 1) * rows]);
        }
    }
}
