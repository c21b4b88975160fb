//! Per-example Fisher information (PEFs) of a [`Classifier`], and the dataset-level diagonal.
//!
//! For an example `x` with class probabilities `p_c` and `g_c = ∇_θ log p(c|x)`:
//! - the diagonal PEF (D-PEF) is `f = Σ_c p_c·g_c²` (entrywise), kept as its `n_values`
//!   largest entries and its dense norm `‖f‖₂`;
//! - the low-rank PEF (LRM-PEF) is `F = S·Sᵀ` with columns `s_c = √p_c·g_c` (optionally only
//!   the `top_k_classes` most likely classes, most likely first), kept as the `n_values`
//!   entries of `S` largest in magnitude and the norm `‖F‖_F = ‖SᵀS‖_F`.
//!
//! Examples are independent: they are computed in parallel under the context's threads and
//! come out in input order, the same for any thread count.

use dictum_linalg::MatRef;
use dictum_linalg::exec::Exec;

use super::classifier::{Classifier, check_labels};
use super::data::{DPefs, LrmPefs, Predictions};
use crate::error::{Result, invalid};

const CHUNK: usize = 32;

/// One example's kept entries `(index, value)`, its dense norm and its logits.
type SparseRow = (Vec<(usize, f64)>, f64, Vec<f64>);

/// A [`SparseRow`] and the example's rank.
type LrmRow = (Vec<(usize, f64)>, f64, Vec<f64>, usize);

/// Computes diagonal PEFs.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalPefParams {
    n_values: usize,
}

/// Computes low-rank PEFs.
#[derive(Debug, Clone, PartialEq)]
pub struct LowRankPefParams {
    n_values: usize,
    top_k_classes: Option<usize>,
    min_class_probability: Option<f64>,
}

/// The `k` largest `key(v)` of `v` as `(index, value)`, by index.
fn top_k(v: &[f64], k: usize, key: impl Fn(f64) -> f64) -> Vec<(usize, f64)> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    let cmp = |a: &usize, b: &usize| key(v[*b]).total_cmp(&key(v[*a])).then(a.cmp(b));
    if k < idx.len() {
        idx.select_nth_unstable_by(k, cmp);
        idx.truncate(k);
    }
    idx.sort_unstable();
    idx.into_iter().map(|i| (i, v[i])).collect()
}

/// Per-example work shared by both kinds: probabilities and the per-class gradients.
struct ClassGrads {
    probs: Vec<f64>,
    logits: Vec<f64>,
    /// `classes x n_parameters`, row `c` = `∇_θ log p(c|x)`.
    grads: Vec<f64>,
}

fn class_grads(model: &Classifier, x: &[f64], classes: &[usize]) -> ClassGrads {
    let (c, np) = (model.n_classes(), model.n_parameters());
    let mut pass = model.pass();
    model.forward(x, &mut pass);
    let probs = model.probs(&pass).to_vec();
    let logits = model.logits(&pass).to_vec();
    let mut grads = vec![0.0; classes.len() * np];
    let mut e = vec![0.0; c];
    for (row, &k) in classes.iter().enumerate() {
        for (j, ej) in e.iter_mut().enumerate() {
            *ej = f64::from(u8::from(j == k)) - probs[j];
        }
        model.backward(x, &e, &mut pass, &mut grads[row * np..(row + 1) * np]);
    }
    ClassGrads {
        probs,
        logits,
        grads,
    }
}

fn column(x: MatRef<'_, f64>, j: usize) -> Vec<f64> {
    x.col(j).iter().copied().collect()
}

/// The dense D-PEF `Σ_c p_c·g_c²` of one example.
fn dense_d_pef(model: &Classifier, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let all: Vec<usize> = (0..model.n_classes()).collect();
    let g = class_grads(model, x, &all);
    let np = model.n_parameters();
    let mut f = vec![0.0; np];
    for (c, &p) in g.probs.iter().enumerate() {
        for (fi, &gi) in f.iter_mut().zip(&g.grads[c * np..(c + 1) * np]) {
            *fi += p * gi * gi;
        }
    }
    (f, g.logits)
}

fn check(model: &Classifier, x: MatRef<'_, f64>, labels: &[usize]) -> Result<()> {
    model.check_inputs(x)?;
    check_labels(labels, x.ncols(), model.n_classes())
}

impl DiagonalPefParams {
    /// Keep the `n_values` largest entries of each PEF.
    pub fn new(n_values: usize) -> Self {
        Self { n_values }
    }

