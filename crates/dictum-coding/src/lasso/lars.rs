//! LARS-LASSO (homotopy) with the Gram matrix: exact LASSO / elastic-net codes.

use dictum_linalg::backend::Trans;
use dictum_linalg::exec::Exec;
use dictum_linalg::view::check_finite;
use dictum_linalg::{CscMatrix, MatRef, Real};

use super::check_penalties;
use crate::dictionary::{Dictionary, Signals};
use crate::encoder::Valid;
use crate::error::{CodingError, Result, invalid};
use crate::packed::{back_substitute_transposed, forward_substitute};
use crate::run::{Block, BlockKernel, ColumnSink, run_blocks};
use crate::vector::{Columns, argmin, combination, dot, with_simd};

/// Parameters of LARS-LASSO (see the [module docs](super) for the objective).
///
/// ```
/// use dictum_coding::{Dictionary, Encoder, Lars};
/// use dictum_linalg::{exec::Exec, view};
/// let d = [1.0f64, 0.0, 0.0, 1.0]; // orthonormal: LASSO is soft thresholding
/// let y = [3.0f64, -0.5];
/// let dict = Dictionary::new(view::col_major(&d, 2, 2)?)?;
/// let lasso = Lars::new(1.0).check()?;
/// let x = lasso.encode(&dict, view::col_major(&y, 2, 1)?, &Exec::default())?;
/// assert_eq!(x.col(0).0, &[0]);
/// assert!((x.col(0).1[0] - 2.0).abs() < 1e-12);
/// # Ok::<(), dictum_coding::CodingError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Lars {
    lambda: f64,
    lambda2: f64,
    positive: bool,
    max_nonzero: Option<usize>,
}

impl Lars {
    /// LASSO with ℓ1 weight `lambda` (SPAMS `lambda1`, scikit-learn `transform_alpha`).
    pub fn new(lambda: f64) -> Self {
        Self {
            lambda,
            lambda2: 0.0,
            positive: false,
            max_nonzero: None,
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

    /// Stop the path early once this many atoms are active (SPAMS `L`); the code is then the
    /// path's point at a `λ` above the requested one.
    pub fn max_nonzero(mut self, k: usize) -> Self {
        self.max_nonzero = Some(k);
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        check_penalties("lars", self.lambda, self.lambda2)?;
        if self.max_nonzero == Some(0) {
            return Err(invalid("lars", "max_nonzero", 0, "must be at least 1"));
        }
        Ok(())
    }

    fn kmax(&self, m: usize, d: usize) -> Result<usize> {
        if let Some(k) = self.max_nonzero
            && k > m
        {
            return Err(CodingError::SparsityExceedsAtoms {
                method: "lars",
                k,
                m,
            });
        }
        // Without a ridge, more than d active atoms would make the system singular.
        let rank = if self.lambda2 > 0.0 { m } else { m.min(d) };
        Ok(self.max_nonzero.unwrap_or(m).min(rank))
    }
}

impl Lars {
    /// `lars`.
    pub fn name(&self) -> &'static str {
        "lars"
    }

    /// Codes `signals` with parameters already checked.
    pub(crate) fn run<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        dict.check_signal_shape("lars", signals.view())?;
        let mut slot = None;
        let gram = dict.gram_or_compute(&mut slot, exec)?;
        let kernel = Kernel {
            m: dict.n_atoms(),
            gram: Columns::new(gram),
            config: Config {
                lambda: T::cast_f64(self.lambda),
                lambda2: T::cast_f64(self.lambda2),
                positive: self.positive,
                kmax: self.kmax(dict.n_atoms(), dict.dim())?,
            },
        };
        run_blocks(&kernel, dict, signals, exec)
    }
}

/// The LASSO solution path of one signal: at each breakpoint `lambdas[i]` the code is
/// `(supports[i], coefs[i])`; between breakpoints it is linear in `λ`.
#[derive(Debug, Clone, PartialEq)]
pub struct LarsPath<T> {
    /// Breakpoints, decreasing; the last is the `lambda` the path was asked to reach (or
    /// where it stopped: the active set reached its limit).
    pub lambdas: Vec<T>,
    /// Active atoms at each breakpoint (in order of entry).
    pub supports: Vec<Vec<u32>>,
    /// Coefficients of the active atoms at each breakpoint.
    pub coefs: Vec<Vec<T>>,
}

