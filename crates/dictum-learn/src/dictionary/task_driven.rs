//! Task-driven dictionary learning (Mairal, Bach & Ponce, *Task-driven dictionary learning*,
//! IEEE TPAMI 34(4), 2012): the dictionary is trained for a supervised task on the sparse
//! codes rather than for reconstruction.
//!
//! Codes are elastic-net codes `x*(y, D)` (LARS with `λ₁`, `λ₂`); a linear model
//! `z = W·x* + c` predicts the targets; the loss is squared (`½‖z − t‖²`) or logistic
//! (`log(1 + e^{−t·z})`, binary targets `±1`). Stochastic gradient steps update `W`, `c` and
//! `D`, the gradient with respect to `D` flowing through the codes' active set
//! ([`lasso_backward`]), and the atoms are projected back onto the unit sphere after each
//! step. The learning rate is `ρ_t = min(ρ, ρ·t₀/t)` as in the paper.

use dictum_coding::{Dictionary, Encoder, Lars, Signals, Valid, lasso_backward};
use dictum_linalg::backend::SparseProduct;
use dictum_linalg::exec::{Exec, IterationStats};
use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use super::Init;
use super::driver::starting_dictionary;
use crate::error::{LearnError, Result, invalid};
use crate::fit::{Fit, Learner, Monitor, Progression, Stopping};
use crate::rng::Rng;

/// The supervised loss on `z = W·x + c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskLoss {
    /// `½‖z − t‖²`: regression with any number of outputs.
    #[default]
    Squared,
    /// `log(1 + exp(−t·z))`: binary classification, one output, targets `−1` or `+1`.
    Logistic,
}

/// Task-driven learning parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDriven {
    n_atoms: usize,
    lambda1: f64,
    lambda2: f64,
    loss: TaskLoss,
    nu: f64,
    learning_rate: f64,
    t0: Option<f64>,
    epochs: usize,
    batch_size: usize,
    init: Init,
}

/// The data of a supervised learner: signals `Y` (`d x N`) and their targets (`p x N`, one
/// column per signal).
#[derive(Debug, Clone, Copy)]
pub struct Supervised<'a, T> {
    /// The signals, one per column.
    pub signals: MatRef<'a, T>,
    /// The targets, one column per signal.
    pub targets: MatRef<'a, T>,
}

/// A task-driven model: dictionary, coding penalties and the linear predictor.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDrivenModel<T> {
    /// `D`, `d x m`, unit-norm atoms.
    pub dictionary: Mat<T>,
    /// `W`, `p x m`.
    pub weights: Mat<T>,
    /// `c`, length `p`.
    pub bias: Vec<T>,
    /// `λ₁` of the codes.
    pub lambda1: f64,
    /// `λ₂` of the codes.
    pub lambda2: f64,
    /// The loss.
    pub loss: TaskLoss,
}

/// Gradients of the mean task loss over a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskGradient<T> {
    /// `∂L/∂D`, `d x m`.
    pub dictionary: Mat<T>,
    /// `∂L/∂W`, `p x m`.
    pub weights: Mat<T>,
    /// `∂L/∂c`.
    pub bias: Vec<T>,
}

impl TaskDriven {
    /// `n_atoms` atoms, codes with `λ₁ = lambda1` and `λ₂ = 0.01`; squared loss, `ν = 1e-4`,
    /// `ρ = 0.1`, `t₀` = a tenth of the steps, 20 epochs of mini-batches of 32, atoms
    /// initialised from data columns.
    pub fn new(n_atoms: usize, lambda1: f64) -> Self {
        Self {
            n_atoms,
            lambda1,
            lambda2: 0.01,
            loss: TaskLoss::Squared,
            nu: 1e-4,
            learning_rate: 0.1,
            t0: None,
            epochs: 20,
            batch_size: 32,
            init: Init::DataColumns,
        }
    }

    /// Ridge `λ₂` of the codes (> 0 keeps the codes differentiable almost everywhere).
    pub fn lambda2(mut self, l2: f64) -> Self {
        self.lambda2 = l2;
        self
    }

    /// The supervised loss.
    pub fn loss(mut self, loss: TaskLoss) -> Self {
        self.loss = loss;
        self
    }

    /// Ridge `ν` on `W`.
    pub fn nu(mut self, nu: f64) -> Self {
        self.nu = nu;
        self
    }

