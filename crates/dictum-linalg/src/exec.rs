//! The execution context: how a computation runs, taken by every encode and fit in dictum.
//!
//! An [`Exec`] carries four things, each with a default:
//!
//! - **threads**, as faer's [`Par`]: `Par::Seq` (the default) or `Par::Rayon(n)`, which splits
//!   work for `n` threads of the *current* rayon pool ([`with_threads`] makes and enters a
//!   pool of a given size). Results never depend on the thread count;
//! - the **backend** the heavy operations run on ([`crate::backend`]; the [`Cpu`] by
//!   default);
//! - an **observer** ([`Observer`]) that sees progress, iterations and backend fallbacks, and
//!   can cancel: when it returns `ControlFlow::Break`, the computation stops at its next
//!   checkpoint (a block of signals, an atom batch, an iteration) with [`Cancelled`], having
//!   written nothing;
//! - a **seed** (default 0) from which a randomized algorithm draws all its random choices:
//!   the same seed and the same input give the same result, whatever the thread count.
//!
//! ```
//! use std::ops::ControlFlow;
//! use dictum_linalg::exec::{Event, Exec};
//! use dictum_linalg::{Mat, Par};
//! let seen = std::sync::atomic::AtomicUsize::new(0);
//! let observer = |e: &Event<'_>| {
//!     if let Event::Progress(_) = e {
//!         seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!     }
//!     ControlFlow::Continue(())
//! };
//! let exec = Exec::new(Par::Seq).with_observer(&observer).with_seed(7);
//! let a = Mat::<f64>::identity(3, 3);
//! let mut c = Mat::<f64>::zeros(3, 3);
//! exec.gemm_tn(c.as_mut(), a.as_ref(), a.as_ref())?;
//! exec.progress("demo", 1, 1)?;
//! let calls = seen.load(std::sync::atomic::Ordering::Relaxed);
//! assert_eq!((c[(1, 1)], calls, exec.seed()), (1.0, 1, 7));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::ControlFlow;

use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{MatMut, MatRef, Par};

use crate::backend::{
    AtomSweep, Backend, CPU, Cpu, Declined, FactorStep, Factorization, Input, Kernels, Lasso,
    Offloaded, Op, Pursuit, PursuitCodes, PursuitRule, Resident, SparseProduct, Trans, kernels_of,
};
use crate::csc::CscMatrix;
use crate::error::{LinalgError, Result, shape};
use crate::norms::{Normalization, scale_to_unit};
use crate::real::{Precision, Real};

/// A computation was cancelled by the context's observer; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled (the observer asked to stop); nothing was written")]
pub struct Cancelled;

/// Progress inside one pass: `done` of `total` units of `stage` (signals coded, atoms
/// updated, images read, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// What is being counted: `"encode"` (signals), `"atoms"`, `"images"`, `"epochs"`, ….
    pub stage: &'static str,
    /// Units done so far.
    pub done: usize,
    /// Units in the pass.
    pub total: usize,
}

/// What one iteration of an iterative learner achieved: the history every learner keeps and
/// reports, one entry per iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationStats {
    /// Iteration number, from 1 (for streaming learners, the mini-batch count).
    pub iter: usize,
    /// `‖Y − D·X‖_F / ‖Y‖_F` (for NMF `‖V − W·H‖_F / ‖V‖_F`), on the signals the iteration used.
    pub rel_error: f64,
    /// The objective the learner minimizes: `½‖Y − D·X‖²_F` for dictionary learning, NMF's
    /// loss with its penalties (Frobenius or KL), k-means' inertia, NPEFF's losses, a trained
    /// model's mean loss.
    pub objective: f64,
    /// Mean over signals of `‖y − D·x‖ / ‖y‖` (zero signals count 0), KSVD.jl's measure,
    /// where the learner measures it.
    pub mean_rel_residual: Option<f64>,
    /// Mean non-zeros per code column.
    pub mean_nnz: f64,
    /// Atoms replaced at the start of this iteration (unused or near-duplicate).
    pub replaced: usize,
    /// Wall time since the start of the fit, in seconds.
    pub seconds: f64,
}

