//! How an encoder runs: threads, progress, and the block driver every encoder shares.
//!
//! Signals are coded in blocks of [`BLOCK`] columns. The block size is fixed, not derived from
//! the thread count, so the same input gives bit-identical codes under `Par::Seq` and under any
//! `Par::Rayon(n)`: each signal is coded by the same instructions whichever thread runs it.

use std::sync::atomic::{AtomicUsize, Ordering};

use dictum_linalg::view::check_finite;
use dictum_linalg::{CscMatrix, LinalgError, Mat, MatRef, Par, Real, gemm};
use rayon::prelude::*;

use crate::error::Result;
use crate::vector::Columns;

/// Signals per block: one `Dᵀ·Y` GEMM per block, whose `m x BLOCK` result stays in cache
/// while the block's signals are coded.
pub const BLOCK: usize = 128;

/// Progress of a long run: `done` of `total` signals coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Signals coded so far.
    pub done: usize,
    /// Signals in the run.
    pub total: usize,
}

/// A progress callback. It is called from worker threads, once per block of signals.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);

/// Execution options shared by every encoder: parallelism and a progress callback.
///
/// `Par::Rayon(n)` splits the work into tasks for `n` threads and runs them on the *current*
/// rayon pool; to bound the threads used, call the encoder inside
/// `rayon::ThreadPoolBuilder::new().num_threads(n).build()?.install(..)` (the CLI's `--threads`
/// does this). Results do not depend on the thread count.
///
/// The struct is the place where a compute backend (GPU) will be chosen; fields are private so
/// that it can grow without breaking callers.
#[derive(Clone, Copy)]
pub struct RunOptions<'a> {
    par: Par,
    progress: Option<ProgressFn<'a>>,
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("par", &self.par)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        Self::new(Par::Seq)
    }
}

impl<'a> RunOptions<'a> {
    /// Options with the given parallelism and no progress reporting.
    pub fn new(par: Par) -> Self {
        Self {
            par,
            progress: None,
        }
    }

    /// Reports progress to `f` (once per block of [`BLOCK`] signals).
    pub fn progress(mut self, f: ProgressFn<'a>) -> Self {
        self.progress = Some(f);
        self
    }

    /// The parallelism.
    pub fn par(&self) -> Par {
        self.par
    }

    /// The progress callback, if any.
    pub fn progress_fn(&self) -> Option<ProgressFn<'a>> {
        self.progress
    }
}

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

/// The correlations `Dᵀ·signals` of one block, computed into the first `N` columns of `buf`
/// (`m x BLOCK`, a thread's workspace) and returned as contiguous columns.
///
/// Shapes were checked before the run, so a failing GEMM is a bug; the block's codes are then
/// left empty and `None` is returned.
pub(crate) fn block_correlations<'b, T: Real>(
    buf: &'b mut Mat<T>,
    atoms: MatRef<'_, T>,
    signals: MatRef<'_, T>,
    out: &mut ColumnSink<T>,
) -> Option<Columns<'b, T>> {
    let n = signals.ncols();
    if gemm::gemm_tn_into(buf.as_mut().subcols_mut(0, n), atoms, signals, Par::Seq).is_err() {
        (0..n).for_each(|_| out.push_empty());
        return None;
    }
    Some(Columns::new(buf.as_ref().subcols(0, n)))
}

/// One encoder's work on a block of signals.
pub(crate) trait BlockKernel<T: Real>: Sync {
    /// Per-thread scratch space, allocated once per thread and reused for every block.
    type Work: Send;

    /// Allocates the scratch space.
    fn workspace(&self) -> Self::Work;

    /// Codes `signals` (at most [`BLOCK`] columns, the first being column `first` of the
    /// whole input), pushing one column per signal to `out`.
    fn encode_block(
        &self,
        work: &mut Self::Work,
        first: usize,
        signals: MatRef<'_, T>,
        out: &mut ColumnSink<T>,
    );

    /// Expected non-zeros per signal, to size buffers.
    fn nnz_hint(&self) -> usize;
}

/// Codes every column of `signals` with `kernel`, block by block, in parallel under
/// `Par::Rayon`, and assembles the `n_atoms x N` CSC result.
pub(crate) fn run_blocks<T: Real, K: BlockKernel<T>>(
    kernel: &K,
    n_atoms: usize,
    signals: MatRef<'_, T>,
    opts: &RunOptions<'_>,
) -> Result<CscMatrix<T>> {
    let n = signals.ncols();
    let n_blocks = n.div_ceil(BLOCK);
    let done = AtomicUsize::new(0);
    // The first block found holding a non-finite signal; later blocks are skipped.
    let failed = AtomicUsize::new(usize::MAX);
    let run_one = |work: &mut K::Work, b: usize| -> Result<ColumnSink<T>> {
        let start = b * BLOCK;
        let len = BLOCK.min(n - start);
        let mut sink = ColumnSink::with_capacity(len, len * kernel.nnz_hint());
        if b > failed.load(Ordering::Relaxed) {
            return Ok(sink);
        }
        let block = signals.subcols(start, len);
        if let Err(e) = check_block_finite(block, start) {
            failed.fetch_min(b, Ordering::Relaxed);
            return Err(e);
        }
        kernel.encode_block(work, start, block, &mut sink);
        if let Some(f) = opts.progress {
            let now = done.fetch_add(len, Ordering::Relaxed) + len;
            f(Progress {
                done: now,
                total: n,
            });
        }
        Ok(sink)
    };
    let results: Vec<Result<ColumnSink<T>>> = match opts.par {
        Par::Seq => {
            let mut work = kernel.workspace();
            (0..n_blocks).map(|b| run_one(&mut work, b)).collect()
        }
        Par::Rayon(_) => (0..n_blocks)
            .into_par_iter()
            .map_init(|| kernel.workspace(), |work, b| run_one(work, b))
            .collect(),
    };
    // In block order, so the error is the first non-finite entry whatever the threads did.
    let blocks = results.into_iter().collect::<Result<Vec<_>>>()?;
    assemble(n_atoms, n, blocks, opts.par)
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