    /// Checks the parameters against a model with `n_parameters` parameters.
    pub fn validate(&self, n_parameters: usize) -> Result<()> {
        if self.n_values == 0 || self.n_values > n_parameters {
            return Err(invalid(
                "d-pefs",
                "n_values",
                self.n_values,
                "between 1 and the number of model parameters",
            ));
        }
        Ok(())
    }

    /// D-PEFs of the columns of `x` (`inputs x N`), with their `labels`.
    pub fn compute(
        &self,
        model: &Classifier,
        x: MatRef<'_, f64>,
        labels: &[usize],
        exec: &Exec<'_>,
    ) -> Result<DPefs> {
        self.validate(model.n_parameters())?;
        check(model, x, labels)?;
        let k = self.n_values;
        let rows: Vec<SparseRow> = exec.map(x.ncols(), CHUNK, |j| {
            let (f, logits) = dense_d_pef(model, &column(x, j));
            let norm = f.iter().map(|v| v * v).sum::<f64>().sqrt();
            (top_k(&f, k, |v| v), norm, logits)
        });
        exec.progress("examples", x.ncols(), x.ncols())?;
        let mut out = DPefs {
            n_parameters: model.n_parameters(),
            nnz: k,
            values: Vec::with_capacity(rows.len() * k),
            indices: Vec::with_capacity(rows.len() * k),
            norms: Vec::with_capacity(rows.len()),
            predictions: Predictions {
                labels: labels.iter().map(|&l| l as i32).collect(),
                logits: Vec::with_capacity(rows.len() * model.n_classes()),
                n_classes: model.n_classes(),
            },
        };
        for (top, norm, logits) in rows {
            for (i, v) in top {
                out.indices.push(i as i32);
                out.values.push(v as f32);
            }
            out.norms.push(norm as f32);
            out.predictions
                .logits
                .extend(logits.iter().map(|&v| v as f32));
        }
        Ok(out)
    }
}

impl LowRankPefParams {
    /// Keep the `n_values` largest-magnitude entries of each `S_i`, all classes.
    pub fn new(n_values: usize) -> Self {
        Self {
            n_values,
            top_k_classes: None,
            min_class_probability: None,
        }
    }

    /// Keep only classes with `p(c|x) ≥ p_min` (the most likely class always stays): each
    /// example gets its own rank, as the reference's LVRM-PEFs. Combines with
    /// [`top_k_classes`](Self::top_k_classes) as a cap.
    pub fn min_class_probability(mut self, p_min: Option<f64>) -> Self {
        self.min_class_probability = p_min;
        self
    }

    /// Only the `k` most likely classes of each example (columns ordered by probability).
    pub fn top_k_classes(mut self, k: Option<usize>) -> Self {
        self.top_k_classes = k;
        self
    }

    /// Checks the parameters against a model.
    pub fn validate(&self, model: &Classifier) -> Result<()> {
        let rank = self.rank(model);
        if self
            .top_k_classes
            .is_some_and(|k| k == 0 || k > model.n_classes())
        {
            return Err(invalid(
                "lrm-pefs",
                "top_k_classes",
                self.top_k_classes.unwrap_or(0),
                "between 1 and the number of classes",
            ));
        }
        if self
            .min_class_probability
            .is_some_and(|p| !(0.0..=1.0).contains(&p))
        {
            return Err(invalid(
                "lrm-pefs",
                "min_class_probability",
                self.min_class_probability.unwrap_or(0.0),
                "a probability in [0, 1]",
            ));
        }
        // A variable rank can be 1: every example must still fill n_values entries.
        let least_rank = if self.min_class_probability.is_some() {
            1
        } else {
            rank
        };
        if self.n_values == 0 || self.n_values > least_rank * model.n_parameters() {
            return Err(invalid(
                "lrm-pefs",
                "n_values",
                self.n_values,
                "between 1 and (least rank) x parameters",
            ));
        }
        Ok(())
    }

    fn rank(&self, model: &Classifier) -> usize {
        self.top_k_classes.unwrap_or(model.n_classes())
    }

