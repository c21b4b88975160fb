//! How well codes fit: residual norms `‖y_j − D·x_j‖` per signal and the relative error
//! `‖Y − D·X‖_F / ‖Y‖_F`, computed column by column without forming `Y − D·X`.

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, MatRef, Par, Real};
use rayon::prelude::*;

use crate::error::{CodingError, Result};

/// Signals per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 256;

fn check_shapes<T: Real>(
    method: &'static str,
    dictionary: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    codes: &CscMatrix<T>,
) -> Result<()> {
    if codes.nrows() != dictionary.ncols()
        || codes.ncols() != signals.ncols()
        || dictionary.nrows() != signals.nrows()
    {
        return Err(CodingError::ShapeMismatch {
            method,
            what: "codes",
            expected: format!(
                "{}x{} codes of {}x{} signals over a {}x{} dictionary",
                dictionary.ncols(),
                signals.ncols(),
                dictionary.nrows(),
                signals.ncols(),
                dictionary.nrows(),
                dictionary.ncols()
            ),
            found: format!(
                "{}x{} codes, {}x{} signals, {}x{} dictionary",
                codes.nrows(),
                codes.ncols(),
                signals.nrows(),
                signals.ncols(),
                dictionary.nrows(),
                dictionary.ncols()
            ),
            hint: "pass the codes of these signals over this dictionary",
        });
    }
    Ok(())
}

/// Runs `f(j)` for every signal `j < n` into `out[j]`, in chunks, in parallel under
/// `Par::Rayon`; each entry is computed the same way whatever the threads.
fn per_signal<S: Default, R: Send + Copy + Default>(
    n: usize,
    par: Par,
    f: impl Fn(usize, &mut S) -> R + Sync,
) -> Vec<R> {
    let mut out = vec![R::default(); n];
    let work = |(c, chunk): (usize, &mut [R])| {
        let mut scratch = S::default();
        for (o, slot) in chunk.iter_mut().enumerate() {
            *slot = f(c * CHUNK + o, &mut scratch);
        }
    };
    match par {
        Par::Seq => out.chunks_mut(CHUNK).enumerate().for_each(work),
        Par::Rayon(_) => out.par_chunks_mut(CHUNK).enumerate().for_each(work),
    }
    out
}

/// Squared residual norms `‖y_j − D·x_j‖²` of every signal, in the signals' precision
/// (`O(d·nnz)`, no `d x N` buffer); what a learner replaces atoms by and measures with.
pub fn residual_norms<T: Real>(
    dictionary: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    codes: &CscMatrix<T>,
    exec: &Exec<'_>,
) -> Result<Vec<T>> {
    check_shapes("residual_norms", dictionary, signals, codes)?;
    Ok(per_signal(
        signals.ncols(),
        exec.par(),
        |j, r: &mut Vec<T>| {
            r.clear();
            r.extend(signals.col(j).iter().copied());
            let (rows, vals) = codes.col(j);
            for (&a, &v) in rows.iter().zip(vals) {
                for (ri, &di) in r.iter_mut().zip(dictionary.col(a as usize).iter()) {
                    *ri -= v * di;
                }
            }
            r.iter().fold(T::zero(), |s, &v| s + v * v)
        },
    ))
}

/// `‖Y − D·X‖_F / ‖Y‖_F` for signals `Y` (`d x N`), dictionary `D` (`d x m`) and codes `X`
/// (`m x N`), accumulated in `f64` column by column (no `d x N` temporary) and summed in
/// signal order, so the result does not depend on the thread count. Zero when `Y` is zero
/// and fits exactly (infinite when `Y` is zero and `D·X` is not).
pub fn relative_error<T: Real>(
    dictionary: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    codes: &CscMatrix<T>,
    exec: &Exec<'_>,
) -> Result<f64> {
    check_shapes("relative_error", dictionary, signals, codes)?;
    let d = dictionary.nrows();
    let parts = per_signal(signals.ncols(), exec.par(), |j, r: &mut Vec<f64>| {
        r.clear();
        r.extend((0..d).map(|i| signals[(i, j)].into_f64()));
        let y2: f64 = r.iter().map(|v| v * v).sum();
        let (rows, vals) = codes.col(j);
        for (&a, &v) in rows.iter().zip(vals) {
            let v = v.into_f64();
            for (i, ri) in r.iter_mut().enumerate() {
                *ri -= dictionary[(i, a as usize)].into_f64() * v;
            }
        }
        (r.iter().map(|v| v * v).sum::<f64>(), y2)
    });
    let (err2, norm2) = parts
        .iter()
        .fold((0.0, 0.0), |acc, p| (acc.0 + p.0, acc.1 + p.1));
    if norm2 == 0.0 {
        return Ok(if err2 == 0.0 { 0.0 } else { f64::INFINITY });
    }
    Ok((err2 / norm2).sqrt())
}
