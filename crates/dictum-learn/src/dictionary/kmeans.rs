//! k-means and spherical k-means: vector quantization, the 1-sparse dictionary that the Sparse
//! Manifold Transform starts from.
//!
//! Lloyd's algorithm (Lloyd 1982) with k-means++ seeding (Arthur & Vassilvitskii, SODA 2007),
//! or mini-batch updates with per-centre learning rates (Sculley, WWW 2010). The spherical
//! variant (Dhillon & Modha, Machine Learning 2001) clusters directions: centres are unit
//! vectors and a signal goes to the centre of largest cosine similarity.
//!
//! Assignments are computed block by block with one GEMM `Cᵀ·Y` per block, in parallel; sums
//! run in a fixed order, so results do not depend on the thread count.

use dictum_linalg::backend::{Offloaded, Op, Pursuit, PursuitRule, Resident, Trans};
use dictum_linalg::exec::{Cancelled, Exec, IterationStats};
use dictum_linalg::{CscBuilder, Mat, MatRef, Par, Real};
use rayon::prelude::*;

use super::driver::check_signals;
use super::{Learned, SparseModel};
use crate::error::{LearnError, Result, invalid};
use crate::fit::{Fit, Learner, Monitor, Progression, StopReason, Stopping};
use crate::rng::Rng;

/// Signals per assignment block (one GEMM each).
const BLOCK: usize = 1024;

/// How k-means picks its first centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KMeansInit {
    /// k-means++: each next centre drawn with probability proportional to the squared distance
    /// to the nearest centre so far.
    #[default]
    PlusPlus,
    /// Distinct signals chosen uniformly at random.
    Random,
}

/// k-means / spherical k-means parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    n_clusters: usize,
    spherical: bool,
    init: KMeansInit,
    stopping: Stopping,
    batch_size: Option<usize>,
}

/// A fitted clustering (its history is the [`Fit`]'s: one entry per Lloyd iteration or per
/// 10 mini-batches).
#[derive(Debug, Clone)]
pub struct Clustering<T> {
    /// Centres, `d x n_clusters` (unit-norm when spherical).
    pub centers: Mat<T>,
    /// The centre of every signal.
    pub labels: Vec<u32>,
    /// Σ‖y − c‖² (Euclidean) or Σ(1 − cos(y, c)) (spherical) at the final centres.
    pub inertia: f64,
}

impl KMeans {
    /// k-means with `n_clusters` centres: k-means++ seeding, Lloyd iterations (at most 300,
    /// relative inertia change `1e-4`), Euclidean.
    pub fn new(n_clusters: usize) -> Self {
        Self {
            n_clusters,
            spherical: false,
            init: KMeansInit::PlusPlus,
            stopping: Stopping {
                tol: Some(1e-4),
                ..Stopping::iterations(300)
            },
            batch_size: None,
        }
    }

    /// Cluster directions: unit-norm centres, assignment by cosine similarity.
    pub fn spherical(mut self, yes: bool) -> Self {
        self.spherical = yes;
        self
    }

    /// Seeding.
    pub fn init(mut self, init: KMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Lloyd iterations, or mini-batches with [`batch_size`](Self::batch_size).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.stopping.max_iter = n;
        self
    }

    /// Stop when the inertia changes by at most `tol` (relative) between Lloyd iterations.
    pub fn tol(mut self, tol: f64) -> Self {
        self.stopping.tol = Some(tol);
        self
    }

    /// Stop after this much wall time (checked after each iteration).
    pub fn max_time(mut self, t: std::time::Duration) -> Self {
        self.stopping.max_time = Some(t);
        self
    }

