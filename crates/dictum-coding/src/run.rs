//! The block driver every encoder shares: signals in blocks of [`BLOCK`], each block's
//! correlations `Dᵀ·Y` computed here through the execution context's backend (the
//! dictionary uploaded once per call), blocks in parallel under `Par::Rayon`, progress and
//! cancellation between blocks.
//!
//! The block size is fixed, not derived from the thread count, so the same input gives
//! bit-identical codes under `Par::Seq` and under any `Par::Rayon(n)`: each signal is coded by
//! the same instructions whichever thread runs it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use dictum_linalg::backend::PursuitCodes;
use dictum_linalg::exec::Exec;
use dictum_linalg::view::check_finite;
use dictum_linalg::{CscMatrix, LinalgError, Mat, MatRef, Par, Real};
use rayon::prelude::*;

use crate::dictionary::{Dictionary, Signals};
use crate::error::{CodingError, Result};
use crate::vector::Columns;

/// Signals per block: one `Dᵀ·Y` GEMM per block, whose `m x BLOCK` result stays in cache
/// while the block's signals are coded.
pub const BLOCK: usize = 128;

/// Sparse columns produced by one block, in column order.
#[derive(Debug)]
pub(crate) struct ColumnSink<T> {
    counts: Vec<usize>,
    rows: Vec<u32>,
    vals: Vec<T>,
}

impl<T: Real> ColumnSink<T> {
    fn with_capacity(ncols: usize, nnz: usize) -> Self {
        Self {
            counts: Vec::with_capacity(ncols),
            rows: Vec::with_capacity(nnz),
            vals: Vec::with_capacity(nnz),
        }
    }

    /// Appends one column from unsorted `(row, value)` pairs; exact zeros are dropped.
    /// (Inlined so that it is compiled for the coders' instruction set, see `with_simd`.)
    #[inline(always)]
    pub(crate) fn push(&mut self, rows: &[u32], vals: &[T]) {
        const SHORT: usize = 16;
        let start = self.rows.len();
        let n = rows.len().min(vals.len());
        if n <= SHORT {
            // Each pair goes straight to its place, its rank among the rows: a branch-free
            // n² count, where an insertion sort of random supports mispredicted about once
            // per element.
            let mut sorted_rows = [0u32; SHORT];
            let mut sorted_vals = [T::zero(); SHORT];
            for i in 0..n {
                let ri = rows[i];
                let mut rank = 0;
                for (j, &rj) in rows[..n].iter().enumerate() {
                    // Equal rows (none from the coders) keep their order.
                    rank += usize::from((rj < ri) | ((rj == ri) & (j < i)));
                }
                sorted_rows[rank] = ri;
                sorted_vals[rank] = vals[i];
            }
            for (&r, &v) in sorted_rows[..n].iter().zip(&sorted_vals[..n]) {
                if v != T::zero() {
                    self.rows.push(r);
                    self.vals.push(v);
                }
            }
        } else {
            for (&r, &v) in rows.iter().zip(vals) {
                if v != T::zero() {
                    self.rows.push(r);
                    self.vals.push(v);
                }
            }
            // Insertion sort: supports are short, and CSC wants rows ascending.
            let rows = &mut self.rows[start..];
            let vals = &mut self.vals[start..];
            for i in 1..rows.len() {
                let mut j = i;
                while j > 0 && rows[j - 1] > rows[j] {
                    rows.swap(j - 1, j);
                    vals.swap(j - 1, j);
                    j -= 1;
                }
            }
        }
        self.counts.push(self.rows.len() - start);
    }

    /// Appends an empty column.
    #[inline]
    pub(crate) fn push_empty(&mut self) {
        self.counts.push(0);
    }
}

/// One block of signals as a kernel sees it.
pub(crate) struct Block<'b, T> {
    /// Index of the block's first signal in the whole input.
    pub(crate) first: usize,
    /// The block's signals (at most [`BLOCK`] columns).
    pub(crate) signals: MatRef<'b, T>,
    /// `Dᵀ·signals`, one contiguous column per signal (empty for kernels that do not read it).
    pub(crate) corr: Columns<'b, T>,
    /// The same correlations as a matrix view, `m x len` (`m x 0` when not computed).
    pub(crate) correlations: MatRef<'b, T>,
    /// The context for work inside the block (single-threaded: blocks are the parallel unit).
    pub(crate) exec: Exec<'b>,
}

/// One encoder's work on a block of signals.
pub(crate) trait BlockKernel<T: Real>: Sync {
    /// Per-thread scratch space, allocated once per thread and reused for every block.
    type Work: Send;

    /// Allocates the scratch space.
    fn workspace(&self) -> Self::Work;

    /// Whether the kernel reads the block's correlations `Dᵀ·Y` (most do).
    fn needs_correlations(&self) -> bool {
        true
    }