/// What an [`Observer`] is told.
#[derive(Debug, Clone, Copy)]
pub enum Event<'e> {
    /// Part of a pass is done (called from worker threads, once per block).
    Progress(Progress),
    /// An iteration of a learner ended.
    Iteration(&'e IterationStats),
    /// The backend did not run an operation; the CPU did.
    Fallback {
        /// The operation.
        op: Op,
        /// Its precision.
        precision: Precision,
        /// The backend's name.
        backend: &'e str,
        /// Why, in the backend's words.
        reason: &'e str,
    },
}

/// Sees what a computation does and may stop it: return `ControlFlow::Break(())` to cancel
/// (the computation returns [`Cancelled`] at its next checkpoint). Called from worker
/// threads. Any `Fn(&Event) -> ControlFlow<()> + Sync` closure is an observer.
pub trait Observer: Sync {
    /// Called for every event.
    fn observe(&self, event: &Event<'_>) -> ControlFlow<()>;
}

impl<F: Fn(&Event<'_>) -> ControlFlow<()> + Sync> Observer for F {
    fn observe(&self, event: &Event<'_>) -> ControlFlow<()> {
        self(event)
    }
}

/// The execution context (see the [module docs](self)). Cheap to copy: it holds references.
#[derive(Clone, Copy)]
pub struct Exec<'a> {
    par: Par,
    backend: &'a (dyn Backend + 'static),
    observer: Option<&'a dyn Observer>,
    seed: u64,
}

impl core::fmt::Debug for Exec<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Exec")
            .field("par", &self.par)
            .field("backend", &self.backend.name())
            .field("observer", &self.observer.is_some())
            .field("seed", &self.seed)
            .finish()
    }
}

impl Default for Exec<'_> {
    fn default() -> Self {
        Self::new(Par::Seq)
    }
}

impl<'a> Exec<'a> {
    /// A context with parallelism `par`, the CPU backend, no observer and seed 0.
    pub fn new(par: Par) -> Self {
        Self {
            par,
            backend: &CPU,
            observer: None,
            seed: 0,
        }
    }

