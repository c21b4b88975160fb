//! Reading a decomposition: each component's top examples, their label purity, and the
//! perturbation check of Matena & Raffel (§4): nudging the parameters a component stands for
//! should change the predictions on that component's top examples far more than on others.
//!
//! The perturbation follows the reference's form. With `h` the component's importance per
//! parameter (`H_j` for D-NPEFF, `g_j²` for LRM-NPEFF) and `d` the dataset-level Fisher
//! diagonal, both scaled to unit norm, and `s` the sign of the loss gradient summed over the
//! top examples, parameter `k` moves to
//! `θ_k − δ·s_k·λh_k / ((1 − λ)·max(d_k, floor) + λh_k)`: far where the component matters
//! more than the dataset as a whole, hardly at all elsewhere. `δ` is found by bisection (in
//! `log δ`) so that the mean KL divergence of the top examples' predictions reaches
//! `target_kl`; the result reports it next to the KL of random examples.

use dictum_linalg::MatRef;
use dictum_linalg::exec::Exec;

use super::classifier::{Classifier, check_labels};
use crate::error::{LearnError, Result, invalid};
use crate::rng::Rng;

const METHOD: &str = "npeff-analysis";

/// The `k` examples with the largest coefficient on `component` (`w` is
/// `[n_examples, n_components]` row-major), largest first; ties by index. Examples with a
/// zero coefficient are left out.
pub fn top_examples(w: &[f32], n_components: usize, component: usize, k: usize) -> Vec<usize> {
    if n_components == 0 || component >= n_components {
        return Vec::new();
    }
    let n = w.len() / n_components;
    let mut idx: Vec<usize> = (0..n)
        .filter(|&i| w[i * n_components + component] > 0.0)
        .collect();
    idx.sort_by(|&a, &b| {
        w[b * n_components + component]
            .total_cmp(&w[a * n_components + component])
            .then(a.cmp(&b))
    });
    idx.truncate(k);
    idx
}

/// The most common label among `examples` and its share (ties: the smaller label); `None`
/// for no examples.
pub fn label_purity(examples: &[usize], labels: &[i32]) -> Option<(i32, f64)> {
    if examples.is_empty() {
        return None;
    }
    let mut counts = std::collections::BTreeMap::new();
    for &i in examples {
        *counts.entry(labels[i]).or_insert(0usize) += 1;
    }
    let (label, count) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(l, c)| (*l, *c))?;
    Some((label, count as f64 / examples.len() as f64))
}

/// The perturbation check's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PerturbationCheck {
    n_baseline: usize,
    lambda: f64,
    target_kl: f64,
    fisher_floor: f64,
    max_bisections: usize,
}

/// What the check found for one component.
#[derive(Debug, Clone, PartialEq)]
pub struct PerturbationResult {
    /// The step `δ` reached.
    pub delta: f64,
    /// Mean KL divergence of the top examples' predictions.
    pub kl_top: f64,
    /// Mean KL divergence of the random baseline examples' predictions.
    pub kl_baseline: f64,
    /// `kl_top / kl_baseline` (infinite when the baseline did not move).
    pub ratio: f64,
    /// Accuracy of the perturbed model on the top examples (their labels).
    pub accuracy_top: f64,
    /// Accuracy of the perturbed model on the baseline examples.
    pub accuracy_baseline: f64,
}

impl Default for PerturbationCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl PerturbationCheck {
    /// 256 random baseline examples, `λ = 0.5`, target KL 0.1, floor `1e-6`, 40 bisections.
    pub fn new() -> Self {
        Self {
            n_baseline: 256,
            lambda: 0.5,
            target_kl: 0.1,
            fisher_floor: 1e-6,
            max_bisections: 40,
        }
    }

    /// Random examples the top examples are compared with.
    pub fn n_baseline(mut self, n: usize) -> Self {
        self.n_baseline = n;
        self
    }

    /// Weight of the component against the dataset Fisher, in `(0, 1)`.
    pub fn lambda(mut self, l: f64) -> Self {
        self.lambda = l;
        self
    }

    /// Mean KL divergence the top examples should reach.
    pub fn target_kl(mut self, kl: f64) -> Self {
        self.target_kl = kl;
        self
    }

    /// Smallest dataset-Fisher value used (keeps the weights finite).
    pub fn fisher_floor(mut self, f: f64) -> Self {
        self.fisher_floor = f;
        self
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(self.lambda > 0.0 && self.lambda < 1.0) {
            return Err(invalid(METHOD, "lambda", self.lambda, "a number in (0, 1)"));
        }
        if !(self.target_kl > 0.0 && self.target_kl.is_finite()) {
            return Err(invalid(
                METHOD,
                "target_kl",
                self.target_kl,
                "a positive number",
            ));
        }
        if !(self.fisher_floor > 0.0 && self.fisher_floor.is_finite()) {
            return Err(invalid(
                METHOD,
                "fisher_floor",
                self.fisher_floor,
                "a positive number",
            ));
        }
        if self.n_baseline == 0 {
            return Err(invalid(METHOD, "n_baseline", 0, "at least 1"));
        }
        Ok(())
    }