    /// Step size `ρ`.
    pub fn learning_rate(mut self, rho: f64) -> Self {
        self.learning_rate = rho;
        self
    }

    /// Steps before the step size starts to decay as `ρ·t₀/t`.
    pub fn t0(mut self, t0: f64) -> Self {
        self.t0 = Some(t0);
        self
    }

    /// Passes over the data.
    pub fn epochs(mut self, n: usize) -> Self {
        self.epochs = n;
        self
    }

    /// Signals per step.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Initial dictionary (when the fit is not given one).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Checks the parameters; `fit` calls it.
    pub fn validate(&self) -> Result<()> {
        let m = "task-driven";
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
            ("lambda1", self.lambda1),
            ("lambda2", self.lambda2),
            ("nu", self.nu),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(m, name, v, "a finite number ≥ 0"));
            }
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(invalid(
                m,
                "learning_rate",
                self.learning_rate,
                "a positive finite number",
            ));
        }
        if let Some(t0) = self.t0
            && !(t0.is_finite() && t0 > 0.0)
        {
            return Err(invalid(m, "t0", t0, "a positive finite number of steps"));
        }
        Ok(())
    }

    fn check_targets<T: Real>(&self, y: MatRef<'_, T>, targets: MatRef<'_, T>) -> Result<()> {
        let m = "task-driven";
        if targets.ncols() != y.ncols() || targets.nrows() == 0 {
            return Err(LearnError::ShapeMismatch {
                method: m,
                what: "targets",
                expected: format!("p x {} (one column per signal)", y.ncols()),
                found: format!("{} x {}", targets.nrows(), targets.ncols()),
            });
        }
        for j in 0..targets.ncols() {
            for &t in targets.col(j).iter() {
                if !t.is_finite() {
                    return Err(invalid(
                        m,
                        "targets",
                        format!("non-finite value at signal {j}"),
                        "finite targets",
                    ));
                }
                if self.loss == TaskLoss::Logistic && t != T::one() && t != -T::one() {
                    return Err(invalid(
                        m,
                        "targets",
                        format!("{t} at signal {j}"),
                        "logistic targets are −1 or +1 (map 0/1 labels with 2t − 1)",
                    ));
                }
            }
        }
        if self.loss == TaskLoss::Logistic && targets.nrows() != 1 {
            return Err(invalid(
                m,
                "targets",
                format!("{} rows", targets.nrows()),
                "the logistic loss takes one row of ±1 labels",
            ));
        }
        Ok(())
    }

    fn run<T: Real>(
        &self,
        signals: Signals<'_, T>,
        targets: MatRef<'_, T>,
        mut dict: Dictionary<'static, T>,
        mut rng: Rng,
        exec: &Exec<'_>,
    ) -> Result<Fit<TaskDrivenModel<T>>> {
        let y = signals.view();
        self.check_targets(y, targets)?;
        let (d, n, m, p) = (y.nrows(), y.ncols(), self.n_atoms, targets.nrows());
        let lars = Lars::new(self.lambda1).lambda2(self.lambda2).check()?;
        let mut model = TaskDrivenModel {
            dictionary: Mat::zeros(0, 0),
            weights: Mat::zeros(p, m),
            bias: vec![T::zero(); p],
            lambda1: self.lambda1,
            lambda2: self.lambda2,
            loss: self.loss,
        };
        let steps_per_epoch = n.div_ceil(self.batch_size);
        let t0 = self
            .t0
            .unwrap_or((self.epochs * steps_per_epoch) as f64 / 10.0)
            .max(1.0);
        let stopping = Stopping::iterations(self.epochs);
        let mut progress = Progression::new(&stopping, Monitor::Objective, exec);
        let mut order: Vec<usize> = (0..n).collect();
        let mut t = 0usize;
        let mut yb = Mat::zeros(0, 0);
        for epoch in 1..=self.epochs {
            rng.shuffle(&mut order);
            let (mut loss_sum, mut r2, mut y2, mut nnz) = (0.0, 0.0, 0.0, 0usize);
            for chunk in order.chunks(self.batch_size) {
                t += 1;
                let batch = signals.gather_into(chunk, &mut yb);
                let tb = Mat::from_fn(p, chunk.len(), |i, c| targets[(i, chunk[c])]);
                let (loss, grad, codes) =
                    model.loss_gradient_codes(&dict, &lars, batch, tb.as_ref(), exec)?;
                loss_sum += loss * chunk.len() as f64;
                nnz += codes.nnz();
                let rec =
                    exec.sparse_product(SparseProduct::DenseTimesSparse, &codes, dict.atoms())?;
                for j in 0..chunk.len() {
                    for i in 0..d {
                        let e = (yb[(i, j)] - rec[(i, j)]).into_f64();
                        r2 += e * e;
                        y2 += yb[(i, j)].into_f64().powi(2);
                    }
                }
                let rho = T::cast_f64(self.learning_rate.min(self.learning_rate * t0 / t as f64));
                let nu = T::cast_f64(self.nu);
                for a in 0..m {
                    for k in 0..p {
                        let w = model.weights[(k, a)];
                        model.weights[(k, a)] = w - rho * (grad.weights[(k, a)] + nu * w);
                    }
                }
                for (c, &g) in model.bias.iter_mut().zip(&grad.bias) {
                    *c -= rho * g;
                }
                // A projected gradient step on each atom; an atom that cannot be projected
                // back onto the sphere keeps its value.
                let mut moved = vec![T::zero(); d];
                for a in 0..m {
                    for (i, v) in moved.iter_mut().enumerate() {
                        *v = dict.atom(a)[i] - rho * grad.dictionary[(i, a)];
                    }
                    let nrm = faer::ColRef::from_slice(&moved).norm_l2();
                    if nrm > T::zero() && nrm.is_finite() {
                        moved.iter_mut().for_each(|v| *v /= nrm);
                        dict.set_atom(a, &moved)?;
                    }
                }
            }
            let stats = IterationStats {
                iter: epoch,
                objective: loss_sum / n as f64,
                rel_error: if y2 > 0.0 { (r2 / y2).sqrt() } else { 0.0 },
                mean_rel_residual: None,
                mean_nnz: nnz as f64 / n as f64,
                replaced: 0,
                seconds: progress.seconds(),
            };
            progress.record(stats, false)?;
        }
        model.dictionary = dict.into_mat();
        Ok(progress.finish(model))
    }
}

