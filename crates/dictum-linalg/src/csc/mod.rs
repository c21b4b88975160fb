//! Compressed sparse column (CSC) matrices: the storage of sparse codes `X` (`m x N`, one
//! column per signal, a few non-zeros per column).
//!
//! The layout is scipy's `csc_matrix` / Julia's `SparseMatrixCSC`: the non-zeros of column
//! `j` are `values[col_ptr[j]..col_ptr[j+1]]` at rows `row_indices[..]` (strictly increasing
//! within a column). Row indices are `u32`: a code matrix indexes atoms, and 4·10⁹ atoms is
//! far beyond any dictionary, while halving the index memory matters at 10⁸ non-zeros.

use faer::{Mat, MatRef};
use rayon::prelude::*;

use crate::error::{LinalgError, Result};
use crate::real::Real;

mod products;

pub(crate) use products::add_outer_products;

/// A sparse `nrows x ncols` matrix in compressed sparse column form.
#[derive(Debug, Clone, PartialEq)]
pub struct CscMatrix<T> {
    nrows: usize,
    ncols: usize,
    col_ptr: Vec<usize>,
    row_indices: Vec<u32>,
    values: Vec<T>,
}

fn invalid(msg: String) -> LinalgError {
    LinalgError::InvalidCsc(msg)
}

impl<T: Real> CscMatrix<T> {
    /// The transpose, in CSC form (equivalently: this matrix in CSR form), in `O(nnz)`; row
    /// indices come out sorted.
    pub fn transpose(&self) -> Self {
        let (n, p) = (self.nrows(), self.ncols());
        let mut ptr = vec![0usize; n + 1];
        for &i in self.row_indices() {
            ptr[i as usize + 1] += 1;
        }
        for i in 0..n {
            ptr[i + 1] += ptr[i];
        }
        let mut next = ptr.clone();
        let mut idx = vec![0u32; self.nnz()];
        let mut vals = vec![T::zero(); self.nnz()];
        for j in 0..p {
            let (rows, xs) = self.col(j);
            for (&i, &x) in rows.iter().zip(xs) {
                let at = next[i as usize];
                idx[at] = j as u32;
                vals[at] = x;
                next[i as usize] += 1;
            }
        }
        Self {
            nrows: p,
            ncols: n,
            col_ptr: ptr,
            row_indices: idx,
            values: vals,
        }
    }

    /// Builds a matrix from its parts, checking them.
    ///
    /// `col_ptr` has `ncols + 1` non-decreasing entries starting at 0 and ending at the
    /// number of non-zeros; every row index is below `nrows`. Row indices that are not sorted
    /// within a column (scipy allows that) are sorted here; a repeated row index in one
    /// column is an error.
    pub fn try_new(
        nrows: usize,
        ncols: usize,
        col_ptr: Vec<usize>,
        mut row_indices: Vec<u32>,
        mut values: Vec<T>,
    ) -> Result<Self> {
        if nrows > u32::MAX as usize + 1 {
            return Err(invalid(format!(
                "{nrows} rows exceed the u32 row-index range; split the matrix"
            )));
        }
        if col_ptr.len() != ncols + 1 {
            return Err(invalid(format!(
                "col_ptr has {} entries, a matrix with {ncols} columns needs {}",
                col_ptr.len(),
                ncols + 1
            )));
        }
        if row_indices.len() != values.len() {
            return Err(invalid(format!(
                "{} row indices but {} values; they must pair up",
                row_indices.len(),
                values.len()
            )));
        }
        if col_ptr[0] != 0 || col_ptr[ncols] != values.len() {
            return Err(invalid(format!(
                "col_ptr must start at 0 and end at nnz = {}, got {}..{}",
                values.len(),
                col_ptr[0],
                col_ptr[ncols]
            )));
        }
        // The common case, every column already valid and sorted, is checked in parallel;
        // otherwise the loop below sorts columns or reports the first problem.
        let sorted = |j: usize| {
            let (a, b) = (col_ptr[j], col_ptr[j + 1]);
            a <= b
                && b <= row_indices.len()
                && row_indices[a..b].windows(2).all(|w| w[0] < w[1])
                && row_indices[a..b]
                    .last()
                    .is_none_or(|&r| (r as usize) < nrows)
        };
        let all_sorted = if values.len() >= 1 << 16 {
            (0..ncols).into_par_iter().with_min_len(1024).all(sorted)
        } else {
            (0..ncols).all(sorted)
        };
        if all_sorted {
            return Ok(Self {
                nrows,
                ncols,
                col_ptr,
                row_indices,
                values,
            });
        }
        for j in 0..ncols {
            let (a, b) = (col_ptr[j], col_ptr[j + 1]);
            if a > b {
                return Err(invalid(format!(
                    "col_ptr decreases at column {j} ({a} > {b})"
                )));
            }
            let rows = &row_indices[a..b];
            if let Some(&r) = rows.iter().find(|&&r| r as usize >= nrows) {
                return Err(invalid(format!(
                    "row index {r} in column {j} is out of range for {nrows} rows"
                )));
            }
            if !rows.windows(2).all(|w| w[0] < w[1]) {
                let mut pairs: Vec<(u32, T)> = rows
                    .iter()
                    .copied()
                    .zip(values[a..b].iter().copied())
                    .collect();
                pairs.sort_by_key(|p| p.0);
                if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                    return Err(invalid(format!(
                        "row index {} appears twice in column {j}; sum duplicates first \
                         (scipy: m.sum_duplicates())",
                        w[0].0
                    )));
                }
                for (k, (r, v)) in pairs.into_iter().enumerate() {
                    row_indices[a + k] = r;
                    values[a + k] = v;
                }
            }
        }
        Ok(Self {
            nrows,
            ncols,
            col_ptr,
            row_indices,
            values,
        })
    }

    /// An all-zero `nrows x ncols` matrix.
    pub fn zeros(nrows: usize, ncols: usize) -> Self {
        Self {
            nrows,
            ncols,
            col_ptr: vec![0; ncols + 1],
            row_indices: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The non-zero entries of a dense matrix (entries exactly equal to zero are dropped).
    pub fn from_dense(a: MatRef<'_, T>) -> Result<Self> {
        let mut b = CscBuilder::new(a.nrows());
        for j in 0..a.ncols() {
            b.push_column((0..a.nrows()).filter_map(|i| {
                let v = a[(i, j)];
                (v != T::zero()).then_some((i, v))
            }))?;
        }
        Ok(b.finish())
    }

    /// The dense `nrows x ncols` equivalent.
    pub fn to_dense(&self) -> Mat<T> {
        let mut out = Mat::zeros(self.nrows, self.ncols);
        for j in 0..self.ncols {
            let (rows, vals) = self.col(j);
            for (&r, &v) in rows.iter().zip(vals) {
                out[(r as usize, j)] = v;
            }
        }
        out
    }

    /// Number of rows (atoms, for a code matrix).
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns (signals, for a code matrix).
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Column pointers (`ncols + 1` entries).
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }

    /// Row index of every stored entry.
    pub fn row_indices(&self) -> &[u32] {
        &self.row_indices
    }

    /// Every stored value, column by column.
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// Mutable access to the stored values (the sparsity pattern stays fixed).
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// Row indices and values of column `j`. Panics if `j >= ncols` (an index, not input).
    pub fn col(&self, j: usize) -> (&[u32], &[T]) {
        let (a, b) = (self.col_ptr[j], self.col_ptr[j + 1]);
        (&self.row_indices[a..b], &self.values[a..b])
    }

    /// Takes the matrix apart: `(nrows, ncols, col_ptr, row_indices, values)`.
    pub fn into_parts(self) -> (usize, usize, Vec<usize>, Vec<u32>, Vec<T>) {
        (
            self.nrows,
            self.ncols,
            self.col_ptr,
            self.row_indices,
            self.values,
        )
    }
}

