//! Sparse coding in one call: check the dictionary, code the signals, measure the fit.

use dictum_coding::{Dictionary, Encoder, RunOptions};
use dictum_linalg::{CscMatrix, MatRef, Par, Real};
use rayon::prelude::*;

use crate::Result;

/// Codes the signals `Y` (`d x N`, one per column) over the dictionary `D` (`d x m`,
/// unit-norm atoms) with `coder`, returning `X` (`m x N`, CSC) with `Y ≈ D·X`.
///
/// The dictionary is checked here (finite, unit-norm atoms); when `normalize` is true a
/// normalized copy is used instead, so the codes refer to unit-norm atoms.
///
/// ```
/// use dictum::coding::{Omp, RunOptions};
/// use dictum::{Par, datasets};
/// let digits = datasets::load_digits()?;                        // 64 x 1797
/// let (d, y) = (digits.images.as_ref().subcols(0, 100), digits.images.as_ref().subcols(100, 50));
/// let x = dictum::encode(d, y, &Omp::new().n_nonzero_coefs(5), true, &RunOptions::new(Par::Seq))?;
/// assert_eq!((x.nrows(), x.ncols()), (100, 50));
/// assert!(x.nnz() <= 5 * 50);
/// # Ok::<(), dictum::Error>(())
/// ```
pub fn encode<T: Real>(
    dictionary: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    coder: &dyn Encoder<T>,
    normalize: bool,
    opts: &RunOptions<'_>,
) -> Result<CscMatrix<T>> {
    if normalize {
        let (unit, _) = Dictionary::normalized(dictionary)?;
        let dict = Dictionary::new(unit.as_ref())?;
        return Ok(coder.encode(&dict, signals, opts)?);
    }
    let dict = Dictionary::new(dictionary)?;
    Ok(coder.encode(&dict, signals, opts)?)
}

/// `‖Y − D·X‖_F / ‖Y‖_F`, computed column by column (no `d x N` temporary), in parallel under
/// `Par::Rayon`. Zero when `Y` is zero and fits exactly.
pub fn relative_error<T: Real>(
    dictionary: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    codes: &CscMatrix<T>,
    par: Par,
) -> Result<f64> {
    if codes.nrows() != dictionary.ncols()
        || codes.ncols() != signals.ncols()
        || dictionary.nrows() != signals.nrows()
    {
        return Err(dictum_coding::CodingError::ShapeMismatch {
            method: "relative_error",
            what: "codes",
            expected: format!("{}x{}", dictionary.ncols(), signals.ncols()),
            found: format!("{}x{}", codes.nrows(), codes.ncols()),
            hint: "pass the codes of these signals over this dictionary",
        }
        .into());
    }
    let d = dictionary.nrows();
    let column = |j: usize, r: &mut Vec<f64>| -> (f64, f64) {
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
        (r.iter().map(|v| v * v).sum(), y2)
    };
    let n = signals.ncols();
    let (err2, norm2) = match par {
        Par::Seq => {
            let mut r = Vec::with_capacity(d);
            (0..n).fold((0.0, 0.0), |acc, j| {
                let (e, y) = column(j, &mut r);
                (acc.0 + e, acc.1 + y)
            })
        }
        Par::Rayon(_) => (0..n)
            .into_par_iter()
            .with_min_len(256)
            .map_init(|| Vec::with_capacity(d), |r, j| column(j, r))
            .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1)),
    };
    if norm2 == 0.0 {
        return Ok(if err2 == 0.0 { 0.0 } else { f64::INFINITY });
    }
    Ok((err2 / norm2).sqrt())
}
