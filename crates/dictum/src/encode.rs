//! Sparse coding in one call: check the dictionary, code the signals.

use dictum_coding::{Dictionary, Encoder};
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, MatRef, Real};

use crate::Result;

/// Codes the signals `Y` (`d x N`, one per column) over the dictionary `D` (`d x m`,
/// unit-norm atoms) with `coder`, returning `X` (`m x N`, CSC) with `Y ≈ D·X`.
///
/// The dictionary is checked here (finite, unit-norm atoms); when `normalize` is true a
/// normalized copy is used instead, so the codes refer to unit-norm atoms. The fit is
/// [`relative_error`](crate::relative_error).
///
/// ```
/// use dictum::coding::Omp;
/// use dictum::{Exec, datasets};
/// let digits = datasets::load_digits()?;                        // 64 x 1797
/// let (d, y) = (digits.images.as_ref().subcols(0, 100), digits.images.as_ref().subcols(100, 50));
/// let omp = Omp::new().n_nonzero_coefs(5).check()?;
/// let x = dictum::encode(d, y, &omp, true, &Exec::default())?;
/// assert_eq!((x.nrows(), x.ncols()), (100, 50));
/// assert!(x.nnz() <= 5 * 50);
/// // The codes refer to the normalized atoms.
/// let (unit, _) = dictum::coding::Dictionary::normalized(d)?;
/// assert!(dictum::relative_error(unit.as_ref(), y, &x, &Exec::default())? < 0.5);
/// # Ok::<(), dictum::Error>(())
/// ```
pub fn encode<T: Real>(
    dictionary: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    coder: &dyn Encoder<T>,
    normalize: bool,
    exec: &Exec<'_>,
) -> Result<CscMatrix<T>> {
    if normalize {
        let (unit, _) = Dictionary::normalized(dictionary)?;
        let dict = Dictionary::new(unit.as_ref())?;
        return Ok(coder.encode(&dict, signals, exec)?);
    }
    let dict = Dictionary::new(dictionary)?;
    Ok(coder.encode(&dict, signals, exec)?)
}
