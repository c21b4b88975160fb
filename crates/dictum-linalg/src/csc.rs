//! Compressed sparse column (CSC) matrices: the storage of sparse codes `X` (`m x N`, one
//! column per signal, a few non-zeros per column).
//!
//! The layout is scipy's `csc_matrix` / Julia's `SparseMatrixCSC`: the non-zeros of column
//! `j` are `values[col_ptr[j]..col_ptr[j+1]]` at rows `row_indices[..]` (strictly increasing
//! within a column). Row indices are `u32`: a code matrix indexes atoms, and 4·10⁹ atoms is
//! far beyond any dictionary, while halving the index memory matters at 10⁸ non-zeros.

use faer::reborrow::ReborrowMut;
use faer::{Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::simd::with_simd;

use crate::error::{LinalgError, Result, shape};
use crate::real::Real;

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

    /// `dst = A·X`: a dense `d x m` matrix times this `m x N` sparse one (`dst` is `d x N`).
    /// With `A = D` this reconstructs the signals `D·X` from their codes.
    pub fn dense_mul_into(&self, dst: MatMut<'_, T>, a: MatRef<'_, T>, par: Par) -> Result<()> {
        check_shapes(
            "dense_mul (A·X)",
            (a.nrows(), a.ncols()),
            (self.nrows, self.ncols),
            &dst,
            a.nrows(),
            self.ncols,
        )?;
        self.dense_mul_unchecked(dst, a, par);
        Ok(())
    }

    /// [`dense_mul_into`](Self::dense_mul_into) for shapes already checked (the CPU backend).
    pub(crate) fn dense_mul_unchecked(&self, dst: MatMut<'_, T>, a: MatRef<'_, T>, par: Par) {
        for_each_col_block(dst, par, |start, mut block| {
            for c in 0..block.ncols() {
                let (rows, vals) = self.col(start + c);
                let mut out = block.rb_mut().col_mut(c);
                out.fill(T::zero());
                for (&r, &v) in rows.iter().zip(vals) {
                    let acol = a.col(r as usize);
                    for i in 0..out.nrows() {
                        out[i] += v * acol[i];
                    }
                }
            }
        });
    }

    /// Allocating version of [`dense_mul_into`](Self::dense_mul_into): returns `A·X`.
    pub fn dense_mul(&self, a: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let mut dst = Mat::zeros(a.nrows(), self.ncols);
        self.dense_mul_into(dst.as_mut(), a, par)?;
        Ok(dst)
    }

    /// `dst = X·B`: this `m x N` sparse matrix times a dense `N x p` one (`dst` is `m x p`).
    pub fn mul_dense_into(&self, dst: MatMut<'_, T>, b: MatRef<'_, T>, par: Par) -> Result<()> {
        check_shapes(
            "mul_dense (X·B)",
            (self.nrows, self.ncols),
            (b.nrows(), b.ncols()),
            &dst,
            self.nrows,
            b.ncols(),
        )?;
        self.mul_dense_unchecked(dst, b, par);
        Ok(())
    }

    /// [`mul_dense_into`](Self::mul_dense_into) for shapes already checked (the CPU backend).
    pub(crate) fn mul_dense_unchecked(&self, dst: MatMut<'_, T>, b: MatRef<'_, T>, par: Par) {
        for_each_col_block(dst, par, |start, mut block| {
            for c in 0..block.ncols() {
                let bcol = b.col(start + c);
                let mut out = block.rb_mut().col_mut(c);
                out.fill(T::zero());
                for j in 0..self.ncols {
                    let bj = bcol[j];
                    if bj == T::zero() {
                        continue;
                    }
                    let (rows, vals) = self.col(j);
                    for (&r, &v) in rows.iter().zip(vals) {
                        out[r as usize] += v * bj;
                    }
                }
            }
        });
    }

    /// Allocating version of [`mul_dense_into`](Self::mul_dense_into): returns `X·B`.
    pub fn mul_dense(&self, b: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let mut dst = Mat::zeros(self.nrows, b.ncols());
        self.mul_dense_into(dst.as_mut(), b, par)?;
        Ok(dst)
    }

    /// `dst = Xᵀ·B`: the transpose of this `m x N` matrix times a dense `m x p` one (`dst` is
    /// `N x p`). With `B = Dᵀ·R` this gathers per-signal correlations on each code's support;
    /// with `X = V` (sparse data) and `B = W` it is NMF's `Vᵀ·W`.
    pub fn transpose_mul_dense_into(
        &self,
        dst: MatMut<'_, T>,
        b: MatRef<'_, T>,
        par: Par,
    ) -> Result<()> {
        check_shapes(
            "transpose_mul_dense (Xᵀ·B)",
            (self.ncols, self.nrows),
            (b.nrows(), b.ncols()),
            &dst,
            self.ncols,
            b.ncols(),
        )?;
        self.transpose_mul_dense_unchecked(dst, b, par);
        Ok(())
    }

    /// [`transpose_mul_dense_into`](Self::transpose_mul_dense_into) for shapes already checked
    /// (the CPU backend). Row `c` of `Xᵀ·B` is `Σ_i x_ic·b_i` over the non-zeros of column `c`:
    /// the rows of `B` are copied once into vectors padded to whole [`LANES`], so each term is
    /// an axpy of whole vector registers, accumulated in registers for the column and stored
    /// once; columns in parallel.
    pub(crate) fn transpose_mul_dense_unchecked(
        &self,
        mut dst: MatMut<'_, T>,
        b: MatRef<'_, T>,
        par: Par,
    ) {
        let (m, p) = (b.nrows(), b.ncols());
        let stride = padded(p);
        let mut rows = vec![T::zero(); m * stride];
        for k in 0..p {
            for (i, &x) in b.col(k).iter().enumerate() {
                rows[i * stride + k] = x;
            }
        }
        let out = gather(self, &rows, stride, par);
        for k in 0..p {
            for (c, x) in dst.rb_mut().col_mut(k).iter_mut().enumerate() {
                *x = out[c * stride + k];
            }
        }
    }

    /// Allocating version of [`transpose_mul_dense_into`](Self::transpose_mul_dense_into).
    pub fn transpose_mul_dense(&self, b: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let mut dst = Mat::zeros(self.ncols, b.ncols());
        self.transpose_mul_dense_into(dst.as_mut(), b, par)?;
        Ok(dst)
    }
}