impl<'a, T: Real> Learner<Supervised<'a, T>> for TaskDriven {
    type Start = MatRef<'a, T>;
    type Model = TaskDrivenModel<T>;

    /// Trains on signals (`d x N`) with their targets (`p x N`), from the dictionary `d0`
    /// (e.g. one learned without supervision) or the one `init` draws. One history entry per
    /// epoch: its objective is the mean task loss, its error the reconstruction error.
    fn fit_from(
        &self,
        data: Supervised<'a, T>,
        d0: Option<MatRef<'a, T>>,
        exec: &Exec<'_>,
    ) -> Result<Fit<TaskDrivenModel<T>>> {
        self.validate()?;
        let (y, dict, rng) = starting_dictionary(
            "task-driven",
            data.signals,
            self.n_atoms,
            d0,
            self.init,
            exec,
        )?;
        self.run(y, data.targets, dict, rng, exec)
    }
}

impl<T: Real> TaskDrivenModel<T> {
    /// The coder and the checked dictionary of this model.
    fn coder(&self) -> Result<(Valid<Lars>, Dictionary<'_, T>)> {
        let lars = Lars::new(self.lambda1).lambda2(self.lambda2).check()?;
        Ok((lars, Dictionary::new(self.dictionary.as_ref())?))
    }

    /// The elastic-net codes of `y` over the dictionary.
    pub fn encode(&self, y: MatRef<'_, T>, exec: &Exec<'_>) -> Result<CscMatrix<T>> {
        let (lars, dict) = self.coder()?;
        Ok(lars.encode(&dict, y, exec)?)
    }

    /// Predictions `W·x*(y) + c`, `p x N` (for the logistic loss, the sign is the class).
    pub fn predict(&self, y: MatRef<'_, T>, exec: &Exec<'_>) -> Result<Mat<T>> {
        let codes = self.encode(y, exec)?;
        Ok(self.linear(&codes))
    }