    /// Codes the block's signals, pushing one column per signal to `out`.
    fn encode_block(&self, work: &mut Self::Work, block: &Block<'_, T>, out: &mut ColumnSink<T>);

    /// Expected non-zeros per signal, to size buffers.
    fn nnz_hint(&self) -> usize;
}

/// Codes every column of `signals` over `dict` with `kernel`, block by block, in parallel
/// under `Par::Rayon`, and assembles the `n_atoms x N` CSC result.
pub(crate) fn run_blocks<T: Real, K: BlockKernel<T>>(
    kernel: &K,
    dict: &Dictionary<'_, T>,
    signals: Signals<'_, T>,
    exec: &Exec<'_>,
) -> Result<CscMatrix<T>> {
    let view = signals.view();
    let n = view.ncols();
    let m = dict.n_atoms();
    let n_blocks = n.div_ceil(BLOCK);
    let atoms = exec.resident(dict.atoms());
    let inner = exec.with_par(Par::Seq);
    let with_corr = kernel.needs_correlations();
    let done = AtomicUsize::new(0);
    let cancelled = AtomicBool::new(false);
    // The first block found holding a non-finite signal; later blocks are skipped.
    let failed = AtomicUsize::new(usize::MAX);
    let run_one = |(work, corr): &mut (K::Work, Mat<T>), b: usize| -> Result<ColumnSink<T>> {
        let start = b * BLOCK;
        let len = BLOCK.min(n - start);
        let mut sink = ColumnSink::with_capacity(len, len * kernel.nnz_hint());
        if b > failed.load(Ordering::Relaxed) || cancelled.load(Ordering::Relaxed) {
            return Ok(sink);
        }
        let block = view.subcols(start, len);
        if !signals.is_checked()
            && let Err(e) = check_block_finite(block, start)
        {
            failed.fetch_min(b, Ordering::Relaxed);
            return Err(e);
        }
        let correlations = if with_corr {
            inner.gemm_tn(corr.as_mut().subcols_mut(0, len), &atoms, block)?;
            corr.as_ref().subcols(0, len)
        } else {
            corr.as_ref()
        };
        let block = Block {
            first: start,
            signals: block,
            corr: Columns::new(correlations),
            correlations,
            exec: inner,
        };
        kernel.encode_block(work, &block, &mut sink);
        let now = done.fetch_add(len, Ordering::Relaxed) + len;
        if exec.progress("encode", now, n).is_err() {
            cancelled.store(true, Ordering::Relaxed);
        }
        Ok(sink)
    };
    let init = || {
        let corr = if with_corr {
            Mat::zeros(m, BLOCK)
        } else {
            Mat::zeros(0, 0)
        };
        (kernel.workspace(), corr)
    };
    let results: Vec<Result<ColumnSink<T>>> = match exec.par() {
        Par::Seq => {
            let mut work = init();
            (0..n_blocks).map(|b| run_one(&mut work, b)).collect()
        }
        Par::Rayon(_) => (0..n_blocks)
            .into_par_iter()
            .map_init(init, run_one)
            .collect(),
    };
    // In block order, so the error is the first non-finite entry whatever the threads did.
    let blocks = results.into_iter().collect::<Result<Vec<_>>>()?;
    if cancelled.load(Ordering::Relaxed) {
        return Err(CodingError::Cancelled);
    }
    assemble(m, n, blocks, exec.par())
}

/// The CSC form of codes a backend returned as slots per signal (atoms in the order
/// chosen): rows sorted and exact zeros dropped, as the block driver's columns are.
pub(crate) fn codes_from_slots<T: Real>(
    n_atoms: usize,
    codes: &PursuitCodes<T>,
    exec: &Exec<'_>,
) -> Result<CscMatrix<T>> {
    let n = codes.len();
    let sinks = exec.map(n.div_ceil(BLOCK), 1, |b| {
        let start = b * BLOCK;
        let len = BLOCK.min(n - start);
        let mut sink = ColumnSink::with_capacity(len, len * codes.max_atoms);
        for c in start..start + len {
            let (rows, vals) = codes.code(c);
            sink.push(rows, vals);
        }
        sink
    });
    assemble(n_atoms, n, sinks, exec.par())
}

/// Codes a backend returned as dense `m x len` chunks, in order, made sparse (exact zeros
/// dropped) as they arrive.
pub(crate) struct DenseChunks<T> {
    sinks: Vec<ColumnSink<T>>,
    signals: usize,
}

impl<T: Real> DenseChunks<T> {
    pub(crate) fn new() -> Self {
        Self {
            sinks: Vec::new(),
            signals: 0,
        }
    }

