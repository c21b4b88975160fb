//! Classifiers whose per-example gradients NPEFF factorizes: multinomial logistic regression
//! and a one-hidden-layer `tanh` perceptron, with exact gradients of `log p(c|x)` for every
//! class `c` (not only the label's), and a seeded Adam trainer.
//!
//! Parameters are one flat vector. Logistic regression: `W` (`classes x inputs`, row-major),
//! then `b` (`classes`). Perceptron: `W1` (`hidden x inputs`), `b1`, `W2`
//! (`classes x hidden`), `b2`. PEF files index into this vector.

use dictum_linalg::MatRef;
use dictum_linalg::exec::Exec;

use crate::adam::Adam;
use crate::error::{LearnError, Result, invalid};
use crate::rng::Rng;

const METHOD: &str = "classifier";

/// A softmax classifier `p(c|x) = softmax(z(x))_c`.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    n_inputs: usize,
    hidden: Option<usize>,
    n_classes: usize,
    params: Vec<f64>,
}

/// Scratch of one forward/backward pass.
#[derive(Debug, Clone)]
pub struct Pass {
    h: Vec<f64>,
    /// Logits, then probabilities.
    z: Vec<f64>,
    p: Vec<f64>,
    eh: Vec<f64>,
}

impl Classifier {
    /// Multinomial logistic regression with zero weights.
    pub fn logistic(n_inputs: usize, n_classes: usize) -> Result<Self> {
        Self::from_params(
            n_inputs,
            None,
            n_classes,
            vec![0.0; n_classes * (n_inputs + 1)],
        )
    }

    /// A `tanh` perceptron with one hidden layer, Glorot-uniform weights from `seed`, zero
    /// biases.
    pub fn mlp(n_inputs: usize, hidden: usize, n_classes: usize, seed: u64) -> Result<Self> {
        let mut c = Self::from_params(
            n_inputs,
            Some(hidden),
            n_classes,
            vec![0.0; hidden * (n_inputs + 1) + n_classes * (hidden + 1)],
        )?;
        let mut rng = Rng::new(seed);
        let a1 = (6.0 / (n_inputs + hidden) as f64).sqrt();
        let a2 = (6.0 / (hidden + n_classes) as f64).sqrt();
        let (w1, _, w2, _) = c.mlp_ranges();
        for v in &mut c.params[w1] {
            *v = a1 * (2.0 * rng.uniform() - 1.0);
        }
        for v in &mut c.params[w2] {
            *v = a2 * (2.0 * rng.uniform() - 1.0);
        }
        Ok(c)
    }

