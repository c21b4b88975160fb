//! Saving and loading a learned dictionary with its codes and history, in one `.npz` file
//! that numpy reads directly.
//!
//! Members: `dictionary` (`d x m`, Fortran order, so `np.load(f)["dictionary"]` has the
//! matrix's own shape), the codes as scipy CSC parts `codes_data`, `codes_indices`,
//! `codes_indptr`, `codes_shape` (`scipy.sparse.csc_matrix((data, indices, indptr), shape)`),
//! `history` (`iterations x 7`: iter, objective, rel_error, mean_rel_residual (NaN where not
//! measured), mean_nnz, replaced, seconds), `n_iter` and `stop` (why the run ended). Files
//! from before the objective was recorded (`iterations x 6`) load too.

use std::path::Path;

use dictum_io::array::{Array, ArrayData, Order};
use dictum_io::npz::{Compression, NpzReader, NpzWriter};
use dictum_learn::dictionary::{Learned, SparseModel};
use dictum_learn::{Fit, IterationStats, StopReason};
use dictum_linalg::{CscMatrix, Real};

use crate::Result;

/// Columns of the `history` member.
const HISTORY: usize = 7;

/// Saves `learned` to `path` (`.npz`, deflate-compressed, written atomically).
pub fn save_learned<T: Real>(path: impl AsRef<Path>, learned: &Learned<T>) -> Result<()> {
    let c = &learned.codes;
    let h = &learned.history;
    let mut hist = Vec::with_capacity(HISTORY * h.len());
    for s in h {
        hist.extend_from_slice(&[
            s.iter as f64,
            s.objective,
            s.rel_error,
            s.mean_rel_residual.unwrap_or(f64::NAN),
            s.mean_nnz,
            s.replaced as f64,
            s.seconds,
        ]);
    }
    let mut w = NpzWriter::create(path, Compression::Deflate)?;
    w.add(
        "dictionary",
        &Array::from_mat_fortran(learned.dictionary.as_ref()),
    )?;
    w.add(
        "codes_data",
        &Array::vector(ArrayData::from_reals(c.values())),
    )?;
    w.add(
        "codes_indices",
        &Array::vector(ArrayData::I64(
            c.row_indices().iter().map(|&r| i64::from(r)).collect(),
        )),
    )?;
    w.add(
        "codes_indptr",
        &Array::vector(ArrayData::I64(
            c.col_ptr().iter().map(|&p| p as i64).collect(),
        )),
    )?;
    w.add(
        "codes_shape",
        &Array::vector(ArrayData::I64(vec![c.nrows() as i64, c.ncols() as i64])),
    )?;
    w.add(
        "history",
        &Array {
            shape: vec![h.len(), HISTORY],
            order: Order::C,
            data: ArrayData::F64(hist),
        },
    )?;
    w.add(
        "n_iter",
        &Array::vector(ArrayData::I64(vec![learned.n_iter as i64])),
    )?;
    w.add("stop", &Array::scalar_str(learned.stop.name()))?;
    w.finish()?;
    Ok(())
}

/// Loads what [`save_learned`] wrote, converting values to `T`.
pub fn load_learned<T: Real>(path: impl AsRef<Path>) -> Result<Learned<T>> {
    let path = path.as_ref();
    let bad = |reason: String| dictum_io::IoError::Shape {
        path: path.to_path_buf(),
        shape: vec![],
        problem: reason,
    };
    let mut npz = NpzReader::open(path)?;
    let dictionary = npz
        .read("dictionary")?
        .to_mat::<T>()
        .ok_or_else(|| bad("member 'dictionary' is not a real matrix".into()))?;
    let ints = |npz: &mut NpzReader, name: &str| -> Result<Vec<i64>> {
        Ok(npz
            .read(name)?
            .data
            .to_i64_vec()
            .ok_or_else(|| bad(format!("member '{name}' is not integer")))?)
    };
    let shape = ints(&mut npz, "codes_shape")?;
    let [m, n] = shape[..] else {
        return Err(bad("codes_shape must hold 2 entries".into()).into());
    };
    let to_usize = |v: i64| usize::try_from(v).map_err(|_| bad(format!("negative index {v}")));
    let indptr = ints(&mut npz, "codes_indptr")?
        .into_iter()
        .map(to_usize)
        .collect::<std::result::Result<Vec<usize>, _>>()?;
    let indices = ints(&mut npz, "codes_indices")?
        .into_iter()
        .map(|v| u32::try_from(v).map_err(|_| bad(format!("row index {v} out of range"))))
        .collect::<std::result::Result<Vec<u32>, _>>()?;
    let values = npz
        .read("codes_data")?
        .data
        .to_real_vec::<T>()
        .ok_or_else(|| bad("member 'codes_data' is not real".into()))?;
    let codes = CscMatrix::try_new(to_usize(m)?, to_usize(n)?, indptr, indices, values)?;
    let hist = npz.read("history")?;
    let cols = hist.shape.get(1).copied().unwrap_or(HISTORY);
    let hist = hist
        .data
        .to_real_vec::<f64>()
        .ok_or_else(|| bad("member 'history' is not real".into()))?;
    let history: Vec<IterationStats> = match cols {
        HISTORY => hist
            .chunks_exact(HISTORY)
            .map(|r| IterationStats {
                iter: r[0] as usize,
                objective: r[1],
                rel_error: r[2],
                mean_rel_residual: (!r[3].is_nan()).then_some(r[3]),
                mean_nnz: r[4],
                replaced: r[5] as usize,
                seconds: r[6],
            })
            .collect(),
        6 => hist
            .chunks_exact(6)
            .map(|r| IterationStats {
                iter: r[0] as usize,
                objective: f64::NAN,
                rel_error: r[1],
                mean_rel_residual: (!r[2].is_nan()).then_some(r[2]),
                mean_nnz: r[3],
                replaced: r[4] as usize,
                seconds: r[5],
            })
            .collect(),
        c => return Err(bad(format!("member 'history' has {c} columns, expected 7")).into()),
    };
    let n_iter = match npz.read("n_iter") {
        Ok(a) => a
            .data
            .to_i64_vec()
            .and_then(|v| v.first().copied())
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| bad("member 'n_iter' is not a count".into()))?,
        Err(_) => history.len(),
    };
    let stop_name = npz.read("stop")?.data.first_str().unwrap_or_default();
    let stop = StopReason::from_name(&stop_name)
        .ok_or_else(|| bad(format!("unknown stop reason '{stop_name}'")))?;
    Ok(Fit {
        model: SparseModel { dictionary, codes },
        history,
        n_iter,
        stop,
    })
}
