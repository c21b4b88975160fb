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
//! [`Matryoshka`](dictum_coding::Matryoshka) (in `dictum-coding`) is a coding step for any
//! learner: nested atom groups, each stage coding the residual over a growing prefix of the
//! atoms (DB-KSVD's Matryoshka loop).
//!
//! Every learner is a [`Learner`](crate::Learner) and shares the machinery here: the initial
//! dictionary ([`Init`]), replacement of unused and near-duplicate atoms ([`Replacement`]),
//! stopping rules ([`Stopping`]), the per-iteration
//! [`IterationStats`] reported to the execution context's observer,
//! and the result [`Learned`] (a [`Fit`] of a [`SparseModel`]). Signals are checked
//! once per fit; the dictionary a learner changes is checked atom by atom as it changes. The
//! same seed gives the same dictionary, whatever the thread count.
//!
//! ```
//! use dictum_coding::Omp;
//! use dictum_learn::{Learner, dictionary::Ksvd};
//! use dictum_linalg::{Exec, Mat};
//!
//! // 200 signals of dimension 8, each a multiple of one of two directions.
//! let y = Mat::<f64>::from_fn(8, 200, |i, j| if (i + j) % 2 == 0 { 1.0 + j as f64 * 0.01 } else { 0.0 });
//! let ksvd = Ksvd::new(4, Omp::new().n_nonzero_coefs(1).check()?).max_iter(5);
//! let learned = ksvd.fit(y.as_ref(), &Exec::default().with_seed(7))?;
//! assert!(learned.history.last().unwrap().rel_error < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Encoder`]: dictum_coding::Encoder

mod amortized;
mod atom;
mod driver;
mod init;
mod kmeans;
mod ksvd;
mod online;
mod optimal_directions;
mod replace;
mod task_driven;

use dictum_linalg::{CscMatrix, Mat};

pub use amortized::{Amortized, AmortizedGradient, AmortizedModel};
pub use atom::AtomUpdate;
pub use init::{Init, initial_dictionary};
pub use kmeans::{Clustering, KMeans, KMeansInit};
pub use ksvd::{DEVICE_POWER_STEPS, Ksvd, ResidualMode};
pub use online::{Forgetting, Online, OnlineState, StepReport};
pub use optimal_directions::Mod;
pub use replace::Replacement;
pub use task_driven::{Supervised, TaskDriven, TaskDrivenModel, TaskGradient, TaskLoss};

pub use crate::fit::{Fit, StopReason, Stopping};
pub use dictum_linalg::exec::IterationStats;

use crate::error::{Result, invalid};

/// A learned dictionary and the codes of the signals it was learned from.
#[derive(Debug, Clone)]
pub struct SparseModel<T> {
    /// The dictionary, `d x m`, unit-norm columns.
    pub dictionary: Mat<T>,
    /// The codes of every signal over `dictionary`, `m x N`.
    pub codes: CscMatrix<T>,
}

/// What a dictionary learner returns: the [`SparseModel`] with its history.
pub type Learned<T> = Fit<SparseModel<T>>;

/// The setters every learner shares: stopping rules, initialisation and replacement.
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

        /// How the initial dictionary is drawn (when the fit is not given one).
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

        /// The stopping rules.
        pub fn stopping(&self) -> &$crate::Stopping {
            &self.common.stopping
        }
    };
}
pub(crate) use common_setters;

/// Parameters shared by every learner.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Common {
    pub(crate) stopping: Stopping,
    pub(crate) init: Init,
    pub(crate) replacement: Replacement,
    pub(crate) signals_per_iter: Option<usize>,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            stopping: Stopping::iterations(50),
            init: Init::default(),
            replacement: Replacement::default(),
            signals_per_iter: None,
        }
    }
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