/// The whole regularization path of one signal `y` (length `d`), from `λ = ‖Dᵀy‖∞` (code
/// zero) down to `params`' `lambda` (use 0 for the full path to least squares).
pub fn lars_path<T: Real>(
    dict: &Dictionary<'_, T>,
    y: &[T],
    params: &Valid<Lars>,
    exec: &Exec<'_>,
) -> Result<LarsPath<T>> {
    let ym = MatRef::from_column_major_slice(y, y.len(), 1);
    dict.check_signal_shape("lars_path", ym)?;
    check_finite("signals", ym)?;
    let mut slot = None;
    let gram = Columns::new(dict.gram_or_compute(&mut slot, exec)?);
    let a0 = exec.product(dict.atoms(), Trans::Yes, ym, Trans::No)?;
    let a0: Vec<T> = (0..dict.n_atoms()).map(|j| a0[(j, 0)]).collect();
    let config = Config {
        lambda: T::cast_f64(params.lambda),
        lambda2: T::cast_f64(params.lambda2),
        positive: params.positive,
        kmax: params.kmax(dict.n_atoms(), dict.dim())?,
    };
    let mut state = State::new(dict.n_atoms(), config.kmax);
    let mut path = LarsPath {
        lambdas: Vec::new(),
        supports: Vec::new(),
        coefs: Vec::new(),
    };
    state.run(&gram, &a0, &config, &mut |l, s, x| {
        path.lambdas.push(l);
        path.supports.push(s.to_vec());
        path.coefs.push(x.to_vec());
    });
    Ok(path)
}

/// Called at each breakpoint of the path with `(λ, support, coefficients)`.
type BreakpointFn<'a, T> = &'a mut dyn FnMut(T, &[u32], &[T]);

#[derive(Debug, Clone, Copy)]
struct Config<T> {
    lambda: T,
    lambda2: T,
    positive: bool,
    kmax: usize,
}

struct Kernel<'a, T> {
    m: usize,
    gram: Columns<'a, T>,
    config: Config<T>,
}

struct Work<T> {
    state: State<T>,
}

/// Per-signal homotopy state, sized once.
struct State<T> {
    c: Vec<T>,
    a: Vec<T>,
    /// Step at which each free atom would enter.
    g: Vec<T>,
    refused: Vec<u32>,
    /// 0 = free, 1 = active, 2 = refused (collinear with the active set).
    status: Vec<u8>,
    active: Vec<u32>,
    signs: Vec<T>,
    x: Vec<T>,
    w: Vec<T>,
    /// Row-major lower Cholesky factor of `G_AA + λ₂ I`, `kmax x kmax`.
    l: Vec<T>,
    kmax: usize,
    cross: Vec<T>,
}

enum Event {
    Stop,
    Add(usize),
    Drop(usize),
}

impl<T: Real> State<T> {
    fn new(m: usize, kmax: usize) -> Self {
        Self {
            c: vec![T::zero(); m],
            a: vec![T::zero(); m],
            g: vec![T::zero(); m],
            refused: Vec::new(),
            status: vec![0; m],
            active: Vec::with_capacity(kmax),
            signs: Vec::with_capacity(kmax),
            x: Vec::with_capacity(kmax),
            w: vec![T::zero(); kmax],
            l: vec![T::zero(); kmax * kmax],
            kmax,
            cross: vec![T::zero(); kmax],
        }
    }

    /// Appends atom `j` to the Cholesky factor; `false` if it is collinear with the active set.
    #[inline(always)]
    fn chol_push(&mut self, gram: &Columns<'_, T>, j: usize, lambda2: T) -> bool {
        let s = self.active.len();
        let st = self.kmax;
        let gj = gram.col(j);
        for (c, &a) in self.cross.iter_mut().zip(&self.active) {
            *c = gj[a as usize];
        }
        forward_substitute(&self.l, st, &mut self.cross[..s]);
        let diag = gj[j] + lambda2;
        let pivot2 = diag - dot(&self.cross[..s], &self.cross[..s]);
        if !(pivot2 > T::epsilon() * T::cast_usize(100 * (s + 1)) * diag) {
            return false;
        }
        self.l[s * st..s * st + s].copy_from_slice(&self.cross[..s]);
        self.l[s * st + s] = pivot2.sqrt();
        true
    }

    /// Solves `(G_AA + λ₂ I)·out = rhs` in place.
    #[inline(always)]
    fn chol_solve(&self, out: &mut [T]) {
        forward_substitute(&self.l, self.kmax, out);
        back_substitute_transposed(&self.l, self.kmax, out);
    }

