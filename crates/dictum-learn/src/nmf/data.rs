//! NMF's data `V` as the solvers see it, and its two products `V·Hᵀ` and `Vᵀ·W`, through the
//! execution context's backend (for a sparse `V`, the sparse products of `dictum-linalg`).

use dictum_linalg::backend::{SparseProduct, Trans};
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use super::NmfData;
use crate::error::{LearnError, Result, invalid};

impl<T: Real> NmfData<'_, T> {
    /// `Vᵀ` in CSC form (the rows of `V`) for a sparse `V`: built once per call so that
    /// `V·Hᵀ` runs row by row, in parallel, with contiguous writes.
    pub(super) fn rows(&self) -> Option<CscMatrix<T>> {
        match self {
            Self::Dense(_) => None,
            Self::Sparse(v) => Some(v.transpose()),
        }
    }
}

/// `V` as the solvers see it: dense, or sparse by columns and by rows.
#[derive(Debug, Clone, Copy)]
pub(super) enum Data<'a, T> {
    Dense(MatRef<'a, T>),
    Sparse {
        cols: &'a CscMatrix<T>,
        /// `Vᵀ` in CSC form.
        rows: &'a CscMatrix<T>,
    },
}

impl<'a, T: Real> Data<'a, T> {
    pub(super) fn new(v: NmfData<'a, T>, rows: Option<&'a CscMatrix<T>>) -> Self {
        match (v, rows) {
            (NmfData::Sparse(cols), Some(rows)) => Data::Sparse { cols, rows },
            (NmfData::Sparse(cols), None) => {
                // Unreachable through the public entry points, which always pass the rows;
                // a dense view of nothing would be wrong, so fall back to columns twice.
                Data::Sparse { cols, rows: cols }
            }
            (NmfData::Dense(m), _) => Data::Dense(m),
        }
    }

    pub(super) fn shape(&self) -> (usize, usize) {
        match self {
            Self::Dense(v) => (v.nrows(), v.ncols()),
            Self::Sparse { cols, .. } => (cols.nrows(), cols.ncols()),
        }
    }

    /// `V·Hᵀ`, `n x r`.
    pub(super) fn mul_ht(&self, h: MatRef<'_, T>, exec: &Exec<'_>) -> Result<Mat<T>> {
        Ok(match self {
            Self::Dense(v) => exec.product(*v, Trans::No, h, Trans::Yes)?,
            // Row i of V·Hᵀ is Σ_j v_ij·h_j over the non-zeros of row i (a column of Vᵀ).
            Self::Sparse { rows, .. } => exec.sparse_product(
                SparseProduct::SparseTransposeTimesDense,
                rows,
                h.transpose(),
            )?,
        })
    }

    /// `Vᵀ·W`, `p x r`.
    pub(super) fn tmul_w(&self, w: MatRef<'_, T>, exec: &Exec<'_>) -> Result<Mat<T>> {
        Ok(match self {
            Self::Dense(v) => exec.product(*v, Trans::Yes, w, Trans::No)?,
            // Row j of Vᵀ·W is Σ_i v_ij·w_i over the non-zeros of column j.
            Self::Sparse { cols, .. } => {
                exec.sparse_product(SparseProduct::SparseTransposeTimesDense, cols, w)?
            }
        })
    }

    /// Entries that can be non-zero.
    pub(super) fn nnz(&self) -> usize {
        match self {
            Self::Dense(v) => v.nrows() * v.ncols(),
            Self::Sparse { cols: v, .. } => v.nnz(),
        }
    }

    pub(super) fn norm2(&self) -> f64 {
        match self {
            Self::Dense(v) => v.squared_norm_l2().into_f64(),
            Self::Sparse { cols: v, .. } => v.values().iter().map(|x| x.into_f64().powi(2)).sum(),
        }
    }

    pub(super) fn sum(&self) -> f64 {
        match self {
            Self::Dense(v) => (0..v.ncols())
                .map(|j| v.col(j).iter().map(|x| x.into_f64()).sum::<f64>())
                .sum(),
            Self::Sparse { cols: v, .. } => v.values().iter().map(|x| x.into_f64()).sum(),
        }
    }

    /// Calls `f(i, j, v_ij)` for every entry that can be non-zero.
    pub(super) fn for_each(&self, mut f: impl FnMut(usize, usize, T)) {
        match self {
            Self::Dense(v) => {
                for j in 0..v.ncols() {
                    for i in 0..v.nrows() {
                        f(i, j, v[(i, j)]);
                    }
                }
            }
            Self::Sparse { cols: v, .. } => {
                for j in 0..v.ncols() {
                    let (rows, vals) = v.col(j);
                    for (&i, &x) in rows.iter().zip(vals) {
                        f(i as usize, j, x);
                    }
                }
            }
        }
    }

    pub(super) fn check(&self) -> Result<()> {
        let (n, p) = self.shape();
        if n == 0 || p == 0 {
            return Err(LearnError::Empty {
                method: "nmf",
                nrows: n,
                ncols: p,
            });
        }
        let mut bad: Option<(usize, usize, f64)> = None;
        self.for_each(|i, j, x| {
            if bad.is_none() && !(x.is_finite() && x >= T::zero()) {
                bad = Some((i, j, x.into_f64()));
            }
        });
        if let Some((i, j, x)) = bad {
            return Err(invalid(
                "nmf",
                "V",
                format!("entry ({i}, {j}) = {x}"),
                "NMF needs finite, non-negative data; shift or clip it first",
            ));
        }
        Ok(())
    }
}