    /// Mini-batch k-means with this many signals per step.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = Some(n);
        self
    }

    fn name(&self) -> &'static str {
        if self.spherical {
            "spherical-kmeans"
        } else {
            "kmeans"
        }
    }

    /// Checks the parameters; `fit` calls it.
    pub fn validate(&self) -> Result<()> {
        let m = self.name();
        if self.n_clusters == 0 {
            return Err(invalid(m, "n_clusters", 0, "at least one cluster"));
        }
        self.stopping.validate(m)?;
        if self.batch_size == Some(0) {
            return Err(invalid(
                m,
                "batch_size",
                0,
                "at least 1 signal per mini-batch",
            ));
        }
        Ok(())
    }

    /// Clusters the signals `y` (`d x N`, one per column) from `centers` (`d x n_clusters`)
    /// or by the seeding rule.
    fn run<T: Real>(
        &self,
        y: MatRef<'_, T>,
        centers: Option<MatRef<'_, T>>,
        exec: &Exec<'_>,
    ) -> Result<Fit<Clustering<T>>> {
        self.validate()?;
        let method = self.name();
        check_signals(method, y, exec)?;
        let n = y.ncols();
        let usable = (0..n)
            .filter(|&j| !self.spherical || y.col(j).norm_l2() > T::zero())
            .count();
        if usable < self.n_clusters {
            return Err(LearnError::TooFewSignals {
                method,
                atoms: self.n_clusters,
                signals: usable,
            });
        }
        let mut rng = Rng::new(exec.seed());
        let mut centers = match centers {
            Some(c) => self.given_centers(y.nrows(), c)?,
            None => self.seed_centers(y, &mut rng, exec)?,
        };
        let ynorm2 = if self.spherical {
            n as f64
        } else {
            y.squared_norm_l2().into_f64()
        };
        // Mini-batch k-means runs its steps to the end: its inertia is an estimate.
        let batch_rules = Stopping {
            tol: None,
            ..self.stopping.clone()
        };
        let rules = if self.batch_size.is_some() {
            &batch_rules
        } else {
            &self.stopping
        };
        let mut progress = Progression::new(rules, Monitor::Objective, exec);
        match self.batch_size {
            None => {
                let mut labels: Vec<u32> = Vec::new();
                for iter in 1..=self.stopping.max_iter {
                    let (new_labels, cost) = assign(y, centers.as_ref(), self.spherical, exec)?;
                    let same = new_labels == labels;
                    labels = new_labels;
                    let replaced = self.update(y, &mut centers, &labels, &cost);
                    let inertia: f64 = cost.iter().sum();
                    let stats = stats(iter, inertia, ynorm2, replaced, progress.seconds());
                    let stop = progress.record(stats, false)?;
                    if same {
                        progress.stop_with(StopReason::Converged);
                        break;
                    }
                    if stop {
                        break;
                    }
                }
            }
            Some(b) => {
                let b = b.min(n);
                let mut counts = vec![0.0f64; self.n_clusters];
                let (mut acc, mut seen) = (0.0, 0usize);
                for step in 1..=self.stopping.max_iter {
                    let idx = rng.sample_indices(n, b);
                    let batch = Mat::from_fn(y.nrows(), b, |i, c| y[(i, idx[c])]);
                    let (labels, cost) =
                        assign(batch.as_ref(), centers.as_ref(), self.spherical, exec)?;
                    acc += cost.iter().sum::<f64>();
                    seen += b;
                    for (c, &l) in labels.iter().enumerate() {
                        let l = l as usize;
                        counts[l] += 1.0;
                        let eta = T::cast_f64(1.0 / counts[l]);
                        let col = batch.col(c);
                        let scale = if self.spherical {
                            T::one() / col.norm_l2().max(T::min_positive_value())
                        } else {
                            T::one()
                        };
                        for i in 0..y.nrows() {
                            centers[(i, l)] =
                                centers[(i, l)] + eta * (col[i] * scale - centers[(i, l)]);
                        }
                    }
                    if self.spherical {
                        normalize_centers(&mut centers);
                    }
                    progress.tick();
                    if step % 10 == 0 || step == self.stopping.max_iter {
                        let inertia = acc * n as f64 / seen as f64;
                        let stats = stats(step, inertia, ynorm2, 0, progress.seconds());
                        (acc, seen) = (0.0, 0);
                        if progress.record(stats, true)? {
                            break;
                        }
                    }
                }
            }
        }
        let (labels, cost) = assign(y, centers.as_ref(), self.spherical, exec)?;
        Ok(progress.finish(Clustering {
            centers,
            labels,
            inertia: cost.iter().sum(),
        }))
    }

    /// Initial centres given by the caller: `d x n_clusters`, finite (normalized when
    /// spherical).
    fn given_centers<T: Real>(&self, d: usize, c: MatRef<'_, T>) -> Result<Mat<T>> {
        if c.nrows() != d || c.ncols() != self.n_clusters {
            return Err(LearnError::ShapeMismatch {
                method: self.name(),
                what: "initial centres",
                expected: format!("{d} x {}", self.n_clusters),
                found: format!("{} x {}", c.nrows(), c.ncols()),
            });
        }
        if (0..c.ncols()).any(|j| c.col(j).iter().any(|v| !v.is_finite())) {
            return Err(invalid(
                self.name(),
                "initial centres",
                "a NaN or infinite entry",
                "initial centres must be finite",
            ));
        }
        let mut centers = c.to_owned();
        if self.spherical {
            normalize_centers(&mut centers);
        }
        Ok(centers)
    }

    /// Clusters `y` and returns the clustering as a dictionary: atoms are the normalized
    /// centres and each signal's code is 1-sparse, its projection `⟨d, y⟩` on its atom.
    pub fn fit_dictionary<T: Real>(&self, y: MatRef<'_, T>, exec: &Exec<'_>) -> Result<Learned<T>> {
        let fit = self.run(y, None, exec)?;
        let c = &fit.model;
        let mut dict = c.centers.clone();
        for j in 0..dict.ncols() {
            let nrm = dict.col(j).norm_l2();
            if nrm > T::zero() {
                for i in 0..dict.nrows() {
                    dict[(i, j)] /= nrm;
                }
            } else {
                // A zero centre (all its signals are zero): any unit vector codes them.
                dict[(0, j)] = T::one();
            }
        }
        let mut codes = CscBuilder::with_capacity(dict.ncols(), y.ncols(), y.ncols());
        for (j, &l) in c.labels.iter().enumerate() {
            let d = dict.col(l as usize);
            let v = (0..y.nrows()).fold(T::zero(), |s, i| s + d[i] * y[(i, j)]);
            codes.push_column([(l as usize, v)])?;
        }
        let codes = codes.finish();
        Ok(fit.map(|_| SparseModel {
            dictionary: dict,
            codes,
        }))
    }

    fn seed_centers<T: Real>(
        &self,
        y: MatRef<'_, T>,
        rng: &mut Rng,
        exec: &Exec<'_>,
    ) -> Result<Mat<T>> {
        let (d, n, k) = (y.nrows(), y.ncols(), self.n_clusters);
        let point = |j: usize| -> Vec<T> {
            let col = y.col(j);
            let s = if self.spherical {
                T::one() / col.norm_l2()
            } else {
                T::one()
            };
            (0..d).map(|i| col[i] * s).collect()
        };
        let candidates: Vec<usize> = (0..n)
            .filter(|&j| !self.spherical || y.col(j).norm_l2() > T::zero())
            .collect();
        let mut centers = Mat::<T>::zeros(d, k);
        let put = |centers: &mut Mat<T>, c: usize, v: &[T]| {
            for i in 0..d {
                centers[(i, c)] = v[i];
            }
        };
        match self.init {
            KMeansInit::Random => {
                for (c, &p) in rng.sample_indices(candidates.len(), k).iter().enumerate() {
                    put(&mut centers, c, &point(candidates[p]));
                }
            }
            KMeansInit::PlusPlus => {
                let first = candidates[rng.below(candidates.len())];
                put(&mut centers, 0, &point(first));
                let mut best = vec![f64::INFINITY; n];
                for c in 1..k {
                    let (_, cost) =
                        assign(y, centers.as_ref().subcols(c - 1, 1), self.spherical, exec)?;
                    for (b, &v) in best.iter_mut().zip(&cost) {
                        *b = b.min(v);
                    }
                    let total: f64 = candidates.iter().map(|&j| best[j]).sum();
                    let pick = if total > 0.0 {
                        let mut target = rng.uniform() * total;
                        let mut chosen = *candidates.last().unwrap_or(&0);
                        for &j in &candidates {
                            target -= best[j];
                            if target < 0.0 {
                                chosen = j;
                                break;
                            }
                        }
                        chosen
                    } else {
                        // Every signal sits on a centre already: repeat one (it stays empty).
                        candidates[rng.below(candidates.len())]
                    };
                    put(&mut centers, c, &point(pick));
                }
            }
        }
        Ok(centers)
    }

    /// Lloyd's update: each centre becomes the mean (spherical: the normalized sum of unit
    /// signals) of its signals; an empty cluster takes the signal farthest from its centre.
    fn update<T: Real>(
        &self,
        y: MatRef<'_, T>,
        centers: &mut Mat<T>,
        labels: &[u32],
        cost: &[f64],
    ) -> usize {
        let (d, k) = (y.nrows(), centers.ncols());
        let mut sums = vec![0.0f64; d * k];
        let mut counts = vec![0usize; k];
        for (j, &l) in labels.iter().enumerate() {
            let l = l as usize;
            let col = y.col(j);
            let s = if self.spherical {
                let nrm = col.norm_l2().into_f64();
                if nrm > 0.0 { 1.0 / nrm } else { 0.0 }
            } else {
                1.0
            };
            counts[l] += 1;
            for i in 0..d {
                sums[l * d + i] += col[i].into_f64() * s;
            }
        }
        // Signals farthest from their centres first, for empty clusters; sorted only when a
        // cluster is empty, not on every iteration.
        let mut order: Vec<usize> = Vec::new();
        if counts.contains(&0) {
            order = (0..labels.len()).collect();
            order.sort_by(|&a, &b| {
                cost[b]
                    .partial_cmp(&cost[a])
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.cmp(&b))
            });
        }
        let mut far = order.into_iter();
        let mut replaced = 0;
        for c in 0..k {
            if counts[c] == 0 {
                if let Some(j) = far.next() {
                    let col = y.col(j);
                    let s = if self.spherical {
                        1.0 / col.norm_l2().into_f64().max(f64::MIN_POSITIVE)
                    } else {
                        1.0
                    };
                    for i in 0..d {
                        centers[(i, c)] = T::cast_f64(col[i].into_f64() * s);
                    }
                    replaced += 1;
                }
                continue;
            }
            let inv = 1.0 / counts[c] as f64;
            for i in 0..d {
                centers[(i, c)] = T::cast_f64(sums[c * d + i] * inv);
            }
        }
        if self.spherical {
            normalize_centers(centers);
        }
        replaced
    }
}

