//! Dictionary learning: find `D` (`d x m`, unit-norm atoms) and sparse codes `X` (`m x N`)
//! with `Y ≈ D·X`, alternating a sparse-coding step (any [`Encoder`] of `dictum-coding`) with a
//! dictionary update.
//!
//! | learner | update | paper |
//! |---|---|---|
//! | [`Ksvd`] with [`AtomUpdate::Exact`] | each atom and its coefficients from the top singular pair of the residual restricted to the atom's users | Aharon, Elad & Bruckstein, IEEE TSP 2006 |
//! | [`Ksvd`] with [`AtomUpdate::Approximate`] | one power-iteration step instead of the SVD | Rubinstein, Zibulevsky & Elad, Technion CS-2008-08 |
//! | [`Ksvd::atoms_per_batch`] > 1 | atoms of a batch updated in parallel against the residual at the start of the batch (DB-KSVD) | Valentin et al., arXiv 2505.18441 |
//! | [`Mod`] | least squares `D = Y·Xᵀ·(X·Xᵀ)⁻¹` | Engan, Aase & Husøy, ICASSP 1999 |
//! | [`KMeans`] | k-means / spherical k-means centres as 1-sparse atoms (vector quantization) | Lloyd 1982; Arthur & Vassilvitskii 2007; Sculley 2010 |
//! | [`Amortized`] | a linear encoder + softmax gives the codes; encoder and dictionary trained by Adam | Gregor & LeCun 2010 (amortized inference); Kingma & Ba 2015 |
//! | [`TaskDriven`] | dictionary and linear model trained on a supervised loss through the elastic-net codes' active set | Mairal, Bach & Ponce, TPAMI 2012 |
//! | [`Online`] | mini-batches, statistics `A = Σ x·xᵀ`, `B = Σ y·xᵀ`, block-coordinate atom updates | Mairal, Bach, Ponce & Sapiro, JMLR 2010 |
//!
//! [`Matryoshka`] is a coding step (an `Encoder`) for any learner: nested atom groups, each
//! stage coding the residual over a growing prefix of the atoms (DB-KSVD's Matryoshka loop).
//!
//! Every learner shares the machinery here: the initial dictionary ([`Init`]), replacement of
//! unused and near-duplicate atoms ([`Replacement`]), stopping rules ([`Stopping`]), the
//! per-iteration [`IterationStats`] passed to a callback ([`LearnOptions::on_iteration`]),
//! and the result [`Learned`]. The same seed and thread count give the same dictionary.
//!
//! ```
//! use dictum_coding::Omp;
//! use dictum_learn::dictionary::{Ksvd, LearnOptions};
//! use dictum_linalg::{Mat, Par};
//!
//! // 200 signals of dimension 8, each a multiple of one of two directions.
//! let y = Mat::<f64>::from_fn(8, 200, |i, j| if (i + j) % 2 == 0 { 1.0 + j as f64 * 0.01 } else { 0.0 });
//! let ksvd = Ksvd::new(4, Omp::new().n_nonzero_coefs(1)).max_iter(5).seed(7);
//! let learned = ksvd.fit(y.as_ref(), &LearnOptions::new(Par::Seq))?;
//! assert!(learned.history.last().unwrap().rel_error < 1e-6);
//! # Ok::<(), dictum_learn::LearnError>(())
//! ```
//!
//! [`Encoder`]: dictum_coding::Encoder

mod amortized;
mod atom;
mod driver;
mod init;
mod kmeans;
mod ksvd;
mod matryoshka;
mod online;
mod optimal_directions;
mod replace;
mod residual;
mod task_driven;

use std::time::Duration;

use dictum_linalg::{CscMatrix, Mat, Par};

pub use amortized::{Amortized, AmortizedFit, AmortizedGradient, AmortizedModel};
pub use init::{Init, initial_dictionary};
pub use kmeans::{Clustering, KMeans, KMeansInit};
pub use ksvd::{AtomUpdate, Ksvd, ResidualMode};
pub use matryoshka::Matryoshka;
pub use online::{Forgetting, Online, OnlineState, StepReport};
pub use optimal_directions::Mod;
pub use replace::Replacement;
pub use residual::{relative_error, residual_norms};
pub use task_driven::{TaskDriven, TaskDrivenFit, TaskDrivenModel, TaskGradient, TaskLoss};

use crate::error::{Result, invalid};

/// When a learner stops: after `max_iter` iterations, when the relative error changes by less
/// than `tol` between iterations, after `max_time`, or when the mean non-zeros per signal fall
/// to `target_nnz` (with error-constrained coding), whichever comes first.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopping {
    /// Iterations at most (default 50).
    pub max_iter: usize,
    /// Stop when `|e_{t-1} − e_t| ≤ tol·e_{t-1}` for the relative error `e` (default: unset).
    pub tol: Option<f64>,
    /// Wall-time budget, checked after each iteration (default: unset).
    pub max_time: Option<Duration>,
    /// Stop once the mean non-zeros per signal is at most this (default: unset).
    pub target_nnz: Option<f64>,
}

impl Default for Stopping {
    fn default() -> Self {
        Self {
            max_iter: 50,
            tol: None,
            max_time: None,
            target_nnz: None,
        }
    }
}

impl Stopping {
    pub(crate) fn validate(&self, method: &'static str) -> Result<()> {
        if self.max_iter == 0 {
            return Err(invalid(method, "max_iter", 0, "run at least one iteration"));
        }
        if let Some(t) = self.tol
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(invalid(method, "tol", t, "a finite number ≥ 0, e.g. 1e-4"));
        }
        if let Some(t) = self.target_nnz
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(invalid(method, "target_nnz", t, "a finite number ≥ 0"));
        }
        Ok(())
    }
}

