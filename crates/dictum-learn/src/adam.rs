//! Adam (Kingma & Ba, *Adam: A method for stochastic optimization*, ICLR 2015), the one
//! optimizer of every gradient-trained model in this crate (amortized and NPEFF classifiers).
//! Moments are kept in `f64` whatever the parameters' type.

/// Adam's state for `len` parameters, with the paper's `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
#[derive(Debug, Clone)]
pub(crate) struct Adam {
    lr: f64,
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
    /// `1 − β₁ᵗ` and `1 − β₂ᵗ` of the current step.
    bias: (f64, f64),
}

const B1: f64 = 0.9;
const B2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl Adam {
    /// Fresh moments for `len` parameters, step size `lr`.
    pub(crate) fn new(len: usize, lr: f64) -> Self {
        Self {
            lr,
            t: 0,
            m: vec![0.0; len],
            v: vec![0.0; len],
            bias: (1.0, 1.0),
        }
    }

    /// Starts a step (advances `t`); then [`delta`](Self::delta) for each parameter.
    pub(crate) fn begin_step(&mut self) {
        self.t += 1;
        self.bias = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
    }

    /// The amount to subtract from parameter `k` whose gradient is `g`, this step.
    #[inline]
    pub(crate) fn delta(&mut self, k: usize, g: f64) -> f64 {
        let (c1, c2) = self.bias;
        self.m[k] = B1 * self.m[k] + (1.0 - B1) * g;
        self.v[k] = B2 * self.v[k] + (1.0 - B2) * g * g;
        self.lr * (self.m[k] / c1) / ((self.v[k] / c2).sqrt() + EPS)
    }
}