/// `dst += U·Vᵀ` for sparse `u` (`p x n`) and `v` (`q x n`), shapes checked: the CPU
/// backend's outer-product sums (the SMT's `A·Aᵀ`). Column `j` of `dst` gets
/// `Σ_k v_jk·u_k`; the work splits by blocks of columns of `dst` (no per-thread copies of a
/// `p x q` matrix), and every entry adds its terms in order of `k`, whatever the threads.
pub(crate) fn add_outer_products<T: Real>(
    mut dst: MatMut<'_, T>,
    u: &CscMatrix<T>,
    v: &CscMatrix<T>,
    par: Par,
) {
    let (q, n) = (v.nrows(), v.ncols());
    if q == 0 || dst.nrows() == 0 {
        return;
    }
    let threads = match par {
        Par::Seq => 1,
        Par::Rayon(t) => t.get(),
    };
    let cols_per = q.div_ceil(4 * threads).max(1);
    let work = |block_index: usize, mut block: MatMut<'_, T>| {
        let c0 = block_index * cols_per;
        let c1 = c0 + block.ncols();
        for k in 0..n {
            let (vi, vv) = v.col(k);
            let lo = vi.partition_point(|&i| (i as usize) < c0);
            let hi = vi.partition_point(|&i| (i as usize) < c1);
            if lo == hi {
                continue;
            }
            let (ui, uv) = u.col(k);
            for t in lo..hi {
                let (j, y) = (vi[t] as usize - c0, vv[t]);
                let mut col = block.rb_mut().col_mut(j);
                for (&i, &x) in ui.iter().zip(uv) {
                    col[i as usize] += x * y;
                }
            }
        }
    };
    if threads == 1 {
        work(0, dst);
    } else {
        dst.rb_mut()
            .par_col_chunks_mut(cols_per)
            .enumerate()
            .for_each(|(b, block)| work(b, block));
    }
}

/// Vector width of [`gather`]'s padded rows.
const LANES: usize = 8;

/// `r` rounded up to whole [`LANES`].
fn padded(r: usize) -> usize {
    r.div_ceil(LANES).max(1) * LANES
}

