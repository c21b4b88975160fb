//! The alternating loop every batch learner shares: replace wasted atoms, code, update the
//! dictionary, measure, report, decide whether to stop.

use dictum_coding::{Dictionary, Encoder, Signals, residual_norms};
use dictum_linalg::exec::{Exec, IterationStats};
use dictum_linalg::{CscMatrix, LinalgError, Mat, MatRef, Real};

use super::replace::replace_atoms;
use super::{Common, Init, Learned, SparseModel, initial_dictionary};
use crate::error::{LearnError, Result, invalid};
use crate::fit::{Monitor, Progression};
use crate::rng::Rng;

/// A dictionary-update step: improves `dict` (and, for K-SVD, the code values) for fixed
/// supports. Atoms change through `Dictionary::set_atom`, which keeps them unit-norm.
pub(crate) trait DictionaryUpdate<T: Real> {
    fn update(
        &self,
        y: MatRef<'_, T>,
        dict: &mut Dictionary<'static, T>,
        codes: &mut CscMatrix<T>,
        rng: &mut Rng,
        exec: &Exec<'_>,
    ) -> Result<()>;
}

/// Checks a fit's signals once: non-empty, finite (in parallel), not all zero.
pub(crate) fn check_signals<'a, T: Real>(
    method: &'static str,
    y: MatRef<'a, T>,
    exec: &Exec<'_>,
) -> Result<Signals<'a, T>> {
    if y.nrows() == 0 || y.ncols() == 0 {
        return Err(LearnError::Empty {
            method,
            nrows: y.nrows(),
            ncols: y.ncols(),
        });
    }
    let signals = Signals::new(y, exec).map_err(|e| match e {
        dictum_coding::CodingError::Linalg(LinalgError::NonFinite { col, .. }) => {
            LearnError::NonFinite {
                method,
                signal: col,
            }
        }
        other => other.into(),
    })?;
    let any = (0..y.ncols()).any(|j| y.col(j).iter().any(|&v| v != T::zero()));
    if !any {
        return Err(LearnError::AllZero { method });
    }
    Ok(signals)
}

/// A caller's initial dictionary, checked and normalized.
pub(crate) fn given_dictionary<T: Real>(
    method: &'static str,
    dim: usize,
    d0: MatRef<'_, T>,
    m: usize,
) -> Result<Dictionary<'static, T>> {
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
    Ok(Dictionary::owned(d.as_ref())?)
}

/// The start of every fit: checks the signals once, then takes the caller's dictionary `d0`
/// (checked and normalized) or draws one by `init` from the context's seed, and returns them
/// with the random stream the rest of the fit continues.
pub(crate) fn starting_dictionary<'a, T: Real>(
    method: &'static str,
    y: MatRef<'a, T>,
    m: usize,
    d0: Option<MatRef<'_, T>>,
    init: Init,
    exec: &Exec<'_>,
) -> Result<(Signals<'a, T>, Dictionary<'static, T>, Rng)> {
    let signals = check_signals(method, y, exec)?;
    let mut rng = Rng::new(exec.seed());
    let dict = match d0 {
        Some(d0) => given_dictionary(method, y.nrows(), d0, m)?,
        None => Dictionary::owned(initial_dictionary(method, y, m, init, &mut rng)?.as_ref())?,
    };
    Ok((signals, dict, rng))
}

/// The last iteration's mini-batch (`None`: all signals), codes and squared residuals.
type LastIteration<T> = (Option<Mat<T>>, CscMatrix<T>, Vec<T>);

/// Runs the loop from the initial dictionary `dict`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn learn<T: Real, E: Encoder<T>, U: DictionaryUpdate<T>>(
    signals: Signals<'_, T>,
    mut dict: Dictionary<'static, T>,
    coder: &E,
    update: &U,
    common: &Common,
    mut rng: Rng,
    exec: &Exec<'_>,
) -> Result<Learned<T>> {
    let y = signals.view();
    let n = y.ncols();
    let batch = common.signals_per_iter.filter(|&b| b < n);
    let mut progress = Progression::new(&common.stopping, Monitor::RelError, exec);
    // The last iteration's signals (when mini-batched), codes and squared residuals.
    let mut last: Option<LastIteration<T>> = None;
    for iter in 1..=common.stopping.max_iter {
        let replaced = match &last {
            Some((yb, x, r2)) => {
                let yv = yb.as_ref().map_or(y, |m| m.as_ref());
                replace_atoms(&mut dict, yv, x, r2, &common.replacement, exec)?
            }
            None => 0,
        };
        let mut buf = Mat::zeros(0, 0);
        let (x, r2, stats) = {
            let ys = match batch {
                Some(b) => {
                    let mut idx = rng.sample_indices(n, b);
                    idx.sort_unstable();
                    signals.gather_into(&idx, &mut buf)
                }
                None => signals,
            };
            let yv = ys.view();
            let mut x = coder.encode_signals(&dict, ys, exec)?;
            update.update(yv, &mut dict, &mut x, &mut rng, exec)?;
            let r2 = residual_norms(dict.atoms(), yv, &x, exec)?;
            let stats = measure(iter, yv, &x, &r2, replaced, progress.seconds());
            (x, r2, stats)
        };
        last = Some((batch.is_some().then_some(buf), x, r2));
        if progress.record(stats, false)? {
            break;
        }
    }
    let codes = match last {
        Some((None, x, _)) => x,
        // Mini-batches coded a subset: code every signal with the final dictionary.
        _ => coder.encode_signals(&dict, signals, exec)?,
    };
    Ok(progress.finish(SparseModel {
        dictionary: dict.into_mat(),
        codes,
    }))
}

/// The measurements of one iteration on the signals `y` it used.
pub(crate) fn measure<T: Real>(
    iter: usize,
    y: MatRef<'_, T>,
    x: &CscMatrix<T>,
    r2: &[T],
    replaced: usize,
    seconds: f64,
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
        objective: 0.5 * rsum,
        rel_error: if ysum > 0.0 {
            (rsum / ysum).sqrt()
        } else {
            0.0
        },
        mean_rel_residual: Some(rel / n as f64),
        mean_nnz: x.nnz() as f64 / n as f64,
        replaced,
        seconds,
    }
}