fn normalize_centers<T: Real>(centers: &mut Mat<T>) {
    for j in 0..centers.ncols() {
        let nrm = centers.col(j).norm_l2();
        if nrm > T::zero() {
            for i in 0..centers.nrows() {
                centers[(i, j)] /= nrm;
            }
        }
    }
}

fn stats(iter: usize, inertia: f64, ynorm2: f64, replaced: usize, seconds: f64) -> IterationStats {
    let rel = if ynorm2 > 0.0 {
        (inertia / ynorm2).sqrt()
    } else {
        0.0
    };
    IterationStats {
        iter,
        objective: inertia,
        rel_error: rel,
        mean_rel_residual: Some(rel),
        mean_nnz: 1.0,
        replaced,
        seconds,
    }
}

impl<'a, T: Real> Learner<MatRef<'a, T>> for KMeans {
    type Start = MatRef<'a, T>;
    type Model = Clustering<T>;

    /// Clusters the signals `y` (`d x N`, one per column), from the centres `c0`
    /// (`d x n_clusters`) or by the seeding rule.
    fn fit_from(
        &self,
        y: MatRef<'a, T>,
        c0: Option<MatRef<'a, T>>,
        exec: &Exec<'_>,
    ) -> Result<Fit<Clustering<T>>> {
        self.run(y, c0, exec)
    }
}

