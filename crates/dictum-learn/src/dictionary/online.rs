//! Online dictionary learning (Mairal, Bach, Ponce & Sapiro, *Online learning for matrix
//! factorization and sparse coding*, JMLR 11, 2010; ICML 2009): what SPAMS `trainDL` and
//! scikit-learn's `MiniBatchDictionaryLearning` do.
//!
//! Mini-batches of signals are coded with the current dictionary; the sufficient statistics
//! `A = Σ x·xᵀ` (`m x m`) and `B = Σ y·xᵀ` (`d x m`) accumulate them, older batches
//! down-weighted; then one pass of block-coordinate descent updates each atom
//! `d_j ← c_j / ‖c_j‖` with `c_j = b_j − D·a_j + A_jj·d_j`. On unit-norm atoms that step
//! minimises the surrogate `½·tr(Dᵀ·D·A) − tr(Dᵀ·B)` over `d_j` exactly, so the surrogate never
//! increases during an update ([`OnlineState::surrogate`]).
//!
//! Signals are read a mini-batch at a time, in a fresh random order each epoch: a view of a
//! memory-mapped `.npy` works, so `N` may exceed memory.

use dictum_coding::{Dictionary, Encoder, Signals, residual_norms};
use dictum_linalg::exec::{Exec, IterationStats};
use dictum_linalg::simd::with_simd;
use dictum_linalg::{CscMatrix, Mat, MatMut, MatRef, Par, Real};

use super::driver::{check_signals, given_dictionary, starting_dictionary};
use super::{Common, Learned, SparseModel, common_setters};
use crate::error::{LearnError, Result, invalid};
use crate::fit::{Learner, Monitor, Progression};
use crate::rng::Rng;

/// How the statistics of past mini-batches are down-weighted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Forgetting {
    /// Mairal et al. (2010, §3.4): with batch size `η` and step `t`, `θ = t·η` while
    /// `t < η`, else `η² + t − η`, and the past is scaled by `(θ + 1 − η)/(θ + 1)`: early
    /// (poor) codes fade, later ones average. scikit-learn's rule.
    #[default]
    Mairal,
    /// The past is scaled by this factor in `(0, 1]` each step (1: plain sums).
    Factor(f64),
}

/// Online dictionary learning with `E` as its coding step (typically
/// [`Lars`](dictum_coding::Lars), as SPAMS and scikit-learn).
#[derive(Debug, Clone, PartialEq)]
pub struct Online<E> {
    n_atoms: usize,
    coder: E,
    batch_size: usize,
    forgetting: Forgetting,
    report_every: usize,
    final_codes: bool,
    pub(crate) common: Common,
}

impl<E> Online<E> {
    /// Online learning of `n_atoms` atoms coded by `coder`. Defaults: mini-batches of 256,
    /// Mairal's forgetting rule, `max_iter` = 1000 mini-batches, history every 10 steps, codes
    /// of all signals at the end.
    pub fn new(n_atoms: usize, coder: E) -> Self {
        let mut common = Common::default();
        common.stopping.max_iter = 1000;
        Self {
            n_atoms,
            coder,
            batch_size: 256,
            forgetting: Forgetting::Mairal,
            report_every: 10,
            final_codes: true,
            common,
        }
    }

    /// Signals per mini-batch.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// How past statistics are down-weighted.
    pub fn forgetting(mut self, f: Forgetting) -> Self {
        self.forgetting = f;
        self
    }

    /// Mini-batches per history entry (and per callback and stopping check).
    pub fn report_every(mut self, steps: usize) -> Self {
        self.report_every = steps;
        self
    }

    /// Whether `fit` codes every signal with the final dictionary (default true); without, the
    /// returned codes are empty (`m x 0`).
    pub fn final_codes(mut self, yes: bool) -> Self {
        self.final_codes = yes;
        self
    }

    common_setters!();