    /// Runs the check for one component: `importance` (≥ 0, one entry per model parameter),
    /// the dataset Fisher diagonal `dsf`, the component's `top` examples, all examples `x`
    /// (`inputs x N`) and their `labels`; the baseline sample comes from the context's seed.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        model: &Classifier,
        x: MatRef<'_, f64>,
        labels: &[usize],
        importance: &[f64],
        dsf: &[f64],
        top: &[usize],
        exec: &Exec<'_>,
    ) -> Result<PerturbationResult> {
        self.validate()?;
        model.check_inputs(x)?;
        check_labels(labels, x.ncols(), model.n_classes())?;
        let np = model.n_parameters();
        for (what, v) in [
            ("importance", importance.len()),
            ("dataset Fisher", dsf.len()),
        ] {
            if v != np {
                return Err(LearnError::ShapeMismatch {
                    method: METHOD,
                    what,
                    expected: format!("{np} (one per model parameter)"),
                    found: v.to_string(),
                });
            }
        }
        if top.is_empty() || top.iter().any(|&i| i >= x.ncols()) {
            return Err(invalid(
                METHOD,
                "top examples",
                top.len(),
                "a non-empty list of example indices below N",
            ));
        }
        let unit = |v: &[f64]| {
            let n = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            if n > 0.0 {
                v.iter().map(|a| a.max(0.0) / n).collect::<Vec<_>>()
            } else {
                vec![0.0; v.len()]
            }
        };
        let (h, d) = (unit(importance), unit(dsf));
        if h.iter().all(|&v| v == 0.0) {
            return Err(invalid(
                METHOD,
                "importance",
                "all zero",
                "the component must weigh some parameter",
            ));
        }
        let cols: Vec<Vec<f64>> = (0..x.ncols())
            .map(|j| x.col(j).iter().copied().collect())
            .collect();
        // s = sign(Σ_top ∇ loss).
        let mut pass = model.pass();
        let mut sum = vec![0.0; np];
        let mut g = vec![0.0; np];
        let mut e = vec![0.0; model.n_classes()];
        for &i in top {
            model.forward(&cols[i], &mut pass);
            let p = model.probs(&pass);
            for (k, ek) in e.iter_mut().enumerate() {
                *ek = p[k] - f64::from(u8::from(k == labels[i]));
            }
            model.backward(&cols[i], &e, &mut pass, &mut g);
            for (s, v) in sum.iter_mut().zip(&g) {
                *s += v;
            }
        }
        // The step moves against the loss-decreasing direction: it raises the top examples'
        // loss, as ablating the mechanism they rely on would.
        let lam = self.lambda;
        let step: Vec<f64> = (0..np)
            .map(|k| {
                let w2 = lam * h[k];
                let w1 = (1.0 - lam) * d[k].max(self.fisher_floor);
                sum[k].signum() * w2 / (w1 + w2)
            })
            .collect();
        let mut rng = Rng::new(exec.seed());
        let baseline: Vec<usize> = if self.n_baseline >= x.ncols() {
            (0..x.ncols()).collect()
        } else {
            let mut b = rng.sample_indices(x.ncols(), self.n_baseline);
            b.sort_unstable();
            b
        };
        let base_probs: Vec<Vec<f64>> = cols
            .iter()
            .map(|c| {
                model.forward(c, &mut pass);
                model.probs(&pass).to_vec()
            })
            .collect();
        let eval = |delta: f64, set: &[usize]| -> (f64, f64) {
            let scaled: Vec<f64> = step.iter().map(|s| delta * s).collect();
            let m = model.perturbed(&scaled);
            let mut pass = m.pass();
            let (mut kl, mut hits) = (0.0, 0usize);
            for &i in set {
                m.forward(&cols[i], &mut pass);
                let q = m.probs(&pass);
                kl += base_probs[i]
                    .iter()
                    .zip(q)
                    .filter(|(p, _)| **p > 0.0)
                    .map(|(p, q)| p * (p / q.max(1e-300)).ln())
                    .sum::<f64>();
                hits += usize::from(super::classifier::argmax(q) == labels[i]);
            }
            (kl / set.len() as f64, hits as f64 / set.len() as f64)
        };
        // Bracket δ, then bisect in log δ.
        let (mut lo, mut hi) = (0.0f64, 1e-3f64);
        let mut tries = 0;
        while eval(hi, top).0 < self.target_kl && tries < 60 {
            lo = hi;
            hi *= 2.0;
            tries += 1;
        }
        for _ in 0..self.max_bisections {
            let mid = if lo > 0.0 { (lo * hi).sqrt() } else { hi / 2.0 };
            if eval(mid, top).0 < self.target_kl {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let delta = hi;
        let (kl_top, accuracy_top) = eval(delta, top);
        let (kl_baseline, accuracy_baseline) = eval(delta, &baseline);
        Ok(PerturbationResult {
            delta,
            kl_top,
            kl_baseline,
            ratio: if kl_baseline > 0.0 {
                kl_top / kl_baseline
            } else {
                f64::INFINITY
            },
            accuracy_top,
            accuracy_baseline,
        })
    }
}