/// The nearest centre of every signal and its cost: `‖y − c‖²`, or `1 − cos(y, c)` when
/// `spherical` (centres unit-norm). Ties go to the lower index.
pub(crate) fn assign<T: Real>(
    y: MatRef<'_, T>,
    centers: MatRef<'_, T>,
    spherical: bool,
    exec: &Exec<'_>,
) -> Result<(Vec<u32>, Vec<f64>)> {
    let inner = exec.with_par(Par::Seq);
    let centers = exec.resident(centers);
    let n = y.ncols();
    let k = centers.view().ncols();
    let half_norm2: Vec<f64> = (0..k)
        .map(|c| 0.5 * centers.view().col(c).squared_norm_l2().into_f64())
        .collect();
    if let Some(found) = assign_on_device(y, &centers, &half_norm2, spherical, exec)? {
        return Ok(found);
    }
    let mut labels = vec![0u32; n];
    let mut cost = vec![0.0f64; n];
    let work = |(b, (lab, cst)): (usize, (&mut [u32], &mut [f64]))| -> Result<()> {
        let first = b * BLOCK;
        let block = y.subcols(first, lab.len());
        let g = inner.product(&centers, Trans::Yes, block, Trans::No)?;
        for c in 0..lab.len() {
            let y2 = block.col(c).squared_norm_l2().into_f64();
            let (mut best, mut arg) = (f64::NEG_INFINITY, 0usize);
            for j in 0..k {
                let v = g[(j, c)].into_f64() - if spherical { 0.0 } else { half_norm2[j] };
                if v > best {
                    best = v;
                    arg = j;
                }
            }
            lab[c] = arg as u32;
            cst[c] = cost_at(y2, best, spherical);
        }
        Ok(())
    };
    let chunks = labels
        .chunks_mut(BLOCK)
        .zip(cost.chunks_mut(BLOCK))
        .enumerate();
    match exec.par() {
        Par::Seq => chunks.map(work).collect::<Result<Vec<()>>>()?,
        Par::Rayon(_) => labels
            .par_chunks_mut(BLOCK)
            .zip(cost.par_chunks_mut(BLOCK))
            .enumerate()
            .map(work)
            .collect::<Result<Vec<()>>>()?,
    };
    Ok((labels, cost))
}