    /// LRM-PEFs of the columns of `x` (`inputs x N`), with their `labels`.
    pub fn compute(
        &self,
        model: &Classifier,
        x: MatRef<'_, f64>,
        labels: &[usize],
        exec: &Exec<'_>,
    ) -> Result<LrmPefs> {
        self.validate(model)?;
        check(model, x, labels)?;
        let (k, rank, np, nc) = (
            self.n_values,
            self.rank(model),
            model.n_parameters(),
            model.n_classes(),
        );
        let (top, p_min) = (self.top_k_classes, self.min_class_probability);
        let rows: Vec<LrmRow> = exec.map(x.ncols(), CHUNK, |j| {
            let xj = column(x, j);
            let classes: Vec<usize> = if top.is_none() && p_min.is_none() {
                (0..nc).collect()
            } else {
                let mut pass = model.pass();
                model.forward(&xj, &mut pass);
                let p = model.probs(&pass);
                let mut order: Vec<usize> = (0..nc).collect();
                order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
                order.truncate(top.unwrap_or(nc));
                if let Some(pm) = p_min {
                    let keep = order.iter().take_while(|&&c| p[c] >= pm).count().max(1);
                    order.truncate(keep);
                }
                order
            };
            let rank = classes.len();
            let mut g = class_grads(model, &xj, &classes);
            for (row, &c) in classes.iter().enumerate() {
                let s = g.probs[c].sqrt();
                g.grads[row * np..(row + 1) * np]
                    .iter_mut()
                    .for_each(|v| *v *= s);
            }
            // ‖S·Sᵀ‖_F = ‖Sᵀ·S‖_F: a rank x rank Gram instead of a p x p matrix.
            let mut norm2 = 0.0;
            for a in 0..rank {
                for b in 0..rank {
                    let ga = &g.grads[a * np..(a + 1) * np];
                    let gb = &g.grads[b * np..(b + 1) * np];
                    let v: f64 = ga.iter().zip(gb).map(|(x, y)| x * y).sum();
                    norm2 += v * v;
                }
            }
            (top_k(&g.grads, k, f64::abs), norm2.sqrt(), g.logits, rank)
        });
        exec.progress("examples", x.ncols(), x.ncols())?;
        let n = rows.len();
        let mut out = LrmPefs {
            n_parameters: np,
            nnz: k,
            values: Vec::with_capacity(n * k),
            row_indices: Vec::with_capacity(n * k),
            ranks: Vec::with_capacity(n),
            col_sizes: Vec::with_capacity(n * rank),
            norms: Vec::with_capacity(n),
            predictions: Predictions {
                labels: labels.iter().map(|&l| l as i32).collect(),
                logits: Vec::with_capacity(n * nc),
                n_classes: nc,
            },
            variable_rank: p_min.is_some(),
        };
        for (top, norm, logits, rank) in rows {
            out.ranks.push(rank);
            // `top` is sorted by flat index c·p + j: column after column, rows ascending.
            let mut sizes = vec![0usize; rank];
            for (flat, v) in top {
                sizes[flat / np] += 1;
                out.row_indices.push((flat % np) as i32);
                out.values.push(v as f32);
            }
            out.col_sizes.extend(sizes);
            out.norms.push(norm as f32);
            out.predictions
                .logits
                .extend(logits.iter().map(|&v| v as f32));
        }
        Ok(out)
    }
}

/// The dataset-level diagonal Fisher: the mean of the dense D-PEFs of the columns of `x`.
pub fn dataset_fisher(model: &Classifier, x: MatRef<'_, f64>, exec: &Exec<'_>) -> Result<Vec<f64>> {
    model.check_inputs(x)?;
    let np = model.n_parameters();
    let n = x.ncols();
    let chunks: Vec<Vec<f64>> = exec.map(n.div_ceil(CHUNK), 1, |c| {
        let mut acc = vec![0.0; np];
        for j in c * CHUNK..((c + 1) * CHUNK).min(n) {
            let (f, _) = dense_d_pef(model, &column(x, j));
            for (a, v) in acc.iter_mut().zip(f) {
                *a += v;
            }
        }
        acc
    });
    // Summed chunk by chunk in a fixed order: the same bits for any thread count.
    let mut total = vec![0.0; np];
    for c in chunks {
        for (t, v) in total.iter_mut().zip(c) {
            *t += v;
        }
    }
    let n = x.ncols() as f64;
    total.iter_mut().for_each(|v| *v /= n);
    Ok(total)
}

/// The dense D-PEF of one example (for tests and perturbation checks).
pub fn dense_diagonal_pef(model: &Classifier, x: &[f64]) -> Vec<f64> {
    dense_d_pef(model, x).0
}
