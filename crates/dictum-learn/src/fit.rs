//! The shape every learner shares: [`Learner`] (fit from data, optionally from a start),
//! [`Fit`] (the model, one [`IterationStats`] per iteration, why it stopped), [`Stopping`]
//! (one set of stopping rules) and the loop bookkeeping that reports each iteration to the
//! execution context's observer, which may cancel.

use std::time::{Duration, Instant};

use dictum_linalg::exec::{Exec, IterationStats};

use crate::error::{Result, invalid};

/// A learner: parameters that fit a model to data of type `D` (signals `MatRef<T>` for
/// dictionary learning, `NmfData` for NMF, PEFs for NPEFF) under an
/// execution context.
///
/// ```
/// use dictum_coding::Omp;
/// use dictum_learn::{Learner, dictionary::Ksvd};
/// use dictum_linalg::{Exec, Mat};
/// let y = Mat::<f64>::from_fn(8, 200, |i, j| if (i + j) % 2 == 0 { 1.0 + j as f64 * 0.01 } else { 0.0 });
/// let ksvd = Ksvd::new(4, Omp::new().n_nonzero_coefs(1).check()?).max_iter(5);
/// let fit = ksvd.fit(y.as_ref(), &Exec::default().with_seed(7))?;
/// assert!(fit.history.last().unwrap().rel_error < 1e-6);
/// assert_eq!(fit.dictionary.ncols(), 4); // the model's fields, through `Fit`
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Learner<D> {
    /// What a fit may start from instead of the learner's own initialisation (an initial
    /// dictionary, initial factors).
    type Start;
    /// What the learner learns.
    type Model;

    /// Fits to `data`, from `start` when given. Parameters are checked first; random choices
    /// come from the context's seed; every iteration is reported to its observer.
    fn fit_from(
        &self,
        data: D,
        start: Option<Self::Start>,
        exec: &Exec<'_>,
    ) -> Result<Fit<Self::Model>>;

    /// Fits to `data` from the learner's own initialisation.
    fn fit(&self, data: D, exec: &Exec<'_>) -> Result<Fit<Self::Model>> {
        self.fit_from(data, None, exec)
    }
}

/// Why a learner stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// It ran `max_iter` iterations.
    MaxIter,
    /// The time budget ran out.
    MaxTime,
    /// The monitored value (relative error, or the objective) changed by less than `tol`.
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

    /// The reason [`name`](Self::name) names, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::MaxIter,
            Self::MaxTime,
            Self::Converged,
            Self::NnzTarget,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

/// A fitted model with its history: what every learner returns. It dereferences to the
/// model, so `fit.dictionary` reads the model's field.
#[derive(Debug, Clone)]
pub struct Fit<M> {
    /// The learned model.
    pub model: M,
    /// One entry per iteration (per report, for learners that stream mini-batches).
    pub history: Vec<IterationStats>,
    /// Iterations run (mini-batches for streaming learners; scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// Why the loop ended.
    pub stop: StopReason,
}

impl<M> Fit<M> {
    /// The same history around another model (a conversion of this one).
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Fit<N> {
        Fit {
            model: f(self.model),
            history: self.history,
            n_iter: self.n_iter,
            stop: self.stop,
        }
    }

    /// Moves the model out, dropping the history.
    pub fn into_model(self) -> M {
        self.model
    }
}

impl<M> std::ops::Deref for Fit<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.model
    }
}

/// When a learner stops: after `max_iter` iterations, when its monitored value (the relative
/// error, or the objective for NMF and k-means) changes by at most `tol` (relative) between
/// two iterations, after `max_time`, or when the mean non-zeros per signal fall to
/// `target_nnz` (with error-constrained coding), whichever comes first.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopping {
    /// Iterations at most.
    pub max_iter: usize,
    /// Relative change of the monitored value at which the fit has converged (unset: never).
    pub tol: Option<f64>,
    /// Wall-time budget, checked after each iteration (unset: none).
    pub max_time: Option<Duration>,
    /// Mean non-zeros per signal at which to stop (unset: never).
    pub target_nnz: Option<f64>,
}