/// A signal's cost at its centre from `‖y‖²` and the best score `cᵀy − ½‖c‖²` (or `cᵀy`
/// for spherical k-means): `‖y − c‖²`, or `1 − cos(y, c)`.
fn cost_at(y2: f64, best: f64, spherical: bool) -> f64 {
    if !spherical {
        (y2 - 2.0 * best).max(0.0)
    } else if y2 > 0.0 {
        (1.0 - best / y2.sqrt()).max(0.0)
    } else {
        0.0
    }
}

/// [`assign`] on a backend that runs the fused pursuit (a GPU), with its nearest-centre rule:
/// `Cᵀ·Y` and the argmax of every column on the device, only the labels and best values
/// back. `None` when the CPU is to assign (the observer was told why).
fn assign_on_device<T: Real>(
    y: MatRef<'_, T>,
    centers: &Resident<'_, T>,
    half_norm2: &[f64],
    spherical: bool,
    exec: &Exec<'_>,
) -> Result<Option<(Vec<u32>, Vec<f64>)>> {
    if !exec.offers::<T>(Op::Pursuit) {
        return Ok(None);
    }
    let offsets: Vec<T> = half_norm2
        .iter()
        .map(|&h| if spherical { T::zero() } else { T::cast_f64(h) })
        .collect();
    let job = Pursuit {
        atoms: centers.into(),
        gram: None,
        signals: y,
        max_atoms: 1,
        tol: None,
        rule: PursuitRule::Nearest,
        offsets: Some(&offsets),
    };
    let codes = match exec.pursuit(&job)? {
        Offloaded::Done(codes) => codes,
        Offloaded::OnCpu => return Ok(None),
        Offloaded::Cancelled => return Err(Cancelled.into()),
    };
    let found = exec.map(y.ncols(), BLOCK, |c| {
        let (atom, best) = codes.code(c);
        let best = best.first().map_or(f64::NEG_INFINITY, |b| b.into_f64());
        let y2 = y.col(c).squared_norm_l2().into_f64();
        (
            atom.first().copied().unwrap_or(0),
            cost_at(y2, best, spherical),
        )
    });
    Ok(Some(found.into_iter().unzip()))
}
