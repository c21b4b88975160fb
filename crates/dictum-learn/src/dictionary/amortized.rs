//! Amortized dictionary learning: a linear encoder followed by a softmax produces the codes,
//! `x = softmax((W·y + b)/τ)`, and the encoder and the dictionary are trained together by
//! gradient descent (Adam, Kingma & Ba, ICLR 2015) on `½‖y − D·x‖²`. Coding a new signal is
//! then one matrix–vector product: the cost of sparse coding is amortized into the encoder
//! (as in LISTA-style amortized inference, Gregor & LeCun, ICML 2010).
//!
//! The gradients are derived by hand: with `r = D·x − y` and `g = Dᵀ·r`,
//! `∂L/∂D = r·xᵀ`, `∂L/∂z = x ⊙ (g − xᵀg)/τ` for `z = W·y + b`, `∂L/∂W = (∂L/∂z)·yᵀ` and
//! `∂L/∂b = ∂L/∂z` ([`AmortizedModel::loss_and_gradient`]; checked against finite differences
//! in the tests). Softmax codes are positive and sum to one, so they carry no scale: the atoms
//! are free parameters, not normalized.

use dictum_linalg::exec::{Exec, IterationStats};
use dictum_linalg::{Mat, MatRef, Real};

use super::driver::check_signals;
use crate::adam::Adam;
use crate::error::{LearnError, Result, invalid};
use crate::fit::{Fit, Learner, Monitor, Progression, Stopping};
use crate::rng::Rng;

/// Amortized learning parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Amortized {
    n_atoms: usize,
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    temperature: f64,
}

/// A trained encoder and dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct AmortizedModel<T> {
    /// Encoder weights `W`, `m x d`.
    pub weights: Mat<T>,
    /// Encoder bias `b`, length `m`.
    pub bias: Vec<T>,
    /// Dictionary `D`, `d x m` (atoms not normalized).
    pub dictionary: Mat<T>,
    /// Softmax temperature `τ`.
    pub temperature: T,
}

/// Gradients of the mean loss over a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct AmortizedGradient<T> {
    /// `∂L/∂W`, `m x d`.
    pub weights: Mat<T>,
    /// `∂L/∂b`.
    pub bias: Vec<T>,
    /// `∂L/∂D`, `d x m`.
    pub dictionary: Mat<T>,
}

impl Amortized {
    /// `n_atoms` atoms; 100 epochs of mini-batches of 32, Adam with learning rate `1e-2`,
    /// temperature 1.
    pub fn new(n_atoms: usize) -> Self {
        Self {
            n_atoms,
            epochs: 100,
            batch_size: 32,
            learning_rate: 1e-2,
            temperature: 1.0,
        }
    }

    /// Passes over the data.
    pub fn epochs(mut self, n: usize) -> Self {
        self.epochs = n;
        self
    }

    /// Signals per gradient step.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Adam's step size.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }

    /// Softmax temperature `τ` (smaller: codes closer to one-hot).
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = t;
        self
    }

    /// Checks the parameters; `fit` calls it.
    pub fn validate(&self) -> Result<()> {
        let m = "amortized";
        if self.n_atoms == 0 {
            return Err(invalid(m, "n_atoms", 0, "at least one atom"));
        }
        if self.epochs == 0 || self.batch_size == 0 {
            return Err(invalid(
                m,
                if self.epochs == 0 {
                    "epochs"
                } else {
                    "batch_size"
                },
                0,
                "at least 1",
            ));
        }
        for (name, v) in [
            ("learning_rate", self.learning_rate),
            ("temperature", self.temperature),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(m, name, v, "a positive finite number"));
            }
        }
        Ok(())
    }
}

impl<'a, T: Real> Learner<MatRef<'a, T>> for Amortized {
    type Start = AmortizedModel<T>;
    type Model = AmortizedModel<T>;

