//! The alternating loop every batch learner shares: replace wasted atoms, code, update the
//! dictionary, measure, decide whether to stop.

use std::time::Instant;

use dictum_coding::{Dictionary, Encoder, RunOptions};
use dictum_linalg::{CscMatrix, Mat, MatRef, Par, Real};

use super::replace::replace_atoms;
use super::residual::residual_norms;
use super::{Common, Init, IterationStats, LearnOptions, Learned, StopReason, initial_dictionary};
use crate::error::{LearnError, Result, invalid};
use crate::rng::Rng;

/// A dictionary-update step: improves `dict` (and, for K-SVD, the code values) for fixed
/// supports. Atoms must stay unit-norm.
pub(crate) trait DictionaryUpdate<T: Real> {
    fn update(
        &self,
        y: MatRef<'_, T>,
        dict: &mut Mat<T>,
        codes: &mut CscMatrix<T>,
        rng: &mut Rng,
        par: Par,
    ) -> Result<()>;
}

/// Rejects empty, non-finite or all-zero signals.
pub(crate) fn check_signals<T: Real>(method: &'static str, y: MatRef<'_, T>) -> Result<()> {
    if y.nrows() == 0 || y.ncols() == 0 {
        return Err(LearnError::Empty {
            method,
            nrows: y.nrows(),
            ncols: y.ncols(),
        });
    }
    let mut any = false;
    for j in 0..y.ncols() {
        for &v in y.col(j).iter() {
            if !v.is_finite() {
                return Err(LearnError::NonFinite { method, signal: j });
            }
            any |= v != T::zero();
        }
    }
    if !any {
        return Err(LearnError::AllZero { method });
    }
    Ok(())
}

/// A caller's initial dictionary, checked and normalized.
pub(crate) fn given_dictionary<T: Real>(
    method: &'static str,
    dim: usize,
    d0: MatRef<'_, T>,
    m: usize,
) -> Result<Mat<T>> {
    if d0.nrows() != dim || d0.ncols() != m {
        return Err(LearnError::ShapeMismatch {
            method,
            what: "initial dictionary",
            expected: format!("{dim} x {m} (signal dimension x atoms)"),
            found: format!("{} x {}", d0.nrows(), d0.ncols()),
        });
    }
    let mut d = d0.to_owned();
    for k in 0..m {
        let nrm = d.col(k).norm_l2();
        if !(nrm.is_finite() && nrm > T::zero()) {
            return Err(invalid(
                method,
                "initial dictionary",
                format!("atom {k} with norm {nrm}"),
                "every initial atom must be finite and non-zero",
            ));
        }
        for i in 0..d.nrows() {
            d[(i, k)] /= nrm;
        }
    }
    Ok(d)
}

/// A mini-batch's signals (`None`: all signals), their codes and squared residuals.
type LastIteration<T> = (Option<Mat<T>>, CscMatrix<T>, Vec<T>);

/// The start of every fit: checks the signals, then takes the caller's dictionary `d0`
/// (checked and normalized) or draws one by `init`, and returns it with the random stream the
/// rest of the fit continues.
pub(crate) fn starting_dictionary<T: Real>(
    method: &'static str,
    y: MatRef<'_, T>,
    m: usize,
    d0: Option<MatRef<'_, T>>,
    init: Init,
    seed: u64,
) -> Result<(Mat<T>, Rng)> {
    check_signals(method, y)?;
    let mut rng = Rng::new(seed);
    let dict = match d0 {
        Some(d0) => given_dictionary(method, y.nrows(), d0, m)?,
        None => initial_dictionary(method, y, m, init, &mut rng)?,
    };
    Ok((dict, rng))
}

fn gather<T: Real>(y: MatRef<'_, T>, idx: &[usize]) -> Mat<T> {
    Mat::from_fn(y.nrows(), idx.len(), |i, c| y[(i, idx[c])])
}

/// Runs the loop from the initial dictionary `dict`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn learn<T: Real, E: Encoder<T>, U: DictionaryUpdate<T>>(
    y: MatRef<'_, T>,
    mut dict: Mat<T>,
    coder: &E,
    update: &U,
    common: &Common,
    mut rng: Rng,
    opts: &LearnOptions<'_>,
) -> Result<Learned<T>> {
    let start = Instant::now();
    let par = opts.par();
    let run = RunOptions::new(par);
    let n = y.ncols();
    let batch = common.signals_per_iter.filter(|&b| b < n);
    let stop = &common.stopping;
    let mut history: Vec<IterationStats> = Vec::new();
    // The last iteration's signals (when mini-batched), codes and squared residuals.
    let mut last: Option<LastIteration<T>> = None;
    let mut reason = StopReason::MaxIter;
    for iter in 1..=stop.max_iter {
        let replaced = match &last {
            Some((yb, x, r2)) => {
                let yv = yb.as_ref().map_or(y, |m| m.as_ref());
                replace_atoms(&mut dict, yv, x, r2, &common.replacement, par)?
            }
            None => 0,
        };
        let yb = batch.map(|b| {
            let mut idx = rng.sample_indices(n, b);
            idx.sort_unstable();
            gather(y, &idx)
        });
        let yv = yb.as_ref().map_or(y, |m| m.as_ref());
        let mut x = coder.encode(&Dictionary::new(dict.as_ref())?, yv, &run)?;
        update.update(yv, &mut dict, &mut x, &mut rng, par)?;
        let r2 = residual_norms(yv, dict.as_ref(), &x, par);
        let stats = measure(iter, yv, &x, &r2, replaced, start);
        opts.report(&stats);
        let prev = history.last().map(|s| s.rel_error);
        let (err, nnz) = (stats.rel_error, stats.mean_nnz);
        history.push(stats);
        last = Some((yb, x, r2));
        if stop.target_nnz.is_some_and(|t| nnz <= t) {
            reason = StopReason::NnzTarget;
            break;
        }
        if let (Some(tol), Some(p)) = (stop.tol, prev)
            && (p - err).abs() <= tol * p
        {
            reason = StopReason::Converged;
            break;
        }
        if stop.max_time.is_some_and(|t| start.elapsed() >= t) {
            reason = StopReason::MaxTime;
            break;
        }
    }
    let codes = match last {
        Some((None, x, _)) => x,
        // Mini-batches coded a subset: code every signal with the final dictionary.
        _ => coder.encode(&Dictionary::new(dict.as_ref())?, y, &run)?,
    };
    Ok(Learned {
        dictionary: dict,
        codes,
        history,
        stop: reason,
    })
}

fn measure<T: Real>(
    iter: usize,
    y: MatRef<'_, T>,
    x: &CscMatrix<T>,
    r2: &[T],
    replaced: usize,
    start: Instant,
) -> IterationStats {
    let n = y.ncols();
    let (mut rsum, mut ysum, mut rel) = (0.0, 0.0, 0.0);
    for (j, r) in r2.iter().enumerate() {
        let y2 = y.col(j).squared_norm_l2().into_f64();
        let r = r.into_f64();
        rsum += r;
        ysum += y2;
        if y2 > 0.0 {
            rel += (r / y2).sqrt();
        }
    }
    IterationStats {
        iter,
        rel_error: if ysum > 0.0 {
            (rsum / ysum).sqrt()
        } else {
            0.0
        },
        mean_rel_residual: rel / n as f64,
        mean_nnz: x.nnz() as f64 / n as f64,
        replaced,
        seconds: start.elapsed().as_secs_f64(),
    }
}