/// `out_c = Σ_{(i, x) ∈ column c of m} x·src_i` for every column `c` of `m`, with `src` and
/// `out` holding contiguous vectors `stride` apart (`stride` a multiple of [`LANES`], padded
/// with zeros, so that each axpy is whole vector registers with no scalar tail); columns in
/// parallel.
fn gather<T: Real>(m: &CscMatrix<T>, src: &[T], stride: usize, par: Par) -> Vec<T> {
    match stride {
        8 => gather_fixed::<T, 8>(m, src, par),
        16 => gather_fixed::<T, 16>(m, src, par),
        24 => gather_fixed::<T, 24>(m, src, par),
        32 => gather_fixed::<T, 32>(m, src, par),
        40 => gather_fixed::<T, 40>(m, src, par),
        48 => gather_fixed::<T, 48>(m, src, par),
        56 => gather_fixed::<T, 56>(m, src, par),
        64 => gather_fixed::<T, 64>(m, src, par),
        _ => gather_any(m, src, stride, par),
    }
}

/// [`gather`] for a stride known at compile time: each output vector is accumulated in
/// registers over its column and stored once.
fn gather_fixed<T: Real, const S: usize>(m: &CscMatrix<T>, src: &[T], par: Par) -> Vec<T> {
    let mut out = vec![T::zero(); S * m.ncols()];
    let work = |(c, o): (usize, &mut [T])| {
        with_simd(
            #[inline(always)]
            || {
                let (idx, vals) = m.col(c);
                let mut acc = [T::zero(); S];
                let zero = [T::zero(); S];
                for (&i, &x) in idx.iter().zip(vals) {
                    // Always S long: `src` holds whole padded vectors.
                    let si: &[T; S] = src[i as usize * S..(i as usize + 1) * S]
                        .try_into()
                        .unwrap_or(&zero);
                    for l in 0..S {
                        acc[l] += x * si[l];
                    }
                }
                o.copy_from_slice(&acc);
            },
        )
    };
    match par {
        Par::Seq => out.chunks_mut(S).enumerate().for_each(work),
        Par::Rayon(_) => out.par_chunks_mut(S).enumerate().for_each(work),
    }
    out
}

fn gather_any<T: Real>(m: &CscMatrix<T>, src: &[T], stride: usize, par: Par) -> Vec<T> {
    let mut out = vec![T::zero(); stride * m.ncols()];
    let work = |(c, o): (usize, &mut [T])| {
        with_simd(
            #[inline(always)]
            || {
                let (idx, vals) = m.col(c);
                for (&i, &x) in idx.iter().zip(vals) {
                    let si = &src[i as usize * stride..(i as usize + 1) * stride];
                    for (a, &b) in o.iter_mut().zip(si) {
                        *a += x * b;
                    }
                }
            },
        )
    };
    match par {
        Par::Seq => out.chunks_mut(stride.max(1)).enumerate().for_each(work),
        Par::Rayon(_) => out.par_chunks_mut(stride.max(1)).enumerate().for_each(work),
    }
    out
}

fn check_shapes<T>(
    op: &'static str,
    left: (usize, usize),
    right: (usize, usize),
    dst: &MatMut<'_, T>,
    rows: usize,
    cols: usize,
) -> Result<()> {
    if left.1 != right.0 {
        return Err(LinalgError::ShapeMismatch {
            op,
            left: shape(left.0, left.1),
            right: shape(right.0, right.1),
            hint: "the inner dimensions of a product must agree",
        });
    }
    if dst.nrows() != rows || dst.ncols() != cols {
        return Err(LinalgError::ShapeMismatch {
            op,
            left: shape(dst.nrows(), dst.ncols()),
            right: shape(rows, cols),
            hint: "the destination must have the shape of the product",
        });
    }
    Ok(())
}

/// Runs `f(first_column, block)` over column blocks of `dst`, in parallel under `Par::Rayon`.
fn for_each_col_block<T: Real>(
    dst: MatMut<'_, T>,
    par: Par,
    f: impl Fn(usize, MatMut<'_, T>) + Sync,
) {
    let ncols = dst.ncols();
    match par {
        Par::Seq => f(0, dst),
        Par::Rayon(threads) => {
            if ncols == 0 {
                return;
            }
            // A few blocks per thread balances columns of uneven sparsity.
            let chunk = ncols.div_ceil(threads.get() * 4).max(1);
            dst.par_col_chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, block)| f(i * chunk, block));
        }
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