    /// A classifier from its flat parameter vector (layout in the module doc).
    pub fn from_params(
        n_inputs: usize,
        hidden: Option<usize>,
        n_classes: usize,
        params: Vec<f64>,
    ) -> Result<Self> {
        if n_inputs == 0 {
            return Err(invalid(METHOD, "n_inputs", 0, "at least 1 input"));
        }
        if n_classes < 2 {
            return Err(invalid(
                METHOD,
                "n_classes",
                n_classes,
                "at least 2 classes",
            ));
        }
        if hidden == Some(0) {
            return Err(invalid(
                METHOD,
                "hidden",
                0,
                "at least 1 hidden unit, or none",
            ));
        }
        let expected = match hidden {
            None => n_classes * (n_inputs + 1),
            Some(h) => h * (n_inputs + 1) + n_classes * (h + 1),
        };
        if params.len() != expected {
            return Err(LearnError::ShapeMismatch {
                method: METHOD,
                what: "parameter vector",
                expected: expected.to_string(),
                found: params.len().to_string(),
            });
        }
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                METHOD,
                "params",
                i,
                "every parameter must be finite",
            ));
        }
        Ok(Self {
            n_inputs,
            hidden,
            n_classes,
            params,
        })
    }

    /// Inputs per example.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// Hidden units (`None`: logistic regression).
    pub fn hidden(&self) -> Option<usize> {
        self.hidden
    }

    /// Classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Length of the parameter vector.
    pub fn n_parameters(&self) -> usize {
        self.params.len()
    }

    /// The flat parameter vector.
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// A copy with parameters `θ + step` (same length as the parameters).
    pub fn perturbed(&self, step: &[f64]) -> Self {
        let mut c = self.clone();
        for (p, s) in c.params.iter_mut().zip(step) {
            *p += s;
        }
        c
    }

    fn mlp_ranges(
        &self,
    ) -> (
        std::ops::Range<usize>,
        std::ops::Range<usize>,
        std::ops::Range<usize>,
        std::ops::Range<usize>,
    ) {
        let (d, c) = (self.n_inputs, self.n_classes);
        let h = self.hidden.unwrap_or(0);
        let w1 = 0..h * d;
        let b1 = w1.end..w1.end + h;
        let w2 = b1.end..b1.end + c * h;
        let b2 = w2.end..w2.end + c;
        (w1, b1, w2, b2)
    }

    /// Scratch for [`forward`](Self::forward) and [`backward`](Self::backward).
    pub fn pass(&self) -> Pass {
        let h = self.hidden.unwrap_or(0);
        Pass {
            h: vec![0.0; h],
            z: vec![0.0; self.n_classes],
            p: vec![0.0; self.n_classes],
            eh: vec![0.0; h],
        }
    }

    /// Logits and probabilities of `x` (length `n_inputs`), kept in `pass`.
    pub fn forward(&self, x: &[f64], pass: &mut Pass) {
        let (d, c) = (self.n_inputs, self.n_classes);
        let th = &self.params;
        match self.hidden {
            None => {
                for k in 0..c {
                    pass.z[k] = th[c * d + k] + dot(&th[k * d..(k + 1) * d], x);
                }
            }
            Some(h) => {
                let (w1, b1, w2, b2) = self.mlp_ranges();
                let (w1, b1, w2, b2) = (&th[w1], &th[b1], &th[w2], &th[b2]);
                for u in 0..h {
                    pass.h[u] = (b1[u] + dot(&w1[u * d..(u + 1) * d], x)).tanh();
                }
                for k in 0..c {
                    pass.z[k] = b2[k] + dot(&w2[k * h..(k + 1) * h], &pass.h);
                }
            }
        }
        let m = pass.z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let mut s = 0.0;
        for k in 0..c {
            pass.p[k] = (pass.z[k] - m).exp();
            s += pass.p[k];
        }
        for p in &mut pass.p {
            *p /= s;
        }
    }

    /// Logits of the last [`forward`](Self::forward).
    pub fn logits<'p>(&self, pass: &'p Pass) -> &'p [f64] {
        &pass.z
    }

    /// Probabilities of the last [`forward`](Self::forward).
    pub fn probs<'p>(&self, pass: &'p Pass) -> &'p [f64] {
        &pass.p
    }

    /// `grad = ∇_θ (eᵀ·z(x))` for the `x` of the last [`forward`](Self::forward): with
    /// `e = onehot(c) − p` this is `∇_θ log p(c|x)`. `grad` is overwritten.
    pub fn backward(&self, x: &[f64], e: &[f64], pass: &mut Pass, grad: &mut [f64]) {
        let (d, c) = (self.n_inputs, self.n_classes);
        match self.hidden {
            None => {
                for k in 0..c {
                    let g = &mut grad[k * d..(k + 1) * d];
                    for (gi, &xi) in g.iter_mut().zip(x) {
                        *gi = e[k] * xi;
                    }
                    grad[c * d + k] = e[k];
                }
            }
            Some(h) => {
                let (w1r, b1r, w2r, b2r) = self.mlp_ranges();
                let w2 = &self.params[w2r.clone()];
                for u in 0..h {
                    let mut s = 0.0;
                    for k in 0..c {
                        s += w2[k * h + u] * e[k];
                    }
                    pass.eh[u] = s * (1.0 - pass.h[u] * pass.h[u]);
                }
                let (gw1, rest) = grad.split_at_mut(b1r.start);
                for u in 0..h {
                    for (g, &xi) in gw1[u * d..(u + 1) * d].iter_mut().zip(x) {
                        *g = pass.eh[u] * xi;
                    }
                }
                rest[..h].copy_from_slice(&pass.eh);
                let gw2 = &mut grad[w2r];
                for k in 0..c {
                    for u in 0..h {
                        gw2[k * h + u] = e[k] * pass.h[u];
                    }
                }
                grad[b2r].copy_from_slice(e);
                let _ = w1r;
            }
        }
    }

    /// Predicted class of each column of `x` (`n_inputs x N`).
    pub fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<usize>> {
        self.check_inputs(x)?;
        let mut pass = self.pass();
        Ok((0..x.ncols())
            .map(|j| {
                let xj: Vec<f64> = x.col(j).iter().copied().collect();
                self.forward(&xj, &mut pass);
                argmax(&pass.p)
            })
            .collect())
    }

    /// Logits of every column of `x`, `[N, classes]` row-major.
    pub fn logits_of(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        self.check_inputs(x)?;
        let mut pass = self.pass();
        let mut out = Vec::with_capacity(x.ncols() * self.n_classes);
        for j in 0..x.ncols() {
            let xj: Vec<f64> = x.col(j).iter().copied().collect();
            self.forward(&xj, &mut pass);
            out.extend_from_slice(&pass.z);
        }
        Ok(out)
    }

    /// Fraction of columns of `x` classified as `labels`.
    pub fn accuracy(&self, x: MatRef<'_, f64>, labels: &[usize]) -> Result<f64> {
        let pred = self.predict(x)?;
        check_labels(labels, x.ncols(), self.n_classes)?;
        let hits = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
        Ok(hits as f64 / labels.len().max(1) as f64)
    }

    pub(crate) fn check_inputs(&self, x: MatRef<'_, f64>) -> Result<()> {
        if x.nrows() != self.n_inputs {
            return Err(LearnError::ShapeMismatch {
                method: METHOD,
                what: "inputs (one example per column)",
                expected: format!("{} rows", self.n_inputs),
                found: format!("{} rows", x.nrows()),
            });
        }
        if x.ncols() == 0 {
            return Err(LearnError::Empty {
                method: METHOD,
                nrows: x.nrows(),
                ncols: 0,
            });
        }
        for j in 0..x.ncols() {
            if x.col(j).iter().any(|v| !v.is_finite()) {
                return Err(LearnError::NonFinite {
                    method: METHOD,
                    signal: j,
                });
            }
        }
        Ok(())
    }
}