    /// Checks the parameters; `fit` calls it. `max_iter` counts mini-batches.
    pub fn validate(&self) -> Result<()> {
        let m = "online";
        if self.n_atoms == 0 {
            return Err(invalid(m, "n_atoms", 0, "learn at least one atom"));
        }
        if self.batch_size == 0 || self.report_every == 0 {
            return Err(invalid(
                m,
                if self.batch_size == 0 {
                    "batch_size"
                } else {
                    "report_every"
                },
                0,
                "at least 1",
            ));
        }
        if let Forgetting::Factor(f) = self.forgetting
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(invalid(m, "forgetting", f, "a factor in (0, 1]"));
        }
        self.common.validate(m)
    }

    /// An empty state around the initial dictionary `d0` (normalized here), for callers that
    /// feed mini-batches themselves ([`OnlineState::partial_fit`]).
    pub fn start<T: Real>(&self, d0: MatRef<'_, T>) -> Result<OnlineState<T>> {
        self.validate()?;
        let (d, m) = (d0.nrows(), d0.ncols());
        Ok(self.state(given_dictionary("online", d, d0, m)?))
    }

    fn state<T: Real>(&self, dict: Dictionary<'static, T>) -> OnlineState<T> {
        let (d, m) = (dict.dim(), dict.n_atoms());
        OnlineState {
            dict,
            a: vec![T::zero(); m * m],
            b: vec![T::zero(); d * m],
            d,
            m,
            steps: 0,
            forgetting: self.forgetting,
            track_surrogate: false,
        }
    }

    fn run<T: Real>(
        &self,
        signals: Signals<'_, T>,
        d0: Dictionary<'static, T>,
        mut rng: Rng,
        exec: &Exec<'_>,
    ) -> Result<Learned<T>>
    where
        E: Encoder<T>,
    {
        let y = signals.view();
        let n = y.ncols();
        let mut state = self.state(d0);
        let mut order: Vec<usize> = Vec::new();
        let mut next = 0;
        let (mut r2, mut y2, mut rel, mut nnz, mut count, mut replaced) =
            (0.0, 0.0, 0.0, 0usize, 0usize, 0usize);
        let stop = &self.common.stopping;
        let mut progress = Progression::new(stop, Monitor::RelError, exec);
        let width = self.batch_size.min(n);
        let mut batch = Mat::<T>::zeros(y.nrows(), width);
        let mut idx = Vec::with_capacity(width);
        for step in 1..=stop.max_iter {
            // One epoch is one random permutation of the signals, cut into mini-batches.
            idx.clear();
            while idx.len() < width {
                if next == order.len() {
                    order = (0..n).collect();
                    rng.shuffle(&mut order);
                    next = 0;
                }
                let take = (width - idx.len()).min(order.len() - next);
                idx.extend_from_slice(&order[next..next + take]);
                next += take;
            }
            let mini = signals.gather_into(&idx, &mut batch);
            let report = state.step(mini, &self.coder, &mut rng, exec)?;
            r2 += report.residual2;
            y2 += report.signal2;
            rel += report.rel_sum;
            nnz += report.nnz;
            count += width;
            replaced += report.replaced;
            progress.tick();
            if step % self.report_every == 0 || step == stop.max_iter {
                let stats = IterationStats {
                    iter: step,
                    objective: 0.5 * r2,
                    rel_error: if y2 > 0.0 { (r2 / y2).sqrt() } else { 0.0 },
                    mean_rel_residual: Some(rel / count as f64),
                    mean_nnz: nnz as f64 / count as f64,
                    replaced,
                    seconds: progress.seconds(),
                };
                (r2, y2, rel, nnz, count, replaced) = (0.0, 0.0, 0.0, 0, 0, 0);
                if progress.record(stats, true)? {
                    break;
                }
            }
        }
        let codes = if self.final_codes {
            self.coder.encode_signals(&state.dict, signals, exec)?
        } else {
            CscMatrix::zeros(state.m, 0)
        };
        Ok(progress.finish(SparseModel {
            dictionary: state.dict.into_mat(),
            codes,
        }))
    }
}

impl<'a, T: Real, E: Encoder<T>> Learner<MatRef<'a, T>> for Online<E> {
    type Start = MatRef<'a, T>;
    type Model = SparseModel<T>;

    /// Learns from the signals `y` (`d x N`), from `d0` (`d x n_atoms`) or the dictionary
    /// chosen by `init`. `max_iter` counts mini-batches; a history entry (and a report to the
    /// observer) every `report_every` of them.
    fn fit_from(
        &self,
        y: MatRef<'a, T>,
        d0: Option<MatRef<'a, T>>,
        exec: &Exec<'_>,
    ) -> Result<Learned<T>> {
        self.validate()?;
        let c = &self.common;
        let (y, d0, rng) = starting_dictionary("online", y, self.n_atoms, d0, c.init, exec)?;
        self.run(y, d0, rng, exec)
    }
}

/// The state of online learning: dictionary, statistics `A`, `B` and the step count.
///
/// All three are kept as plain column-major buffers: the atom update walks their columns as
/// contiguous slices, which vectorize.
#[derive(Debug, Clone)]
pub struct OnlineState<T: 'static> {
    dict: Dictionary<'static, T>,
    a: Vec<T>,
    b: Vec<T>,
    d: usize,
    m: usize,
    steps: usize,
    forgetting: Forgetting,
    track_surrogate: bool,
}