    /// Trains on the signals `y` (`d x N`), from `start` (a model of the same shape, to
    /// train further) or from the dictionary at random signals and the encoder at small
    /// Gaussian weights. One history entry per epoch.
    fn fit_from(
        &self,
        y: MatRef<'a, T>,
        start: Option<AmortizedModel<T>>,
        exec: &Exec<'_>,
    ) -> Result<Fit<AmortizedModel<T>>> {
        self.validate()?;
        check_signals("amortized", y, exec)?;
        let (d, n, m) = (y.nrows(), y.ncols(), self.n_atoms);
        let mut rng = Rng::new(exec.seed());
        let mut model = match start {
            Some(model) => {
                let shape = (model.weights.nrows(), model.weights.ncols());
                if shape != (m, d) || model.dictionary.nrows() != d || model.bias.len() != m {
                    return Err(LearnError::ShapeMismatch {
                        method: "amortized",
                        what: "starting model",
                        expected: format!("{m} atoms of dimension {d}"),
                        found: format!("weights {} x {}", shape.0, shape.1),
                    });
                }
                model
            }
            None => {
                let scale = 0.1 / (d as f64).sqrt();
                let weights = Mat::from_fn(m, d, |_, _| T::cast_f64(scale * rng.normal()));
                let mut model = AmortizedModel {
                    weights,
                    bias: vec![T::zero(); m],
                    dictionary: Mat::from_fn(d, m, |_, _| T::zero()),
                    temperature: T::cast_f64(self.temperature),
                };
                for k in 0..m {
                    let j = rng.below(n);
                    for i in 0..d {
                        model.dictionary[(i, k)] = y[(i, j)];
                    }
                }
                model
            }
        };
        let mut adam = Adam::new(2 * m * d + m, self.learning_rate);
        let stopping = Stopping::iterations(self.epochs);
        let mut progress = Progression::new(&stopping, Monitor::Objective, exec);
        let mut order: Vec<usize> = (0..n).collect();
        let y2: f64 = y.squared_norm_l2().into_f64();
        for epoch in 1..=self.epochs {
            rng.shuffle(&mut order);
            let mut loss_sum = 0.0;
            for chunk in order.chunks(self.batch_size) {
                let batch = Mat::from_fn(d, chunk.len(), |i, c| y[(i, chunk[c])]);
                let (loss, grad) = model.loss_and_gradient(batch.as_ref(), exec)?;
                loss_sum += loss * chunk.len() as f64;
                adam_step(&mut adam, &mut model, &grad);
            }
            let stats = IterationStats {
                iter: epoch,
                objective: loss_sum / n as f64,
                rel_error: if y2 > 0.0 {
                    (2.0 * loss_sum / y2).sqrt()
                } else {
                    0.0
                },
                mean_rel_residual: None,
                mean_nnz: m as f64,
                replaced: 0,
                seconds: progress.seconds(),
            };
            progress.record(stats, false)?;
        }
        Ok(progress.finish(model))
    }
}

impl<T: Real> AmortizedModel<T> {
    /// Codes of the signals `y` (`d x N`): `softmax((W·y + b)/τ)` per column, `m x N`; `W·Y`
    /// is one product on the context's backend.
    pub fn encode(&self, y: MatRef<'_, T>, exec: &Exec<'_>) -> Result<Mat<T>> {
        self.check(y)?;
        let mut x = Mat::<T>::zeros(self.bias.len(), y.ncols());
        exec.gemm_nn(x.as_mut(), self.weights.as_ref(), y)?;
        let mut z = vec![T::zero(); self.bias.len()];
        for j in 0..y.ncols() {
            for (k, v) in z.iter_mut().enumerate() {
                *v = (x[(k, j)] + self.bias[k]) / self.temperature;
            }
            softmax(&mut z);
            for (k, &v) in z.iter().enumerate() {
                x[(k, j)] = v;
            }
        }
        Ok(x)
    }