pub(crate) fn check_labels(labels: &[usize], n: usize, n_classes: usize) -> Result<()> {
    if labels.len() != n {
        return Err(LearnError::ShapeMismatch {
            method: METHOD,
            what: "labels",
            expected: format!("{n} (one per example)"),
            found: labels.len().to_string(),
        });
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= n_classes) {
        return Err(invalid(
            METHOD,
            "labels",
            bad,
            "labels are class indices below the number of classes",
        ));
    }
    Ok(())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// One epoch's measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochStats {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean cross-entropy over the training examples (before the penalty).
    pub loss: f64,
    /// Training accuracy.
    pub accuracy: f64,
}

/// Trains a [`Classifier`] by mini-batch Adam on the cross-entropy plus `½·l2·‖θ‖²`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainClassifier {
    hidden: Option<usize>,
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    l2: f64,
}

impl Default for TrainClassifier {
    fn default() -> Self {
        Self::new()
    }
}

impl TrainClassifier {
    /// Logistic regression, 100 epochs of batches of 64, learning rate 0.01, `l2 = 1e-4`.
    pub fn new() -> Self {
        Self {
            hidden: None,
            epochs: 100,
            batch_size: 64,
            learning_rate: 0.01,
            l2: 1e-4,
        }
    }