/// What one mini-batch step measured (before its dictionary update).
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// `Σ ‖y − D·x‖²` over the batch.
    pub residual2: f64,
    /// `Σ ‖y‖²` over the batch.
    pub signal2: f64,
    /// `Σ ‖y − D·x‖/‖y‖` over the batch's non-zero signals.
    pub rel_sum: f64,
    /// Non-zeros in the batch's codes.
    pub nnz: usize,
    /// Atoms resampled because no signal has used them yet.
    pub replaced: usize,
    /// The surrogate just before and just after the dictionary update, when tracked
    /// ([`OnlineState::track_surrogate`]).
    pub surrogate: Option<(f64, f64)>,
}

impl<T: Real> OnlineState<T> {
    /// The current dictionary.
    pub fn dictionary(&self) -> MatRef<'_, T> {
        self.dict.atoms()
    }

    /// Whether [`partial_fit`](Self::partial_fit) reports the surrogate before and after each
    /// update (it costs `O(d·m²)` twice per step; off by default).
    pub fn track_surrogate(&mut self, yes: bool) {
        self.track_surrogate = yes;
    }

    /// Mini-batches seen.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The surrogate `½·tr(Dᵀ·D·A) − tr(Dᵀ·B)` of the current dictionary: the past batches'
    /// coding objective as a function of `D`, up to terms that do not depend on `D`.
    pub fn surrogate(&self) -> f64 {
        let (d, m) = (self.d, self.m);
        let col = |buf: &[T], j: usize| -> Vec<f64> {
            buf[j * d..(j + 1) * d]
                .iter()
                .map(|v| v.into_f64())
                .collect()
        };
        let atoms: Vec<Vec<f64>> = (0..m)
            .map(|j| self.dict.atom(j).iter().map(|v| v.into_f64()).collect())
            .collect();
        let mut s = 0.0;
        for j in 0..m {
            for i in 0..m {
                let a = self.a[j * m + i].into_f64();
                if a != 0.0 {
                    let g: f64 = atoms[i].iter().zip(&atoms[j]).map(|(x, y)| x * y).sum();
                    s += 0.5 * g * a;
                }
            }
            s -= atoms[j]
                .iter()
                .zip(col(&self.b, j))
                .map(|(x, y)| x * y)
                .sum::<f64>();
        }
        s
    }

    /// Codes one mini-batch (columns of `batch`, checked here) with `coder`, folds it into
    /// the statistics and updates the dictionary by one pass of block-coordinate descent.
    pub fn partial_fit<E: Encoder<T>>(
        &mut self,
        batch: MatRef<'_, T>,
        coder: &E,
        rng: &mut Rng,
        exec: &Exec<'_>,
    ) -> Result<StepReport> {
        if batch.nrows() != self.d {
            return Err(LearnError::ShapeMismatch {
                method: "online",
                what: "mini-batch",
                expected: format!("{} rows (the signal dimension)", self.d),
                found: format!("{} x {}", batch.nrows(), batch.ncols()),
            });
        }
        let batch = check_signals("online", batch, exec)?;
        self.step(batch, coder, rng, exec)
    }

    /// [`partial_fit`](Self::partial_fit) on signals already checked.
    fn step<E: Encoder<T>>(
        &mut self,
        signals: Signals<'_, T>,
        coder: &E,
        rng: &mut Rng,
        exec: &Exec<'_>,
    ) -> Result<StepReport> {
        let (d, m) = (self.d, self.m);
        let batch = signals.view();
        let x = coder.encode_signals(&self.dict, signals, exec)?;
        let r2v = residual_norms(self.dict.atoms(), batch, &x, exec)?;
        let (mut residual2, mut signal2, mut rel_sum) = (0.0, 0.0, 0.0);
        for (j, r) in r2v.iter().enumerate() {
            let y2 = batch.col(j).squared_norm_l2().into_f64();
            residual2 += r.into_f64();
            signal2 += y2;
            if y2 > 0.0 {
                rel_sum += (r.into_f64() / y2).sqrt();
            }
        }
        self.steps += 1;
        let eta = batch.ncols() as f64;
        let beta = match self.forgetting {
            Forgetting::Mairal => {
                let t = self.steps as f64;
                let theta = if t < eta {
                    t * eta
                } else {
                    eta * eta + t - eta
                };
                (theta + 1.0 - eta) / (theta + 1.0)
            }
            Forgetting::Factor(f) => f,
        };
        let (beta, scale) = (T::cast_f64(beta.max(0.0)), T::cast_f64(1.0 / eta));
        self.a.iter_mut().for_each(|v| *v *= beta);
        self.b.iter_mut().for_each(|v| *v *= beta);
        for j in 0..x.ncols() {
            let (rows, vals) = x.col(j);
            let yj = batch.col(j);
            for (&r, &v) in rows.iter().zip(vals) {
                let v = v * scale;
                for (&s, &w) in rows.iter().zip(vals) {
                    self.a[s as usize * m + r as usize] += v * w;
                }
                let bj = &mut self.b[r as usize * d..(r as usize + 1) * d];
                for (b, &yv) in bj.iter_mut().zip(yj.iter()) {
                    *b += v * yv;
                }
            }
        }
        let before = self.track_surrogate.then(|| self.surrogate());
        let replaced = self.update_atoms(batch, rng, exec)?;
        let surrogate = before.map(|b| (b, self.surrogate()));
        Ok(StepReport {
            residual2,
            signal2,
            rel_sum,
            nnz: x.nnz(),
            replaced,
            surrogate,
        })
    }

    /// One block-coordinate pass over the atoms, [`ATOM_BLOCK`] at a time: `D·a_j` for a
    /// block's atoms is one GEMM with the dictionary as it was at the start of the block, and
    /// the block's own earlier updates are added back atom by atom. That is the sequential
    /// pass (up to rounding) but reads `D` once per block instead of once per atom.
    fn update_atoms(
        &mut self,
        batch: MatRef<'_, T>,
        rng: &mut Rng,
        exec: &Exec<'_>,
    ) -> Result<usize> {
        let (d, m) = (self.d, self.m);
        let inner = exec.with_par(Par::Seq);
        let mut c = vec![T::zero(); d];
        let mut replaced = 0;
        let width = ATOM_BLOCK.min(m);
        let mut da = vec![T::zero(); d * width];
        let mut start = vec![T::zero(); d * width];
        for j0 in (0..m).step_by(ATOM_BLOCK) {
            let bs = ATOM_BLOCK.min(m - j0);
            {
                let ablock = MatRef::from_column_major_slice(&self.a[j0 * m..(j0 + bs) * m], m, bs);
                let out = MatMut::from_column_major_slice_mut(&mut da[..d * bs], d, bs);
                inner.gemm_nn(out, self.dict.atoms(), ablock)?;
            }
            for t in 0..bs {
                start[t * d..(t + 1) * d].copy_from_slice(self.dict.atom(j0 + t));
            }
            for t in 0..bs {
                let j = j0 + t;
                let ajj = self.a[j * m + j];
                // An atom no signal has used has no statistics: give it a random signal of
                // this batch (as scikit-learn does) so it can start to attract codes. Its row
                // of A is zero, so no other atom's direction depends on it.
                if ajj.is_nan() || ajj <= T::epsilon() {
                    let pick = batch.col(rng.below(batch.ncols()));
                    let nrm = pick.norm_l2();
                    if nrm > T::zero() {
                        let atom: Vec<T> = (0..d).map(|i| pick[i] / nrm).collect();
                        self.dict.set_atom(j, &atom)?;
                        replaced += 1;
                    }
                    continue;
                }
                // c = b_j − D·a_j + A_jj·d_j, whose direction minimises the surrogate over
                // d_j, with D·a_j = D_start·a_j + Σ_{earlier u in block} A_uj·(d_u − d_u,start).
                let (dict, a, b) = (&self.dict, &self.a, &self.b);
                let g = &da[t * d..(t + 1) * d];
                with_simd(
                    #[inline(always)]
                    || {
                        let bj = &b[j * d..(j + 1) * d];
                        let dj = dict.atom(j);
                        // Zipped slices of one length: no bounds checks, so the loops vectorize.
                        for (((ci, &bv), &gv), &dv) in c.iter_mut().zip(bj).zip(g).zip(dj) {
                            *ci = bv - gv + ajj * dv;
                        }
                        for u in 0..t {
                            let w = a[j * m + j0 + u];
                            if w != T::zero() {
                                let now = dict.atom(j0 + u);
                                let was = &start[u * d..(u + 1) * d];
                                for ((ci, &nv), &wv) in c.iter_mut().zip(now).zip(was) {
                                    *ci -= w * (nv - wv);
                                }
                            }
                        }
                    },
                );
                let nrm = c.iter().fold(T::zero(), |s, &v| s + v * v).sqrt();
                if nrm > T::zero() && nrm.is_finite() {
                    let atom: Vec<T> = c.iter().map(|&ci| ci / nrm).collect();
                    self.dict.set_atom(j, &atom)?;
                }
            }
        }
        Ok(replaced)
    }
}

/// Atoms per GEMM in the block-coordinate pass.
const ATOM_BLOCK: usize = 32;
