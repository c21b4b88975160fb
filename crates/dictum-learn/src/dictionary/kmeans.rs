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

use std::time::Instant;

use dictum_linalg::{CscBuilder, Mat, MatRef, Par, Real, gemm};
use rayon::prelude::*;

use super::driver::check_signals;
use super::{IterationStats, LearnOptions, Learned, StopReason};
use crate::error::{LearnError, Result, invalid};
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
    max_iter: usize,
    tol: f64,
    batch_size: Option<usize>,
    seed: u64,
}

/// A fitted clustering.
#[derive(Debug, Clone)]
pub struct Clustering<T> {
    /// Centres, `d x n_clusters` (unit-norm when spherical).
    pub centers: Mat<T>,
    /// The centre of every signal.
    pub labels: Vec<u32>,
    /// Σ‖y − c‖² (Euclidean) or Σ(1 − cos(y, c)) (spherical) at the final centres.
    pub inertia: f64,
    /// One entry per iteration (Lloyd) or per 10 mini-batches.
    pub history: Vec<IterationStats>,
    /// Why it stopped.
    pub stop: StopReason,
}

impl KMeans {
    /// k-means with `n_clusters` centres: k-means++ seeding, Lloyd iterations (at most 300,
    /// relative inertia change `1e-4`), Euclidean, seed 0.
    pub fn new(n_clusters: usize) -> Self {
        Self {
            n_clusters,
            spherical: false,
            init: KMeansInit::PlusPlus,
            max_iter: 300,
            tol: 1e-4,
            batch_size: None,
            seed: 0,
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
        self.max_iter = n;
        self
    }

    /// Stop when the inertia changes by at most `tol` (relative) between iterations.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Mini-batch k-means with this many signals per step.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = Some(n);
        self
    }

    /// Seed of the seeding and of the mini-batches.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
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
        if self.max_iter == 0 {
            return Err(invalid(m, "max_iter", 0, "at least 1"));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(invalid(m, "tol", self.tol, "a finite number ≥ 0"));
        }
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

    /// Clusters the signals `y` (`d x N`, one per column).
    pub fn fit<T: Real>(&self, y: MatRef<'_, T>, opts: &LearnOptions<'_>) -> Result<Clustering<T>> {
        self.validate()?;
        let method = self.name();
        check_signals(method, y)?;
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
        let start = Instant::now();
        let par = opts.par();
        let mut rng = Rng::new(self.seed);
        let mut centers = self.seed_centers(y, &mut rng, par)?;
        let ynorm2 = if self.spherical {
            n as f64
        } else {
            y.squared_norm_l2().into_f64()
        };
        let mut history = Vec::new();
        let mut stop = StopReason::MaxIter;
        let mut prev: Option<f64> = None;
        match self.batch_size {
            None => {
                let mut labels: Vec<u32> = Vec::new();
                for iter in 1..=self.max_iter {
                    let (new_labels, cost) = assign(y, centers.as_ref(), self.spherical, par)?;
                    let same = new_labels == labels;
                    labels = new_labels;
                    let replaced = self.update(y, &mut centers, &labels, &cost);
                    let inertia: f64 = cost.iter().sum();
                    let stats = stats(iter, inertia, ynorm2, replaced, start);
                    opts.report(&stats);
                    history.push(stats);
                    if same {
                        stop = StopReason::Converged;
                        break;
                    }
                    if let Some(p) = prev
                        && (p - inertia).abs() <= self.tol * p
                    {
                        stop = StopReason::Converged;
                        break;
                    }
                    prev = Some(inertia);
                }
            }
            Some(b) => {
                let b = b.min(n);
                let mut counts = vec![0.0f64; self.n_clusters];
                let (mut acc, mut seen) = (0.0, 0usize);
                for step in 1..=self.max_iter {
                    let idx = rng.sample_indices(n, b);
                    let batch = Mat::from_fn(y.nrows(), b, |i, c| y[(i, idx[c])]);
                    let (labels, cost) =
                        assign(batch.as_ref(), centers.as_ref(), self.spherical, par)?;
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
                    if step % 10 == 0 || step == self.max_iter {
                        let stats = stats(step, acc * n as f64 / seen as f64, ynorm2, 0, start);
                        opts.report(&stats);
                        history.push(stats);
                        (acc, seen) = (0.0, 0);
                    }
                }
            }
        }
        let (labels, cost) = assign(y, centers.as_ref(), self.spherical, par)?;
        Ok(Clustering {
            centers,
            labels,
            inertia: cost.iter().sum(),
            history,
            stop,
        })
    }

    /// Clusters `y` and returns the clustering as a dictionary: atoms are the normalized
    /// centres and each signal's code is 1-sparse, its projection `⟨d, y⟩` on its atom.
    pub fn fit_dictionary<T: Real>(
        &self,
        y: MatRef<'_, T>,
        opts: &LearnOptions<'_>,
    ) -> Result<Learned<T>> {
        let c = self.fit(y, opts)?;
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
        Ok(Learned {
            dictionary: dict,
            codes: codes.finish(),
            history: c.history,
            stop: c.stop,
        })
    }

    fn seed_centers<T: Real>(&self, y: MatRef<'_, T>, rng: &mut Rng, par: Par) -> Result<Mat<T>> {
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
                        assign(y, centers.as_ref().subcols(c - 1, 1), self.spherical, par)?;
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

fn stats(
    iter: usize,
    inertia: f64,
    ynorm2: f64,
    replaced: usize,
    start: Instant,
) -> IterationStats {
    let rel = if ynorm2 > 0.0 {
        (inertia / ynorm2).sqrt()
    } else {
        0.0
    };
    IterationStats {
        iter,
        rel_error: rel,
        mean_rel_residual: rel,
        mean_nnz: 1.0,
        replaced,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The nearest centre of every signal and its cost: `‖y − c‖²`, or `1 − cos(y, c)` when
/// `spherical` (centres unit-norm). Ties go to the lower index.
pub(crate) fn assign<T: Real>(
    y: MatRef<'_, T>,
    centers: MatRef<'_, T>,
    spherical: bool,
    par: Par,
) -> Result<(Vec<u32>, Vec<f64>)> {
    let n = y.ncols();
    let k = centers.ncols();
    let half_norm2: Vec<f64> = (0..k)
        .map(|c| 0.5 * centers.col(c).squared_norm_l2().into_f64())
        .collect();
    let mut labels = vec![0u32; n];
    let mut cost = vec![0.0f64; n];
    let work = |(b, (lab, cst)): (usize, (&mut [u32], &mut [f64]))| -> Result<()> {
        let first = b * BLOCK;
        let block = y.subcols(first, lab.len());
        let g = gemm::gemm_tn(centers, block, Par::Seq)?;
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
            cst[c] = if spherical {
                if y2 > 0.0 {
                    (1.0 - best / y2.sqrt()).max(0.0)
                } else {
                    0.0
                }
            } else {
                (y2 - 2.0 * best).max(0.0)
            };
        }
        Ok(())
    };
    let chunks = labels
        .chunks_mut(BLOCK)
        .zip(cost.chunks_mut(BLOCK))
        .enumerate();
    match par {
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