    /// Hidden units of a `tanh` perceptron (`None`: logistic regression).
    pub fn hidden(mut self, h: Option<usize>) -> Self {
        self.hidden = h;
        self
    }

    /// Passes over the data.
    pub fn epochs(mut self, n: usize) -> Self {
        self.epochs = n;
        self
    }

    /// Examples per Adam step.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Adam's step size.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }

    /// Weight of `½‖θ‖²`.
    pub fn l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(invalid(METHOD, "epochs", 0, "at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid(METHOD, "batch_size", 0, "at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(invalid(
                METHOD,
                "learning_rate",
                self.learning_rate,
                "a positive number",
            ));
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(invalid(METHOD, "l2", self.l2, "a number ≥ 0"));
        }
        if self.hidden == Some(0) {
            return Err(invalid(
                METHOD,
                "hidden",
                0,
                "at least 1 hidden unit, or none",
            ));
        }
        Ok(())
    }

    /// Trains on the columns of `x` (`inputs x N`) with class `labels` (`0..n_classes`); the
    /// initial weights and the batch order come from the context's seed, and each epoch is
    /// a checkpoint where its observer may cancel.
    pub fn fit(
        &self,
        x: MatRef<'_, f64>,
        labels: &[usize],
        n_classes: usize,
        exec: &Exec<'_>,
    ) -> Result<(Classifier, Vec<EpochStats>)> {
        self.validate()?;
        let d = x.nrows();
        let mut model = match self.hidden {
            None => Classifier::logistic(d, n_classes)?,
            Some(h) => Classifier::mlp(d, h, n_classes, exec.seed())?,
        };
        model.check_inputs(x)?;
        check_labels(labels, x.ncols(), n_classes)?;
        let n = x.ncols();
        let cols: Vec<Vec<f64>> = (0..n).map(|j| x.col(j).iter().copied().collect()).collect();
        let np = model.n_parameters();
        let mut adam = Adam::new(np, self.learning_rate);
        let mut rng = Rng::new(exec.seed() ^ 0x5eed);
        let mut order: Vec<usize> = (0..n).collect();
        let mut pass = model.pass();
        let (mut grad, mut g1) = (vec![0.0; np], vec![0.0; np]);
        let mut e = vec![0.0; n_classes];
        let mut history = Vec::with_capacity(self.epochs);
        for epoch in 1..=self.epochs {
            rng.shuffle(&mut order);
            let (mut loss, mut hits) = (0.0, 0);
            for batch in order.chunks(self.batch_size) {
                grad.iter_mut().for_each(|g| *g = 0.0);
                for &i in batch {
                    model.forward(&cols[i], &mut pass);
                    let y = labels[i];
                    loss -= pass.p[y].max(1e-300).ln();
                    hits += usize::from(argmax(&pass.p) == y);
                    // ∇(−log p_y) = Jᵀ(p − onehot(y)).
                    for k in 0..n_classes {
                        e[k] = pass.p[k] - f64::from(u8::from(k == y));
                    }
                    model.backward(&cols[i], &e, &mut pass, &mut g1);
                    for (g, v) in grad.iter_mut().zip(&g1) {
                        *g += v;
                    }
                }
                let scale = 1.0 / batch.len() as f64;
                adam.begin_step();
                for k in 0..np {
                    let g = grad[k] * scale + self.l2 * model.params[k];
                    model.params[k] -= adam.delta(k, g);
                }
            }
            let stats = EpochStats {
                epoch,
                loss: loss / n as f64,
                accuracy: hits as f64 / n as f64,
            };
            history.push(stats);
            exec.progress("epochs", epoch, self.epochs)?;
        }
        Ok((model, history))
    }
}