/// Builds a [`CscMatrix`] one column at a time, as a sparse coder produces it.
#[derive(Debug, Clone)]
pub struct CscBuilder<T> {
    nrows: usize,
    col_ptr: Vec<usize>,
    row_indices: Vec<u32>,
    values: Vec<T>,
}

impl<T: Real> CscBuilder<T> {
    /// A builder for a matrix with `nrows` rows and, so far, no columns.
    pub fn new(nrows: usize) -> Self {
        Self {
            nrows,
            col_ptr: vec![0],
            row_indices: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Like [`new`](Self::new), reserving room for `ncols` columns and `nnz` entries.
    pub fn with_capacity(nrows: usize, ncols: usize, nnz: usize) -> Self {
        let mut col_ptr = Vec::with_capacity(ncols + 1);
        col_ptr.push(0);
        Self {
            nrows,
            col_ptr,
            row_indices: Vec::with_capacity(nnz),
            values: Vec::with_capacity(nnz),
        }
    }

    /// Appends a column from `(row, value)` pairs in any row order. A row out of range or
    /// given twice is an error and leaves the builder unchanged.
    pub fn push_column(&mut self, entries: impl IntoIterator<Item = (usize, T)>) -> Result<()> {
        let start = self.values.len();
        let j = self.col_ptr.len() - 1;
        for (r, v) in entries {
            if r >= self.nrows {
                self.row_indices.truncate(start);
                self.values.truncate(start);
                return Err(invalid(format!(
                    "row index {r} in column {j} is out of range for {} rows",
                    self.nrows
                )));
            }
            self.row_indices.push(r as u32);
            self.values.push(v);
        }
        let rows = &self.row_indices[start..];
        if !rows.windows(2).all(|w| w[0] < w[1]) {
            let mut pairs: Vec<(u32, T)> = rows
                .iter()
                .copied()
                .zip(self.values[start..].iter().copied())
                .collect();
            pairs.sort_by_key(|p| p.0);
            if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                let r = w[0].0;
                self.row_indices.truncate(start);
                self.values.truncate(start);
                return Err(invalid(format!("row index {r} given twice in column {j}")));
            }
            for (k, (r, v)) in pairs.into_iter().enumerate() {
                self.row_indices[start + k] = r;
                self.values[start + k] = v;
            }
        }
        self.col_ptr.push(self.values.len());
        Ok(())
    }

    /// Number of columns pushed so far.
    pub fn ncols(&self) -> usize {
        self.col_ptr.len() - 1
    }

    /// The finished matrix.
    pub fn finish(self) -> CscMatrix<T> {
        CscMatrix {
            nrows: self.nrows,
            ncols: self.col_ptr.len() - 1,
            col_ptr: self.col_ptr,
            row_indices: self.row_indices,
            values: self.values,
        }
    }
}
