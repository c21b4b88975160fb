//! FISTA / ISTA, batched over blocks of signals with one GEMM per iteration; on a backend
//! that runs the fused LASSO (a GPU), over chunks of many signals on the device.

use dictum_linalg::backend::{Lasso, Offloaded, Op};
use dictum_linalg::exec::Exec;
use dictum_linalg::svd::{LeadingSvd, leading_singular_triplet};
use dictum_linalg::view::check_finite_par;
use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use super::check_penalties;
use crate::dictionary::{Dictionary, Signals};
use crate::encoder::Valid;
use crate::error::{CodingError, Result, invalid};
use crate::run::{BLOCK, Block, BlockKernel, ColumnSink, DenseChunks, run_blocks};

/// Parameters of FISTA (and ISTA) for LASSO / elastic net (see the [module docs](super)).
///
/// Each block of signals is iterated together: the gradient of the whole block is one GEMM
/// `G·Z` with the Gram matrix. The step is `1/L` with `L = σ_max(D)² + λ₂`. A signal stops
/// when its duality gap is at most `tol` times its objective (checked every
/// [`check_every`](Self::check_every) iterations); the block stops when all have, or at
/// `max_iter`.
///
/// ```
/// use dictum_coding::{Dictionary, Encoder, Fista};
/// use dictum_linalg::{exec::Exec, view};
/// let d = [1.0f64, 0.0, 0.0, 1.0];
/// let y = [3.0f64, -0.5];
/// let dict = Dictionary::new(view::col_major(&d, 2, 2)?)?;
/// let fista = Fista::new(1.0).check()?;
/// let x = fista.encode(&dict, view::col_major(&y, 2, 1)?, &Exec::default())?;
/// assert!((x.col(0).1[0] - 2.0).abs() < 1e-6);
/// # Ok::<(), dictum_coding::CodingError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Fista {
    lambda: f64,
    lambda2: f64,
    positive: bool,
    max_iter: usize,
    tol: f64,
    accelerated: bool,
    check_every: usize,
}

impl Fista {
    /// FISTA for LASSO with ℓ1 weight `lambda`.
    pub fn new(lambda: f64) -> Self {
        Self {
            lambda,
            lambda2: 0.0,
            positive: false,
            max_iter: 1000,
            tol: 1e-7,
            accelerated: true,
            check_every: 10,
        }
    }

    /// ISTA (no momentum) for LASSO with ℓ1 weight `lambda`: slower, monotone.
    pub fn ista(lambda: f64) -> Self {
        Self {
            accelerated: false,
            ..Self::new(lambda)
        }
    }

    /// The ℓ1 weight `λ`.
    pub fn lambda(mut self, lambda: f64) -> Self {
        self.lambda = lambda;
        self
    }

    /// Elastic-net ridge weight `λ₂` (default 0).
    pub fn lambda2(mut self, lambda2: f64) -> Self {
        self.lambda2 = lambda2;
        self
    }

    /// Constrain codes to be non-negative.
    pub fn positive(mut self, positive: bool) -> Self {
        self.positive = positive;
        self
    }

    /// Most iterations per block (default 1000).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Relative duality gap at which a signal is done (default 1e-7).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Iterations between duality-gap checks (default 10; each check costs one more GEMM).
    pub fn check_every(mut self, n: usize) -> Self {
        self.check_every = n;
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        let name = if self.accelerated { "fista" } else { "ista" };
        check_penalties(name, self.lambda, self.lambda2)?;
        if self.lambda == 0.0 && self.lambda2 == 0.0 {
            return Err(invalid(
                name,
                "lambda",
                0,
                "needs lambda > 0 or lambda2 > 0 (for plain least squares use OMP or LARS with lambda = 0)",
            ));
        }
        if self.max_iter == 0 {
            return Err(invalid(name, "max_iter", 0, "must be at least 1"));
        }
        if self.check_every == 0 {
            return Err(invalid(name, "check_every", 0, "must be at least 1"));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(invalid(name, "tol", self.tol, "must be finite and >= 0"));
        }
        Ok(())
    }