    fn linear(&self, codes: &CscMatrix<T>) -> Mat<T> {
        let p = self.bias.len();
        let mut z = Mat::from_fn(p, codes.ncols(), |k, _| self.bias[k]);
        for j in 0..codes.ncols() {
            let (rows, vals) = codes.col(j);
            for (&a, &x) in rows.iter().zip(vals) {
                for k in 0..p {
                    z[(k, j)] += self.weights[(k, a as usize)] * x;
                }
            }
        }
        z
    }

    /// The mean task loss over the columns of `y` (targets `p x N`) and its gradient with
    /// respect to `D`, `W` and `c`.
    pub fn loss_and_gradient(
        &self,
        y: MatRef<'_, T>,
        targets: MatRef<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<(f64, TaskGradient<T>)> {
        let (lars, dict) = self.coder()?;
        let (loss, grad, _) =
            self.loss_gradient_codes(&dict, &lars, Signals::lazy(y), targets, exec)?;
        Ok((loss, grad))
    }

    /// The loss, its gradient and the codes, with the dictionary `dict` (this model's, checked
    /// once by the caller) and the coder `lars`.
    fn loss_gradient_codes(
        &self,
        dict: &Dictionary<'_, T>,
        lars: &Valid<Lars>,
        signals: Signals<'_, T>,
        targets: MatRef<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<(f64, TaskGradient<T>, CscMatrix<T>)> {
        let y = signals.view();
        let p = self.bias.len();
        let (wrong_w, wrong_t) = (
            self.weights.nrows() != p || self.weights.ncols() != dict.n_atoms(),
            targets.nrows() != p || targets.ncols() != y.ncols(),
        );
        if wrong_w || wrong_t {
            let (what, expected, found) = if wrong_w {
                (
                    "weights",
                    format!("{p} x {}", dict.n_atoms()),
                    format!("{} x {}", self.weights.nrows(), self.weights.ncols()),
                )
            } else {
                (
                    "targets",
                    format!("{p} x {}", y.ncols()),
                    format!("{} x {}", targets.nrows(), targets.ncols()),
                )
            };
            return Err(LearnError::ShapeMismatch {
                method: "task-driven",
                what,
                expected,
                found,
            });
        }
        let codes = lars.encode_signals(dict, signals, exec)?;
        let z = self.linear(&codes);
        let (p, m, n) = (self.bias.len(), dict.n_atoms(), y.ncols());
        let inv_n = 1.0 / n.max(1) as f64;
        let mut loss = 0.0;
        // ∂L/∂z for the mean loss.
        let dz = Mat::<T>::from_fn(p, n, |k, j| {
            let (zv, tv) = (z[(k, j)].into_f64(), targets[(k, j)].into_f64());
            let g = match self.loss {
                TaskLoss::Squared => zv - tv,
                TaskLoss::Logistic => -tv / (1.0 + (tv * zv).exp()),
            };
            T::cast_f64(g * inv_n)
        });
        for j in 0..n {
            for k in 0..p {
                let (zv, tv) = (z[(k, j)].into_f64(), targets[(k, j)].into_f64());
                loss += match self.loss {
                    TaskLoss::Squared => 0.5 * (zv - tv).powi(2),
                    // log(1 + e^{-u}) computed without overflow.
                    TaskLoss::Logistic => {
                        let u = tv * zv;
                        if u > 0.0 {
                            (-u).exp().ln_1p()
                        } else {
                            -u + u.exp().ln_1p()
                        }
                    }
                };
            }
        }
        let mut gw = Mat::<T>::zeros(p, m);
        for j in 0..n {
            let (rows, vals) = codes.col(j);
            for (&a, &x) in rows.iter().zip(vals) {
                for k in 0..p {
                    gw[(k, a as usize)] += dz[(k, j)] * x;
                }
            }
        }
        let gb: Vec<T> = (0..p)
            .map(|k| (0..n).fold(T::zero(), |s, j| s + dz[(k, j)]))
            .collect();
        // ∂L/∂x = Wᵀ·∂L/∂z, then through the codes to D.
        let gx = Mat::<T>::from_fn(m, n, |a, j| {
            (0..p).fold(T::zero(), |s, k| s + self.weights[(k, a)] * dz[(k, j)])
        });
        let back = lasso_backward(dict.atoms(), y, &codes, gx.as_ref(), self.lambda2)?;
        Ok((
            loss * inv_n,
            TaskGradient {
                dictionary: back.dictionary,
                weights: gw,
                bias: gb,
            },
            codes,
        ))
    }
}