    /// Appends the next chunk's codes.
    pub(crate) fn push(&mut self, codes: MatRef<'_, T>) {
        let mut sink = ColumnSink::with_capacity(codes.ncols(), 16 * codes.ncols());
        let (mut rows, mut vals) = (Vec::new(), Vec::new());
        for c in 0..codes.ncols() {
            rows.clear();
            vals.clear();
            for (i, &v) in codes.col(c).iter().enumerate() {
                if v != T::zero() {
                    rows.push(i as u32);
                    vals.push(v);
                }
            }
            sink.push(&rows, &vals);
        }
        self.signals += codes.ncols();
        self.sinks.push(sink);
    }

    /// The `n_atoms x N` codes of every chunk.
    pub(crate) fn finish(self, n_atoms: usize, par: Par) -> Result<CscMatrix<T>> {
        assemble(n_atoms, self.signals, self.sinks, par)
    }
}

/// Checks one block of signals (columns from `first`) for NaN and infinity, reporting the
/// first such entry as `check_finite` would for the whole matrix. Checked here, block by
/// block, the signals are in cache for the block's own work, and the check runs on every
/// thread instead of in one serial pass before the run.
fn check_block_finite<T: Real>(block: MatRef<'_, T>, first: usize) -> Result<()> {
    match check_finite("signals", block) {
        Err(LinalgError::NonFinite {
            op,
            row,
            col,
            value,
        }) => Err(LinalgError::NonFinite {
            op,
            row,
            col: first + col,
            value,
        }
        .into()),
        other => Ok(other?),
    }
}

/// Joins the blocks' columns into one CSC matrix. Under `Par::Rayon` the blocks copy their
/// parts in parallel: done serially, the copy and the check of the result were a tenth of
/// a two-thread Batch-OMP run.
fn assemble<T: Real>(
    n_atoms: usize,
    n: usize,
    blocks: Vec<ColumnSink<T>>,
    par: Par,
) -> Result<CscMatrix<T>> {
    let nnz: usize = blocks.iter().map(|b| b.rows.len()).sum();
    let mut col_ptr = vec![0; n + 1];
    let mut rows = vec![0; nnz];
    let mut vals = vec![T::zero(); nnz];
    let mut parts = Vec::with_capacity(blocks.len());
    let (mut cp, mut rs, mut vs) = (&mut col_ptr[1..], &mut rows[..], &mut vals[..]);
    let mut offset = 0;
    for b in &blocks {
        let (c, cp_rest) = cp.split_at_mut(b.counts.len());
        let (r, rs_rest) = rs.split_at_mut(b.rows.len());
        let (v, vs_rest) = vs.split_at_mut(b.vals.len());
        parts.push((b, c, r, v, offset));
        offset += b.rows.len();
        (cp, rs, vs) = (cp_rest, rs_rest, vs_rest);
    }
    let copy =
        |(b, c, r, v, offset): (&ColumnSink<T>, &mut [usize], &mut [u32], &mut [T], usize)| {
            r.copy_from_slice(&b.rows);
            v.copy_from_slice(&b.vals);
            let mut at = offset;
            for (p, &count) in c.iter_mut().zip(&b.counts) {
                at += count;
                *p = at;
            }
        };
    match par {
        Par::Seq => parts.into_iter().for_each(copy),
        Par::Rayon(_) => parts.into_par_iter().for_each(copy),
    }
    Ok(CscMatrix::try_new(n_atoms, n, col_ptr, rows, vals)?)
}

#[cfg(test)]
mod tests {
    use super::ColumnSink;

    /// Both sorting paths: short columns by rank, long ones by insertion; zeros dropped,
    /// equal rows kept in their order.
    #[test]
    fn push_sorts_rows_and_drops_zeros() {
        let mut sink = ColumnSink::<f64>::with_capacity(3, 64);
        sink.push(&[7, 2, 9, 0, 5], &[1.0, 2.0, 0.0, 3.0, 4.0]);
        sink.push(&[3, 1, 3], &[1.0, 2.0, 3.0]);
        let long: Vec<u32> = (0..40).map(|i| (i * 17) % 41).collect();
        let vals: Vec<f64> = long.iter().map(|&r| f64::from(r) + 0.5).collect();
        sink.push(&long, &vals);
        assert_eq!(sink.counts, [4, 3, 40]);
        assert_eq!(&sink.rows[..7], &[0, 2, 5, 7, 1, 3, 3]);
        assert_eq!(&sink.vals[..7], &[3.0, 2.0, 4.0, 1.0, 2.0, 1.0, 3.0]);
        let (rows, vals) = (&sink.rows[7..], &sink.vals[7..]);
        assert!(rows.windows(2).all(|w| w[0] < w[1]));
        assert!(
            rows.iter()
                .zip(vals)
                .all(|(&r, &v)| v == f64::from(r) + 0.5)
        );
    }
}