    /// `fista`, or `ista` without the momentum.
    pub fn name(&self) -> &'static str {
        if self.accelerated { "fista" } else { "ista" }
    }

    /// Codes `signals` from zero with parameters already checked.
    pub(crate) fn run<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        self.run_from(dict, signals, None, exec)
    }

    /// Codes `signals` (from `init` when given) with parameters already checked.
    pub(crate) fn run_from<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        init: Option<&CscMatrix<T>>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        dict.check_signal_shape("fista", signals.view())?;
        let mut slot = None;
        let gram = dict.gram_or_compute(&mut slot, exec)?;
        let top =
            leading_singular_triplet(dict.atoms(), &LeadingSvd::new().tol(1e-10), exec.par())?;
        // A slightly larger L keeps the step safe against the eigenvalue's rounding.
        let lipschitz = top.sigma * top.sigma * T::cast_f64(1.0 + 1e-6) + T::cast_f64(self.lambda2);
        if let Some(codes) = self.on_device(dict, gram, signals, init, lipschitz, exec)? {
            return Ok(codes);
        }
        let kernel = Kernel {
            m: dict.n_atoms(),
            gram,
            init,
            params: self,
            lipschitz,
        };
        run_blocks(&kernel, dict, signals, exec)
    }

    /// The codes from a backend that runs the fused LASSO (a GPU), or `None` when the blocks
    /// are to run here (the backend is the CPU or declined; the observer was told why).
    fn on_device<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        gram: MatRef<'_, T>,
        signals: Signals<'_, T>,
        init: Option<&CscMatrix<T>>,
        lipschitz: T,
        exec: &Exec<'_>,
    ) -> Result<Option<CscMatrix<T>>> {
        if !exec.offers::<T>(Op::Lasso) {
            return Ok(None);
        }
        if !signals.is_checked() {
            check_finite_par("signals", signals.view(), exec.par())?;
        }
        let atoms = exec.resident(dict.atoms());
        let gram = exec.resident(gram);
        let job = Lasso {
            atoms: (&atoms).into(),
            gram: (&gram).into(),
            signals: signals.view(),
            init,
            lambda: self.lambda,
            lambda2: self.lambda2,
            positive: self.positive,
            accelerated: self.accelerated,
            max_iter: self.max_iter,
            tol: self.tol,
            check_every: self.check_every,
            lipschitz: lipschitz.into_f64(),
        };
        let mut codes = DenseChunks::new();
        match exec.lasso(&job, &mut |_, chunk| codes.push(chunk))? {
            Offloaded::Done(()) => Ok(Some(codes.finish(dict.n_atoms(), exec.par())?)),
            Offloaded::OnCpu => Ok(None),
            Offloaded::Cancelled => Err(CodingError::Cancelled),
        }
    }
}

impl Valid<Fista> {
    /// Like [`Encoder::encode`](crate::Encoder::encode), starting from `init` (`m x N`, e.g.
    /// the codes of the previous dictionary-learning iteration) instead of zero.
    pub fn encode_warm<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: MatRef<'_, T>,
        init: &CscMatrix<T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        if init.nrows() != dict.n_atoms() || init.ncols() != signals.ncols() {
            return Err(CodingError::ShapeMismatch {
                method: "fista",
                what: "warm start",
                expected: format!("{}x{}", dict.n_atoms(), signals.ncols()),
                found: format!("{}x{}", init.nrows(), init.ncols()),
                hint: "pass codes with one row per atom and one column per signal",
            });
        }
        self.params()
            .run_from(dict, Signals::lazy(signals), Some(init), exec)
    }
}

struct Kernel<'a, T> {
    m: usize,
    gram: MatRef<'a, T>,
    init: Option<&'a CscMatrix<T>>,
    params: &'a Fista,
    lipschitz: T,
}