impl Stopping {
    /// `max_iter` iterations and no other rule.
    pub fn iterations(max_iter: usize) -> Self {
        Self {
            max_iter,
            tol: None,
            max_time: None,
            target_nnz: None,
        }
    }

    /// Checks the rules.
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
        if let Some(t) = self.max_time
            && t.is_zero()
        {
            return Err(invalid(
                method,
                "max_time",
                "0 s",
                "a positive time budget (or unset)",
            ));
        }
        Ok(())
    }

    /// Whether to stop after an iteration that measured `monitored` (and `mean_nnz`), the
    /// previous iteration having measured `previous`, `elapsed` into the fit. Reaching
    /// `max_iter` is the loop's own end, not decided here.
    pub(crate) fn after(
        &self,
        monitored: f64,
        previous: Option<f64>,
        mean_nnz: f64,
        elapsed: Duration,
    ) -> Option<StopReason> {
        if self.target_nnz.is_some_and(|t| mean_nnz <= t) {
            return Some(StopReason::NnzTarget);
        }
        if let (Some(tol), Some(p)) = (self.tol, previous)
            && (p - monitored).abs() <= tol * p.abs().max(f64::MIN_POSITIVE)
        {
            return Some(StopReason::Converged);
        }
        if self.max_time.is_some_and(|t| elapsed >= t) {
            return Some(StopReason::MaxTime);
        }
        None
    }
}

/// What the loop of a learner monitors for [`Stopping::tol`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Monitor {
    /// The relative error (dictionary learning).
    RelError,
    /// The objective (NMF, k-means, NPEFF).
    Objective,
}

/// The bookkeeping of a learner's loop: the clock, the history, the stopping rules and the
/// report of every iteration to the context's observer (a checkpoint where it may cancel).
pub(crate) struct Progression<'s, 'e> {
    exec: Exec<'e>,
    start: Instant,
    stopping: &'s Stopping,
    monitor: Monitor,
    history: Vec<IterationStats>,
    n_iter: usize,
    stop: StopReason,
    previous: Option<f64>,
}

impl<'s, 'e> Progression<'s, 'e> {
    /// A loop governed by `stopping`, monitoring `monitor`, reporting to `exec`.
    pub(crate) fn new(stopping: &'s Stopping, monitor: Monitor, exec: &Exec<'e>) -> Self {
        Self {
            exec: *exec,
            start: Instant::now(),
            stopping,
            monitor,
            history: Vec::new(),
            n_iter: 0,
            stop: StopReason::MaxIter,
            previous: None,
        }
    }

    /// Seconds since the loop began.
    pub(crate) fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Counts one iteration that is not reported on its own (a mini-batch between reports).
    pub(crate) fn tick(&mut self) {
        self.n_iter += 1;
    }

    /// Records an iteration (counted by [`tick`](Self::tick) or not), reports it, and says
    /// whether to stop. Cancellation by the observer is an error.
    pub(crate) fn record(&mut self, stats: IterationStats, counted: bool) -> Result<bool> {
        if !counted {
            self.n_iter += 1;
        }
        let reported = self.exec.iteration(&stats);
        let monitored = match self.monitor {
            Monitor::RelError => stats.rel_error,
            Monitor::Objective => stats.objective,
        };
        let stop = self.stopping.after(
            monitored,
            self.previous,
            stats.mean_nnz,
            self.start.elapsed(),
        );
        self.previous = Some(monitored);
        self.history.push(stats);
        reported?;
        match stop {
            Some(reason) => {
                self.stop = reason;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Ends the loop now for `reason` (a rule of the learner's own, such as k-means' stable
    /// assignment).
    pub(crate) fn stop_with(&mut self, reason: StopReason) {
        self.stop = reason;
    }

    /// The fit of `model`.
    pub(crate) fn finish<M>(self, model: M) -> Fit<M> {
        Fit {
            model,
            history: self.history,
            n_iter: self.n_iter,
            stop: self.stop,
        }
    }
}
