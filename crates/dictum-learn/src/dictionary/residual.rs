//! Residual norms `‖y_j − D·x_j‖` per signal, without forming `Y − D·X`.

use dictum_linalg::{CscMatrix, MatRef, Par, Real};
use rayon::prelude::*;

/// Signals per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 256;

/// Squared residual norms `‖y_j − D·x_j‖²` of every signal, computed column by column in
/// parallel (`O(d·nnz)`, no `d x N` buffer).
pub fn residual_norms<T: Real>(
    y: MatRef<'_, T>,
    d: MatRef<'_, T>,
    x: &CscMatrix<T>,
    par: Par,
) -> Vec<T> {
    let n = y.ncols();
    let mut out = vec![T::zero(); n];
    let work = |(c, chunk): (usize, &mut [T])| {
        let mut r = vec![T::zero(); y.nrows()];
        for (o, slot) in chunk.iter_mut().enumerate() {
            let j = c * CHUNK + o;
            for (ri, &yi) in r.iter_mut().zip(y.col(j).iter()) {
                *ri = yi;
            }
            let (rows, vals) = x.col(j);
            for (&a, &v) in rows.iter().zip(vals) {
                for (ri, &di) in r.iter_mut().zip(d.col(a as usize).iter()) {
                    *ri -= v * di;
                }
            }
            *slot = r.iter().fold(T::zero(), |s, &v| s + v * v);
        }
    };
    match par {
        Par::Seq => out.chunks_mut(CHUNK).enumerate().for_each(work),
        Par::Rayon(_) => out.par_chunks_mut(CHUNK).enumerate().for_each(work),
    }
    out
}

/// `‖Y − D·X‖_F / ‖Y‖_F` (0 when `Y` is zero).
pub fn relative_error<T: Real>(
    y: MatRef<'_, T>,
    d: MatRef<'_, T>,
    x: &CscMatrix<T>,
    par: Par,
) -> f64 {
    let r2: f64 = residual_norms(y, d, x, par)
        .iter()
        .map(|v| v.into_f64())
        .sum();
    let y2 = y.norm_l2().into_f64().powi(2);
    if y2 > 0.0 { (r2 / y2).sqrt() } else { 0.0 }
}