    /// Runs the heavy operations on `backend` (what it does not support runs on the CPU).
    pub fn with_backend(mut self, backend: &'a (dyn Backend + 'static)) -> Self {
        self.backend = backend;
        self
    }

    /// Reports to `observer`, which may cancel.
    pub fn with_observer(mut self, observer: &'a dyn Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Seeds every random choice.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same context with parallelism `par` (e.g. `Par::Seq` for work inside a task that
    /// is already one of many parallel ones).
    pub fn with_par(mut self, par: Par) -> Self {
        self.par = par;
        self
    }

    /// The parallelism.
    pub fn par(&self) -> Par {
        self.par
    }

    /// Threads the parallelism asks for (1 for `Par::Seq`).
    pub fn threads(&self) -> usize {
        match self.par {
            Par::Seq => 1,
            Par::Rayon(n) => n.get(),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The backend.
    pub fn backend(&self) -> &'a (dyn Backend + 'static) {
        self.backend
    }

    /// Tells the observer, and returns [`Cancelled`] if it asks to stop.
    pub fn notify(&self, event: &Event<'_>) -> core::result::Result<(), Cancelled> {
        match self.observer.map(|o| o.observe(event)) {
            Some(ControlFlow::Break(())) => Err(Cancelled),
            _ => Ok(()),
        }
    }

    /// Reports progress (`done` of `total` units of `stage`); a checkpoint where the
    /// observer may cancel.
    pub fn progress(
        &self,
        stage: &'static str,
        done: usize,
        total: usize,
    ) -> core::result::Result<(), Cancelled> {
        self.notify(&Event::Progress(Progress { stage, done, total }))
    }

    /// Reports the end of an iteration; a checkpoint where the observer may cancel.
    pub fn iteration(&self, stats: &IterationStats) -> core::result::Result<(), Cancelled> {
        self.notify(&Event::Iteration(stats))
    }

    /// `f(i)` for every `i < n`, in order: in parallel under `Par::Rayon` (tasks of at least
    /// `min_len` indices), on the calling thread under `Par::Seq`. Each `f(i)` is computed the
    /// same way whatever the threads.
    pub fn map<R: Send>(
        &self,
        n: usize,
        min_len: usize,
        f: impl Fn(usize) -> R + Sync + Send,
    ) -> Vec<R> {
        use rayon::prelude::*;
        match self.par {
            Par::Seq => (0..n).map(f).collect(),
            Par::Rayon(_) => (0..n)
                .into_par_iter()
                .with_min_len(min_len.max(1))
                .map(f)
                .collect(),
        }
    }

    /// `f(k, chunk)` for the consecutive `chunk`-long pieces of `data` (the last may be
    /// shorter), in parallel under `Par::Rayon`.
    pub fn for_each_chunk<T: Send>(
        &self,
        data: &mut [T],
        chunk: usize,
        f: impl Fn(usize, &mut [T]) + Sync + Send,
    ) {
        use rayon::prelude::*;
        let chunk = chunk.max(1);
        match self.par {
            Par::Seq => data
                .chunks_mut(chunk)
                .enumerate()
                .for_each(|(k, c)| f(k, c)),
            Par::Rayon(_) => data
                .par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(k, c)| f(k, c)),
        }
    }

    /// The backend's kernels for `T` when it runs `op` in `T`, else the CPU's (reported).
    fn kernels<T: Real>(&self, op: Op) -> &'a dyn Kernels<T> {
        let k = kernels_of::<T>(self.backend);
        match k.supports(op) {
            Ok(()) => k,
            Err(why) => {
                self.fell_back::<T>(op, &why);
                kernels_of::<T>(&CPU)
            }
        }
    }

    fn fell_back<T: Real>(&self, op: Op, why: &Declined) {
        // A fallback is information, not a checkpoint: the call goes on either way.
        let _ = self.notify(&Event::Fallback {
            op,
            precision: T::PRECISION,
            backend: self.backend.name(),
            reason: &why.0,
        });
    }

    /// Uploads `m` once for many calls (a dictionary, its Gram matrix); see
    /// [`Resident`].
    pub fn resident<'m, T: Real>(&self, m: MatRef<'m, T>) -> Resident<'m, T> {
        let k = kernels_of::<T>(self.backend);
        let buffer = if k.supports(Op::Gemm).is_ok() || k.supports(Op::Gram).is_ok() {
            k.upload(m)
        } else {
            None
        };
        Resident::new(m, buffer)
    }

    /// `dst = op_a(a)·op_b(b)`.
    pub fn gemm<'i, T: Real>(
        &self,
        mut dst: MatMut<'_, T>,
        a: impl Into<Input<'i, T>>,
        op_a: Trans,
        b: impl Into<Input<'i, T>>,
        op_b: Trans,
    ) -> Result<()> {
        let (a, b) = (a.into(), b.into());
        let (av, bv) = (op_a.apply(a.view()), op_b.apply(b.view()));
        if av.ncols() != bv.nrows() {
            return Err(LinalgError::ShapeMismatch {
                op: "gemm",
                left: shape(av.nrows(), av.ncols()),
                right: shape(bv.nrows(), bv.ncols()),
                hint: "the inner dimensions of a product must agree",
            });
        }
        check_dst("gemm", &dst, av.nrows(), bv.ncols())?;
        let k = self.kernels::<T>(Op::Gemm);
        if let Err(why) = k.gemm(dst.rb_mut(), a, op_a, b, op_b, self.par) {
            self.fell_back::<T>(Op::Gemm, &why);
            let _ = Kernels::<T>::gemm(&Cpu, dst, a, op_a, b, op_b, self.par);
        }
        Ok(())
    }

    /// `dst = Aᵀ·B`: with `A = D` and `B = Y`, the correlations `Dᵀ·Y`.
    pub fn gemm_tn<'i, T: Real>(
        &self,
        dst: MatMut<'_, T>,
        a: impl Into<Input<'i, T>>,
        b: impl Into<Input<'i, T>>,
    ) -> Result<()> {
        self.gemm(dst, a, Trans::Yes, b, Trans::No)
    }

    /// `dst = A·B`.
    pub fn gemm_nn<'i, T: Real>(
        &self,
        dst: MatMut<'_, T>,
        a: impl Into<Input<'i, T>>,
        b: impl Into<Input<'i, T>>,
    ) -> Result<()> {
        self.gemm(dst, a, Trans::No, b, Trans::No)
    }

    /// `dst = A·Bᵀ`.
    pub fn gemm_nt<'i, T: Real>(
        &self,
        dst: MatMut<'_, T>,
        a: impl Into<Input<'i, T>>,
        b: impl Into<Input<'i, T>>,
    ) -> Result<()> {
        self.gemm(dst, a, Trans::No, b, Trans::Yes)
    }

    /// Allocating [`gemm`](Self::gemm): returns `op_a(a)·op_b(b)`.
    pub fn product<'i, T: Real>(
        &self,
        a: impl Into<Input<'i, T>>,
        op_a: Trans,
        b: impl Into<Input<'i, T>>,
        op_b: Trans,
    ) -> Result<faer::Mat<T>> {
        let (a, b) = (a.into(), b.into());
        let rows = op_a.apply(a.view()).nrows();
        let cols = op_b.apply(b.view()).ncols();
        let mut dst = faer::Mat::zeros(rows, cols);
        self.gemm(dst.as_mut(), a, op_a, b, op_b)?;
        Ok(dst)
    }

    /// `dst = Aᵀ·A`, exactly symmetric (the Gram matrix of `A`'s columns).
    pub fn gram_into<'i, T: Real>(
        &self,
        mut dst: MatMut<'_, T>,
        a: impl Into<Input<'i, T>>,
    ) -> Result<()> {
        let a = a.into();
        let m = a.view().ncols();
        check_dst("gram", &dst, m, m)?;
        let k = self.kernels::<T>(Op::Gram);
        if let Err(why) = k.gram(dst.rb_mut(), a, self.par) {
            self.fell_back::<T>(Op::Gram, &why);
            let _ = Kernels::<T>::gram(&Cpu, dst, a, self.par);
        }
        Ok(())
    }

    /// Allocating [`gram_into`](Self::gram_into).
    pub fn gram<'i, T: Real>(&self, a: impl Into<Input<'i, T>>) -> Result<faer::Mat<T>> {
        let a = a.into();
        let m = a.view().ncols();
        let mut dst = faer::Mat::zeros(m, m);
        self.gram_into(dst.as_mut(), a)?;
        Ok(dst)
    }

    /// `dst = product(x, b)` for a sparse `x` (see [`SparseProduct`]).
    pub fn sparse_dense<'i, T: Real>(
        &self,
        mut dst: MatMut<'_, T>,
        product: SparseProduct,
        x: &CscMatrix<T>,
        b: impl Into<Input<'i, T>>,
    ) -> Result<()> {
        let b = b.into();
        let bv = b.view();
        let (left, right, rows, cols, what) = match product {
            SparseProduct::DenseTimesSparse => (
                (bv.nrows(), bv.ncols()),
                (x.nrows(), x.ncols()),
                bv.nrows(),
                x.ncols(),
                "dense_mul (A·X)",
            ),
            SparseProduct::SparseTimesDense => (
                (x.nrows(), x.ncols()),
                (bv.nrows(), bv.ncols()),
                x.nrows(),
                bv.ncols(),
                "mul_dense (X·B)",
            ),
            SparseProduct::SparseTransposeTimesDense => (
                (x.ncols(), x.nrows()),
                (bv.nrows(), bv.ncols()),
                x.ncols(),
                bv.ncols(),
                "transpose_mul_dense (Xᵀ·B)",
            ),
        };
        if left.1 != right.0 {
            return Err(LinalgError::ShapeMismatch {
                op: what,
                left: shape(left.0, left.1),
                right: shape(right.0, right.1),
                hint: "the inner dimensions of a product must agree",
            });
        }
        check_dst(what, &dst, rows, cols)?;
        let k = self.kernels::<T>(Op::SparseDense);
        if let Err(why) = k.sparse_dense(dst.rb_mut(), product, x, b, self.par) {
            self.fell_back::<T>(Op::SparseDense, &why);
            let _ = Kernels::<T>::sparse_dense(&Cpu, dst, product, x, b, self.par);
        }
        Ok(())
    }

    /// Allocating [`sparse_dense`](Self::sparse_dense).
    pub fn sparse_product<'i, T: Real>(
        &self,
        product: SparseProduct,
        x: &CscMatrix<T>,
        b: impl Into<Input<'i, T>>,
    ) -> Result<faer::Mat<T>> {
        let b = b.into();
        let (rows, cols) = match product {
            SparseProduct::DenseTimesSparse => (b.view().nrows(), x.ncols()),
            SparseProduct::SparseTimesDense => (x.nrows(), b.view().ncols()),
            SparseProduct::SparseTransposeTimesDense => (x.ncols(), b.view().ncols()),
        };
        let mut dst = faer::Mat::zeros(rows, cols);
        self.sparse_dense(dst.as_mut(), product, x, b)?;
        Ok(dst)
    }

    /// `dst += u·vᵀ` for sparse `u` (`p x n`) and `v` (`q x n`); `dst` is `p x q`. Each entry
    /// adds its terms in column order, whatever the threads.
    pub fn outer_products<T: Real>(
        &self,
        mut dst: MatMut<'_, T>,
        u: &CscMatrix<T>,
        v: &CscMatrix<T>,
    ) -> Result<()> {
        if u.ncols() != v.ncols() {
            return Err(LinalgError::ShapeMismatch {
                op: "outer_products",
                left: shape(u.nrows(), u.ncols()),
                right: shape(v.nrows(), v.ncols()),
                hint: "U·Vᵀ needs U and V with the same number of columns",
            });
        }
        check_dst("outer_products", &dst, u.nrows(), v.nrows())?;
        let k = self.kernels::<T>(Op::OuterProducts);
        if let Err(why) = k.outer_products(dst.rb_mut(), u, v, self.par) {
            self.fell_back::<T>(Op::OuterProducts, &why);
            let _ = Kernels::<T>::outer_products(&Cpu, dst, u, v, self.par);
        }
        Ok(())
    }

    /// The Euclidean norm of every column of `a` (faer's scaled norm: no overflow or
    /// underflow on large or tiny entries).
    pub fn column_norms<'i, T: Real>(&self, a: impl Into<Input<'i, T>>) -> Vec<T> {
        let a = a.into();
        let mut dst = vec![T::zero(); a.view().ncols()];
        let k = self.kernels::<T>(Op::ColumnNorms);
        if let Err(why) = k.column_norms(&mut dst, a, self.par) {
            self.fell_back::<T>(Op::ColumnNorms, &why);
            let _ = Kernels::<T>::column_norms(&Cpu, &mut dst, a, self.par);
        }
        dst
    }

    /// Whether the backend takes the fused operation `op` in `T` at all: false on the CPU
    /// (the caller runs its own kernel) and where the backend does not support it (the
    /// observer is told why). A caller asks before preparing what only the device needs.
    pub fn offers<T: Real>(&self, op: Op) -> bool {
        if self.backend.is_cpu() {
            return false;
        }
        match kernels_of::<T>(self.backend).supports(op) {
            Ok(()) => true,
            Err(why) => {
                self.fell_back::<T>(op, &why);
                false
            }
        }
    }

    /// Greedy pursuit of every signal of `job` on the backend ([`Pursuit`]), reporting
    /// progress (`"encode"`, signals) as the backend finishes parts of it; `OnCpu` when the
    /// backend is the CPU or declines (the caller then runs its own kernel).
    pub fn pursuit<T: Real>(&self, job: &Pursuit<'_, T>) -> Result<Offloaded<PursuitCodes<T>>> {
        let (d, m) = (job.atoms.view().nrows(), job.atoms.view().ncols());
        let y = job.signals;
        match (job.gram, job.rule.needs_gram()) {
            (Some(g), _) if g.view().nrows() != m || g.view().ncols() != m => {
                return Err(LinalgError::ShapeMismatch {
                    op: "pursuit",
                    left: shape(d, m),
                    right: shape(g.view().nrows(), g.view().ncols()),
                    hint: "the Gram matrix of an m-atom dictionary is m x m",
                });
            }
            (None, true) => {
                return Err(LinalgError::InvalidParameter {
                    name: "gram",
                    value: "none".into(),
                    expected: "the Gram matrix, which OMP, ORMP and MP read",
                });
            }
            _ => {}
        }
        if y.nrows() != d {
            return Err(LinalgError::ShapeMismatch {
                op: "pursuit",
                left: shape(d, m),
                right: shape(y.nrows(), y.ncols()),
                hint: "signals are columns of the dictionary's dimension",
            });
        }
        let (most, expected) = match job.rule {
            PursuitRule::Omp | PursuitRule::Ormp => (m.min(d), "between 1 and min(m, d)"),
            PursuitRule::Mp { .. } | PursuitRule::TopK { .. } | PursuitRule::Cosine { .. } => {
                (m, "between 1 and m")
            }
            PursuitRule::Nearest => (1, "1 (one centre per signal)"),
        };
        if job.max_atoms == 0 || job.max_atoms > most {
            return Err(LinalgError::InvalidParameter {
                name: "max_atoms",
                value: job.max_atoms.to_string(),
                expected,
            });
        }
        if job.rule == PursuitRule::Nearest && job.offsets.map(<[T]>::len) != Some(m) {
            return Err(LinalgError::InvalidParameter {
                name: "offsets",
                value: format!("{:?} entries", job.offsets.map(<[T]>::len)),
                expected: "one offset per atom for the nearest-centre rule",
            });
        }
        if !self.offers::<T>(Op::Pursuit) {
            return Ok(Offloaded::OnCpu);
        }
        let n = y.ncols();
        Ok(self.offloaded(Op::Pursuit, ("encode", n), |k, checkpoint| {
            let mut out = PursuitCodes::empty(n, job.max_atoms);
            k.pursuit(job, &mut out, checkpoint).map(|()| out)
        }))
    }

    /// Runs the iterations of an NMF `job` on the backend ([`Factorization`]) from the
    /// factors in `w` and `h`, calling `each` after every iteration (break to stop);
    /// `OnCpu` when the backend is the CPU or declines, with `w` and `h` untouched and
    /// `each` never called (the caller then runs its own loop).
    pub fn factorize<T: Real>(
        &self,
        job: &Factorization<'_, T>,
        w: MatMut<'_, T>,
        h: MatMut<'_, T>,
        each: &mut dyn FnMut(&FactorStep) -> ControlFlow<()>,
    ) -> Result<Offloaded<()>> {
        let (n, p) = job.data.shape();
        let r = w.ncols();
        if w.nrows() != n || h.nrows() != r || h.ncols() != p {
            return Err(LinalgError::ShapeMismatch {
                op: "factorize",
                left: shape(w.nrows(), w.ncols()),
                right: shape(h.nrows(), h.ncols()),
                hint: "W is n x r and H is r x p for data V of n x p",
            });
        }
        if !self.offers::<T>(Op::Factorize) {
            return Ok(Offloaded::OnCpu);
        }
        // The solver's own stopping rule cancels through `each`: no checkpoint here.
        Ok(self.offloaded(Op::Factorize, ("iterations", 0), |k, _| {
            k.factorize(job, w, h, each)
        }))
    }

    /// LASSO by FISTA or ISTA for every signal of `job` on the backend ([`Lasso`]), the
    /// codes handed to `each` as dense chunks (first signal, `m x len`), progress reported
    /// (`"encode"`, signals) between chunks; `OnCpu` when the backend is the CPU or declines
    /// (the caller discards any chunk it received and runs its own blocks).
    pub fn lasso<T: Real>(
        &self,
        job: &Lasso<'_, T>,
        each: &mut dyn FnMut(usize, MatRef<'_, T>),
    ) -> Result<Offloaded<()>> {
        let (d, m) = (job.atoms.view().nrows(), job.atoms.view().ncols());
        let g = job.gram.view();
        if g.nrows() != m || g.ncols() != m || job.signals.nrows() != d {
            return Err(LinalgError::ShapeMismatch {
                op: "lasso",
                left: shape(d, m),
                right: shape(job.signals.nrows(), job.signals.ncols()),
                hint: "signals of the dictionary's dimension, and its m x m Gram matrix",
            });
        }
        if !self.offers::<T>(Op::Lasso) {
            return Ok(Offloaded::OnCpu);
        }
        let n = job.signals.ncols();
        Ok(self.offloaded(Op::Lasso, ("encode", n), |k, checkpoint| {
            k.lasso(job, &mut |first, codes| {
                each(first, codes);
                checkpoint(first + codes.ncols())
            })
        }))
    }

    /// One sweep of K-SVD's atom updates on the backend ([`AtomSweep`]), updating `dict`
    /// and `values` (the codes' values) in place and reporting progress (`"atoms"`) between
    /// batches; `OnCpu` when the backend is the CPU or declines (nothing changed).
    pub fn atom_updates<T: Real>(
        &self,
        job: &AtomSweep<'_, T>,
        dict: MatMut<'_, T>,
        values: &mut [T],
    ) -> Result<Offloaded<()>> {
        let (d, m) = (dict.nrows(), dict.ncols());
        let (y, x) = (job.signals, job.codes);
        if y.nrows() != d || x.nrows() != m || x.ncols() != y.ncols() || values.len() != x.nnz() {
            return Err(LinalgError::ShapeMismatch {
                op: "atom_updates",
                left: shape(d, m),
                right: shape(x.nrows(), x.ncols()),
                hint: "a d x m dictionary, m x N codes with their values, d x N signals",
            });
        }
        let mut seen = vec![false; m];
        if job.order.len() != m
            || job
                .order
                .iter()
                .any(|&k| k >= m || std::mem::replace(&mut seen[k], true))
        {
            return Err(LinalgError::InvalidParameter {
                name: "order",
                value: format!("{} entries", job.order.len()),
                expected: "every atom exactly once",
            });
        }
        if job.atoms_per_batch == 0 || job.power_steps == 0 {
            return Err(LinalgError::InvalidParameter {
                name: "atoms_per_batch, power_steps",
                value: format!("{}, {}", job.atoms_per_batch, job.power_steps),
                expected: "both at least 1",
            });
        }
        if !self.offers::<T>(Op::AtomUpdates) {
            return Ok(Offloaded::OnCpu);
        }
        Ok(
            self.offloaded(Op::AtomUpdates, ("atoms", m), |k, checkpoint| {
                k.atom_updates(job, dict, values, checkpoint)
            }),
        )
    }

    /// Runs a fused operation the backend offers: `run` gets its kernels and a checkpoint
    /// that reports `done` of `total` units of `stage` and breaks once the observer
    /// cancels. A decline is reported and answered `OnCpu`; a run the checkpoint broke is
    /// `Cancelled`, whatever it returned.
    fn offloaded<T: Real, R>(
        &self,
        op: Op,
        (stage, total): (&'static str, usize),
        run: impl FnOnce(
            &dyn Kernels<T>,
            &mut dyn FnMut(usize) -> ControlFlow<()>,
        ) -> core::result::Result<R, Declined>,
    ) -> Offloaded<R> {
        let mut cancelled = false;
        let ran = run(kernels_of::<T>(self.backend), &mut |done| {
            if self.progress(stage, done, total).is_err() {
                cancelled = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        match ran {
            Err(why) => {
                self.fell_back::<T>(op, &why);
                Offloaded::OnCpu
            }
            Ok(_) if cancelled => Offloaded::Cancelled,
            Ok(r) => Offloaded::Done(r),
        }
    }

    /// Scales every column of `a` to unit norm in place, the norms computed on the backend
    /// (see [`normalize_columns`](crate::norms::normalize_columns): columns whose norm is
    /// zero, subnormal or not finite are reported and left as they are).
    pub fn normalize_columns<T: Real>(&self, a: MatMut<'_, T>) -> Normalization<T> {
        let norms = self.column_norms(a.rb());
        scale_to_unit(a, norms)
    }
}

fn check_dst<T>(op: &'static str, dst: &MatMut<'_, T>, nrows: usize, ncols: usize) -> Result<()> {
    if dst.nrows() != nrows || dst.ncols() != ncols {
        return Err(LinalgError::ShapeMismatch {
            op,
            left: shape(dst.nrows(), dst.ncols()),
            right: shape(nrows, ncols),
            hint: "the destination must have the shape of the product",
        });
    }
    Ok(())
}

/// Runs `f` on a new rayon pool of `threads` threads (at least 1), passing the parallelism
/// that uses them (`Par::Seq` for one thread): how a caller bounds the threads of a fit.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce(Par) -> R + Send) -> Result<R> {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| LinalgError::InvalidParameter {
            name: "threads",
            value: format!("{threads} ({e})"),
            expected: "a thread count the system can start; try fewer threads",
        })?;
    let par = if threads > 1 {
        Par::rayon(threads)
    } else {
        Par::Seq
    };
    Ok(pool.install(|| f(par)))
}
