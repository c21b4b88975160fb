//! Sparse code matrices in scipy's `save_npz` layout.
//!
//! `scipy.sparse.save_npz(f, m)` for a CSC matrix writes an `.npz` with members `data`,
//! `indices` (row indices), `indptr` (column pointers), `shape` (two integers) and `format`
//! (the byte string `b'csc'`). dictum writes the same members, so `scipy.sparse.load_npz` opens
//! dictum's codes, and reads scipy's files back, including unsorted indices and int64 index
//! arrays.

use std::path::Path;

use dictum_linalg::{CscMatrix, Real};

use crate::array::{Array, ArrayData};
use crate::error::{IoError, Result};
use crate::npz::{Compression, NpzReader, NpzWriter};

/// Saves `codes` as a scipy-compatible CSC `.npz` (atomically). Index arrays are `int32`
/// when they fit, `int64` otherwise, as scipy does.
pub fn save_csc<T: Real>(
    path: impl AsRef<Path>,
    codes: &CscMatrix<T>,
    compression: Compression,
) -> Result<()> {
    let fits_i32 = codes.nnz() <= i32::MAX as usize && codes.nrows() <= i32::MAX as usize;
    let (indices, indptr) = if fits_i32 {
        (
            ArrayData::I32(codes.row_indices().iter().map(|&r| r as i32).collect()),
            ArrayData::I32(codes.col_ptr().iter().map(|&p| p as i32).collect()),
        )
    } else {
        (
            ArrayData::I64(codes.row_indices().iter().map(|&r| i64::from(r)).collect()),
            ArrayData::I64(codes.col_ptr().iter().map(|&p| p as i64).collect()),
        )
    };
    let data = Array::vector(ArrayData::from_reals(codes.values()));
    let shape = Array::vector(ArrayData::I64(vec![
        codes.nrows() as i64,
        codes.ncols() as i64,
    ]));
    let mut w = NpzWriter::create(path, compression)?;
    w.add("indices", &Array::vector(indices))?;
    w.add("indptr", &Array::vector(indptr))?;
    w.add("format", &Array::scalar_bytes("csc"))?;
    w.add("shape", &shape)?;
    w.add("data", &data)?;
    w.finish()
}

/// Loads a CSC matrix saved by [`save_csc`] or `scipy.sparse.save_npz`, converting values to
/// `T`. A CSR file (scipy's default for most sparse results) is read as the same matrix,
/// converted to CSC in `O(nnz)` (it is never made dense); other formats get an error saying
/// how to convert them.
pub fn load_csc<T: Real>(path: impl AsRef<Path>) -> Result<CscMatrix<T>> {
    let path = path.as_ref();
    let bad = |reason: String| IoError::Sparse {
        path: path.to_path_buf(),
        reason,
    };
    let mut npz = NpzReader::open(path)?;
    let format = npz.read("format")?;
    let format = format
        .data
        .first_str()
        .ok_or_else(|| bad("member 'format' is not a string".into()))?;
    if format != "csc" && format != "csr" {
        return Err(bad(format!(
            "format is '{format}'; dictum reads 'csc' and 'csr': convert with m.tocsc() before save_npz"
        )));
    }
    let csr = format == "csr";
    let shape = npz
        .read("shape")?
        .data
        .to_i64_vec()
        .ok_or_else(|| bad("member 'shape' is not integer".into()))?;
    let [nrows, ncols] = shape[..] else {
        return Err(bad(format!(
            "shape has {} entries, expected 2",
            shape.len()
        )));
    };
    let (nrows, ncols) = (
        usize::try_from(nrows).map_err(|_| bad(format!("negative row count {nrows}")))?,
        usize::try_from(ncols).map_err(|_| bad(format!("negative column count {ncols}")))?,
    );
    let to_index = |name: &str, v: Vec<i64>| -> Result<Vec<usize>> {
        v.into_iter()
            .map(|x| usize::try_from(x).map_err(|_| bad(format!("negative entry {x} in '{name}'"))))
            .collect()
    };
    let indptr = npz.read("indptr")?.data.to_i64_vec();
    let indptr = to_index(
        "indptr",
        indptr.ok_or_else(|| bad("member 'indptr' is not integer".into()))?,
    )?;
    let indices = npz.read("indices")?.data.to_i64_vec();
    let indices = to_index(
        "indices",
        indices.ok_or_else(|| bad("member 'indices' is not integer".into()))?,
    )?;
    let indices = indices
        .into_iter()
        .map(|r| u32::try_from(r).map_err(|_| bad(format!("index {r} exceeds u32"))))
        .collect::<Result<Vec<u32>>>()?;
    let values = npz
        .read("data")?
        .data
        .to_real_vec::<T>()
        .ok_or_else(|| bad("member 'data' is not numeric".into()))?;
    if csr {
        // CSR of V is CSC of Vᵀ.
        let vt = CscMatrix::try_new(ncols, nrows, indptr, indices, values)
            .map_err(|e| bad(e.to_string()))?;
        return Ok(vt.transpose());
    }
    CscMatrix::try_new(nrows, ncols, indptr, indices, values).map_err(|e| bad(e.to_string()))
}