    fn check(&self, y: MatRef<'_, T>) -> Result<()> {
        if y.nrows() != self.dictionary.nrows() {
            return Err(LearnError::ShapeMismatch {
                method: "amortized",
                what: "signals",
                expected: format!("{} rows", self.dictionary.nrows()),
                found: format!("{} x {}", y.nrows(), y.ncols()),
            });
        }
        Ok(())
    }

    /// The mean loss `½‖y − D·x‖²` over the columns of `y` and its gradient with respect to
    /// `W`, `b` and `D`, for the whole batch at once: the residuals `R = D·X − Y`, `G = Dᵀ·R`,
    /// `∂L/∂D = R·Xᵀ/N` and `∂L/∂W = (∂L/∂Z)·Yᵀ/N` are products on the context's backend.
    pub fn loss_and_gradient(
        &self,
        y: MatRef<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<(f64, AmortizedGradient<T>)> {
        let x = self.encode(y, exec)?;
        let (d, m, n) = (y.nrows(), self.bias.len(), y.ncols());
        let inv_n = T::one() / T::cast_usize(n.max(1));
        let mut r = Mat::<T>::zeros(d, n);
        exec.gemm_nn(r.as_mut(), self.dictionary.as_ref(), x.as_ref())?;
        let mut loss = 0.0;
        for j in 0..n {
            for i in 0..d {
                let v = r[(i, j)] - y[(i, j)];
                r[(i, j)] = v;
                loss += 0.5 * v.into_f64() * v.into_f64();
            }
        }
        let mut g = Mat::<T>::zeros(m, n);
        exec.gemm_tn(g.as_mut(), self.dictionary.as_ref(), r.as_ref())?;
        // ∂L/∂Z, already divided by N, overwrites G column by column.
        let mut bias = vec![T::zero(); m];
        for j in 0..n {
            let xg = (0..m).fold(T::zero(), |s, k| s + x[(k, j)] * g[(k, j)]);
            for k in 0..m {
                let dz = x[(k, j)] * (g[(k, j)] - xg) / self.temperature * inv_n;
                g[(k, j)] = dz;
                bias[k] += dz;
            }
        }
        let mut weights = Mat::<T>::zeros(m, d);
        exec.gemm_nt(weights.as_mut(), g.as_ref(), y)?;
        let mut dictionary = Mat::<T>::zeros(d, m);
        exec.gemm_nt(dictionary.as_mut(), r.as_ref(), x.as_ref())?;
        for k in 0..m {
            for i in 0..d {
                dictionary[(i, k)] *= inv_n;
            }
        }
        Ok((
            loss / n.max(1) as f64,
            AmortizedGradient {
                weights,
                bias,
                dictionary,
            },
        ))
    }
}

fn softmax<T: Real>(z: &mut [T]) {
    let max = z.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
    let mut sum = T::zero();
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

/// One Adam step on `W`, `b` and `D`, in that order (the moments' layout).
fn adam_step<T: Real>(adam: &mut Adam, model: &mut AmortizedModel<T>, grad: &AmortizedGradient<T>) {
    adam.begin_step();
    let mut at = 0;
    let mut apply = |p: &mut T, g: T| {
        let step = adam.delta(at, g.into_f64());
        *p = T::cast_f64(p.into_f64() - step);
        at += 1;
    };
    let (rows, cols) = (model.weights.nrows(), model.weights.ncols());
    for j in 0..cols {
        for i in 0..rows {
            apply(&mut model.weights[(i, j)], grad.weights[(i, j)]);
        }
    }
    for (p, &g) in model.bias.iter_mut().zip(&grad.bias) {
        apply(p, g);
    }
    let (rows, cols) = (model.dictionary.nrows(), model.dictionary.ncols());
    for j in 0..cols {
        for i in 0..rows {
            apply(&mut model.dictionary[(i, j)], grad.dictionary[(i, j)]);
        }
    }
}