    /// Runs the homotopy for correlations `a0 = Dᵀy`, calling `at_breakpoint(λ, support, x)`
    /// at every breakpoint and at the end. The final code is in `active`/`x`.
    #[inline(always)]
    fn run(
        &mut self,
        gram: &Columns<'_, T>,
        a0: &[T],
        cfg: &Config<T>,
        at_breakpoint: BreakpointFn<'_, T>,
    ) {
        self.c.copy_from_slice(a0);
        for &j in &self.active {
            self.status[j as usize] = 0;
        }
        for &j in &self.refused {
            self.status[j as usize] = 0;
        }
        self.refused.clear();
        self.active.clear();
        self.signs.clear();
        self.x.clear();
        let score = |v: T| if cfg.positive { v } else { v.abs() };
        let (mut j0, mut lam) = (0, T::zero());
        for (j, &v) in self.c.iter().enumerate() {
            if score(v) > lam {
                lam = score(v);
                j0 = j;
            }
        }
        if lam <= cfg.lambda || lam == T::zero() {
            at_breakpoint(lam.max(cfg.lambda), &[], &[]);
            return;
        }
        at_breakpoint(lam, &[], &[]);
        let tiny = T::epsilon() * T::cast_f64(16.0);
        let mut entering = Some(j0);
        let mut last_dropped = usize::MAX;
        let max_steps = 8 * self.kmax + 16;
        for _ in 0..max_steps {
            if let Some(j) = entering.take() {
                if self.chol_push(gram, j, cfg.lambda2) {
                    self.status[j] = 1;
                    self.active.push(j as u32);
                    self.signs.push(if self.c[j] < T::zero() {
                        -T::one()
                    } else {
                        T::one()
                    });
                    self.x.push(T::zero());
                } else {
                    self.status[j] = 2;
                    self.refused.push(j as u32);
                }
            }
            let s = self.active.len();
            // Direction: (G_AA + λ₂I)·w = signs.
            self.w[..s].copy_from_slice(&self.signs);
            let mut w = std::mem::take(&mut self.w);
            self.chol_solve(&mut w[..s]);
            combination(&mut self.a, gram, &self.active, &w[..s]);
            let mut gamma = lam - cfg.lambda;
            let mut event = Event::Stop;
            // Step to the next entry of each free atom, computed branch-free over all atoms
            // (|c_j| ≤ λ, so a step is positive exactly when its denominator is), then masked.
            let inf = T::infinity();
            let one_sided = cfg.positive;
            for ((g, &cj), &aj) in self.g.iter_mut().zip(&self.c).zip(&self.a) {
                let (d1, d2) = (T::one() - aj, T::one() + aj);
                let g1 = if d1 > tiny { (lam - cj) / d1 } else { inf };
                let g2 = if d2 > tiny { (lam + cj) / d2 } else { inf };
                let g2 = if one_sided { inf } else { g2 };
                *g = if g1 < g2 { g1 } else { g2 };
            }
            for &j in self.active.iter().chain(self.refused.iter()) {
                self.g[j as usize] = inf;
            }
            if last_dropped != usize::MAX {
                self.g[last_dropped] = inf;
            }
            let (j, gmin) = argmin(&self.g);
            if gmin > T::zero() && gmin < gamma {
                gamma = gmin;
                event = Event::Add(j);
            }
            for t in 0..s {
                if self.x[t] * w[t] < T::zero() {
                    let g = -self.x[t] / w[t];
                    if g < gamma {
                        gamma = g;
                        event = Event::Drop(t);
                    }
                }
            }
            for t in 0..s {
                self.x[t] += gamma * w[t];
            }
            for (cj, &aj) in self.c.iter_mut().zip(&self.a) {
                *cj -= gamma * aj;
            }
            self.w = w;
            lam -= gamma;
            last_dropped = usize::MAX;
            match event {
                Event::Stop => break,
                Event::Add(j) => {
                    if s == self.kmax {
                        // The active set is full (rank or max_nonzero): stop where the next
                        // atom would enter.
                        break;
                    }
                    at_breakpoint(lam, &self.active, &self.x);
                    entering = Some(j);
                }
                Event::Drop(t) => {
                    let j = self.active[t] as usize;
                    self.status[j] = 0;
                    last_dropped = j;
                    self.active.remove(t);
                    self.signs.remove(t);
                    self.x.remove(t);
                    // Rebuild the factor without atom j: drops are rare and supports short.
                    let (act, sgn) = (
                        std::mem::take(&mut self.active),
                        std::mem::take(&mut self.signs),
                    );
                    for &i in &act {
                        let ok = self.chol_push(gram, i as usize, cfg.lambda2);
                        debug_assert!(ok);
                        self.active.push(i);
                    }
                    self.signs = sgn;
                    at_breakpoint(lam, &self.active, &self.x);
                }
            }
        }
        self.polish(a0, lam);
        at_breakpoint(lam, &self.active, &self.x);
    }

    /// Replaces the accumulated `x` by the exact solution for the final active set and signs,
    /// `x_A = (G_AA + λ₂I)⁻¹ (α0_A − λ·signs)`, when that keeps every sign.
    #[inline(always)]
    fn polish(&mut self, a0: &[T], lam: T) {
        let s = self.active.len();
        let mut exact = std::mem::take(&mut self.w);
        for t in 0..s {
            exact[t] = a0[self.active[t] as usize] - lam * self.signs[t];
        }
        self.chol_solve(&mut exact[..s]);
        if (0..s).all(|t| exact[t] * self.signs[t] >= T::zero()) {
            self.x.copy_from_slice(&exact[..s]);
        }
        self.w = exact;
    }
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        Work {
            state: State::new(self.m, self.config.kmax),
        }
    }

    fn nnz_hint(&self) -> usize {
        self.config.kmax.min(32)
    }

    fn encode_block(&self, w: &mut Work<T>, block: &Block<'_, T>, out: &mut ColumnSink<T>) {
        let n = block.signals.ncols();
        let corr = &block.corr;
        let state = &mut w.state;
        with_simd(
            #[inline(always)]
            || {
                for c in 0..n {
                    state.run(&self.gram, corr.col(c), &self.config, &mut |_, _, _| {});
                    out.push(&state.active, &state.x);
                }
            },
        );
    }
}