/// Why a learner stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// It ran `max_iter` iterations.
    MaxIter,
    /// The time budget ran out.
    MaxTime,
    /// The relative error changed by less than `tol`.
    Converged,
    /// The mean non-zeros per signal reached `target_nnz`.
    NnzTarget,
}

impl StopReason {
    /// A short name: `max-iter`, `max-time`, `converged`, `nnz-target`.
    pub fn name(self) -> &'static str {
        match self {
            Self::MaxIter => "max-iter",
            Self::MaxTime => "max-time",
            Self::Converged => "converged",
            Self::NnzTarget => "nnz-target",
        }
    }
}

/// What one iteration achieved, measured after its dictionary update on the signals it used.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationStats {
    /// Iteration number, from 1.
    pub iter: usize,
    /// `‖Y − D·X‖_F / ‖Y‖_F`.
    pub rel_error: f64,
    /// Mean over signals of `‖y − D·x‖ / ‖y‖` (zero signals count 0), KSVD.jl's measure.
    pub mean_rel_residual: f64,
    /// Mean non-zeros per signal.
    pub mean_nnz: f64,
    /// Atoms replaced at the start of this iteration (unused or near-duplicate).
    pub replaced: usize,
    /// Wall time since the start of the fit, in seconds.
    pub seconds: f64,
}

/// A learned dictionary with its codes and history.
#[derive(Debug, Clone)]
pub struct Learned<T> {
    /// The dictionary, `d x m`, unit-norm columns.
    pub dictionary: Mat<T>,
    /// The codes of every signal over `dictionary`, `m x N`.
    pub codes: CscMatrix<T>,
    /// One entry per iteration.
    pub history: Vec<IterationStats>,
    /// Why the loop ended.
    pub stop: StopReason,
}

/// Execution options of a fit: parallelism and a per-iteration callback.
///
/// `Par::Rayon(n)` runs on the *current* rayon pool (bound threads by calling `fit` inside
/// `ThreadPoolBuilder::new().num_threads(n).build()?.install(..)`). The learned dictionary
/// does not depend on the thread count.
#[derive(Clone, Copy)]
pub struct LearnOptions<'a> {
    par: Par,
    on_iteration: Option<&'a (dyn Fn(&IterationStats) + Sync)>,
}

impl std::fmt::Debug for LearnOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnOptions")
            .field("par", &self.par)
            .field("on_iteration", &self.on_iteration.is_some())
            .finish()
    }
}

impl Default for LearnOptions<'_> {
    fn default() -> Self {
        Self::new(Par::Seq)
    }
}

impl<'a> LearnOptions<'a> {
    /// Options with parallelism `par` and no callback.
    pub fn new(par: Par) -> Self {
        Self {
            par,
            on_iteration: None,
        }
    }

    /// Calls `f` after every iteration (the CLI draws its progress bar from it).
    pub fn on_iteration(mut self, f: &'a (dyn Fn(&IterationStats) + Sync)) -> Self {
        self.on_iteration = Some(f);
        self
    }

    /// The parallelism.
    pub fn par(&self) -> Par {
        self.par
    }

    pub(crate) fn report(&self, stats: &IterationStats) {
        if let Some(f) = self.on_iteration {
            f(stats);
        }
    }
}

/// The setters every learner shares: stopping rules, seed, initialisation and replacement.
macro_rules! common_setters {
    () => {
        /// Iterations at most (default 50).
        pub fn max_iter(mut self, n: usize) -> Self {
            self.common.stopping.max_iter = n;
            self
        }

        /// Stop when the relative error changes by at most `tol` (relative) between iterations.
        pub fn tol(mut self, tol: f64) -> Self {
            self.common.stopping.tol = Some(tol);
            self
        }

        /// Stop after this much wall time (checked after each iteration).
        pub fn max_time(mut self, t: std::time::Duration) -> Self {
            self.common.stopping.max_time = Some(t);
            self
        }

        /// Stop once the mean non-zeros per signal is at most `nnz`.
        pub fn target_nnz(mut self, nnz: f64) -> Self {
            self.common.stopping.target_nnz = Some(nnz);
            self
        }

        /// Seed of every random choice (initialisation, atom order, mini-batches). Default 0.
        pub fn seed(mut self, seed: u64) -> Self {
            self.common.seed = seed;
            self
        }

        /// How the initial dictionary is drawn (ignored by `fit_from`).
        pub fn init(mut self, init: $crate::dictionary::Init) -> Self {
            self.common.init = init;
            self
        }

        /// Replacement of unused and near-duplicate atoms.
        pub fn replacement(mut self, r: $crate::dictionary::Replacement) -> Self {
            self.common.replacement = r;
            self
        }

        /// Code and update on a random subset of this many signals per iteration (DB-KSVD's
        /// mini-batches); the returned codes cover every signal. Default: all signals.
        pub fn signals_per_iter(mut self, n: usize) -> Self {
            self.common.signals_per_iter = Some(n);
            self
        }
    };
}
pub(crate) use common_setters;

/// Parameters shared by every learner.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Common {
    pub(crate) stopping: Stopping,
    pub(crate) seed: u64,
    pub(crate) init: Init,
    pub(crate) replacement: Replacement,
    pub(crate) signals_per_iter: Option<usize>,
}

impl Common {
    pub(crate) fn validate(&self, method: &'static str) -> Result<()> {
        self.stopping.validate(method)?;
        self.replacement.validate(method)?;
        if self.signals_per_iter == Some(0) {
            return Err(invalid(
                method,
                "signals_per_iter",
                0,
                "at least 1 signal per iteration (or unset for all)",
            ));
        }
        Ok(())
    }
}