struct Work<T> {
    x: Mat<T>,
    z: Mat<T>,
    gz: Mat<T>,
    ynorm2: Vec<T>,
    done: Vec<bool>,
    rows: Vec<u32>,
    vals: Vec<T>,
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        let m = self.m;
        Work {
            x: Mat::zeros(m, BLOCK),
            z: Mat::zeros(m, BLOCK),
            gz: Mat::zeros(m, BLOCK),
            ynorm2: vec![T::zero(); BLOCK],
            done: vec![false; BLOCK],
            rows: Vec::new(),
            vals: Vec::new(),
        }
    }

    fn nnz_hint(&self) -> usize {
        16
    }

    fn encode_block(&self, w: &mut Work<T>, block: &Block<'_, T>, out: &mut ColumnSink<T>) {
        let (first, signals, exec) = (block.first, block.signals, &block.exec);
        let n = signals.ncols();
        let m = self.m;
        let p = self.params;
        let (lam, lam2) = (T::cast_f64(p.lambda), T::cast_f64(p.lambda2));
        let step = T::one() / self.lipschitz;
        let shrink = lam * step;
        let Work {
            x,
            z,
            gz,
            ynorm2,
            done,
            rows,
            vals,
        } = w;
        // The block's correlations Dᵀ·Y, from the driver.
        let a0 = block.correlations;
        let mut x = x.as_mut().subcols_mut(0, n);
        let mut z = z.as_mut().subcols_mut(0, n);
        let mut gz = gz.as_mut().subcols_mut(0, n);
        for c in 0..n {
            ynorm2[c] = signals.col(c).squared_norm_l2();
            done[c] = false;
        }
        x.fill(T::zero());
        if let Some(init) = self.init {
            for c in 0..n {
                let (r, v) = init.col(first + c);
                for (&i, &val) in r.iter().zip(v) {
                    x[(i as usize, c)] = val;
                }
            }
        }
        z.copy_from(x.as_ref());
        let mut t = T::one();
        for it in 1..=p.max_iter {
            // Gradient at z: G·z − α0 + λ₂ z.
            if exec.gemm_nn(gz.as_mut(), self.gram, z.as_ref()).is_err() {
                // Shapes were checked when the run began; an error here is a bug, and codes
                // computed from it would be wrong, so the block's codes are left empty.
                (0..n).for_each(|_| out.push_empty());
                return;
            }
            let t_next = if p.accelerated {
                (T::one() + (T::one() + T::cast_f64(4.0) * t * t).sqrt()) / T::cast_f64(2.0)
            } else {
                T::one()
            };
            let momentum = (t - T::one()) / t_next;
            for c in 0..n {
                if done[c] {
                    continue;
                }
                for i in 0..m {
                    let zi = z[(i, c)];
                    let g = gz[(i, c)] - a0[(i, c)] + lam2 * zi;
                    let v = zi - step * g;
                    let xn = if p.positive {
                        (v - shrink).max(T::zero())
                    } else if v > shrink {
                        v - shrink
                    } else if v < -shrink {
                        v + shrink
                    } else {
                        T::zero()
                    };
                    let xo = x[(i, c)];
                    x[(i, c)] = xn;
                    z[(i, c)] = xn + momentum * (xn - xo);
                }
            }
            t = t_next;
            if it % p.check_every == 0 || it == p.max_iter {
                // Duality gap at x (one more GEMM, reusing gz).
                if exec.gemm_nn(gz.as_mut(), self.gram, x.as_ref()).is_err() {
                    (0..n).for_each(|_| out.push_empty());
                    return;
                }
                let mut all = true;
                for c in 0..n {
                    if done[c] {
                        continue;
                    }
                    let gap = duality_gap(
                        x.as_ref(),
                        gz.as_ref(),
                        a0.as_ref(),
                        c,
                        ynorm2[c],
                        lam,
                        lam2,
                        p.positive,
                    );
                    if gap.0 <= T::cast_f64(p.tol) * gap.1.max(T::min_positive_value()) {
                        done[c] = true;
                        // Freeze: momentum must not move a finished signal.
                        for i in 0..m {
                            z[(i, c)] = x[(i, c)];
                        }
                    } else {
                        all = false;
                    }
                }
                if all {
                    break;
                }
            }
        }
        for c in 0..n {
            rows.clear();
            vals.clear();
            for i in 0..m {
                let v = x[(i, c)];
                if v != T::zero() {
                    rows.push(i as u32);
                    vals.push(v);
                }
            }
            out.push(rows, vals);
        }
    }
}

/// `(gap, primal)` for column `c`, with `gx = G·x`.
#[allow(clippy::too_many_arguments)]
fn duality_gap<T: Real>(
    x: MatRef<'_, T>,
    gx: MatRef<'_, T>,
    a0: MatRef<'_, T>,
    c: usize,
    ynorm2: T,
    lam: T,
    lam2: T,
    positive: bool,
) -> (T, T) {
    let m = x.nrows();
    let (mut xa, mut xgx, mut l1, mut l2, mut cmax) =
        (T::zero(), T::zero(), T::zero(), T::zero(), T::zero());
    for i in 0..m {
        let xi = x[(i, c)];
        xa += xi * a0[(i, c)];
        xgx += xi * gx[(i, c)];
        l1 += xi.abs();
        l2 += xi * xi;
        let corr = a0[(i, c)] - gx[(i, c)] - lam2 * xi;
        let s = if positive { corr } else { corr.abs() };
        cmax = cmax.max(s);
    }
    let rr = (ynorm2 - T::cast_f64(2.0) * xa + xgx).max(T::zero());
    let primal = T::cast_f64(0.5) * rr + lam * l1 + T::cast_f64(0.5) * lam2 * l2;
    // Dual point: the (augmented) residual scaled into the feasible set ‖D̃ᵀθ‖∞ ≤ λ.
    let s = if cmax > lam { lam / cmax } else { T::one() };
    let rr_aug = rr + lam2 * l2;
    let yr = ynorm2 - xa;
    let dual = s * yr - T::cast_f64(0.5) * s * s * rr_aug;
    ((primal - dual).max(T::zero()), primal)
}
