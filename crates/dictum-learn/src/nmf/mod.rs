//! Non-negative matrix factorisation `V ≈ W·H` with `W, H ≥ 0` (Lee & Seung, *Algorithms for
//! non-negative matrix factorization*, NIPS 2001; Cichocki & Phan, *Fast local algorithms for
//! large scale nonnegative matrix and tensor factorizations*, IEICE 2009).
//!
//! `V` is `n x p` (dense, or sparse CSC, never densified), `W` is `n x r`, `H` is `r x p`. In
//! dictum's signal-per-column layout (`Y`, `d x N`), NMF of `Y` gives a non-negative dictionary
//! `W` (`d x r`) and codes `H` (`r x N`).
//!
//! | solver | updates | loss |
//! |---|---|---|
//! | [`NmfSolver::Hals`] (default) | exact coordinate steps on one row of `H` / column of `W` at a time (HALS, scikit-learn's `cd`) | Frobenius |
//! | [`NmfSolver::MultiplicativeFrobenius`] | `H ← H ⊙ WᵀV ⊘ WᵀWH` and the same for `W` (Lee & Seung) | Frobenius |
//! | [`NmfSolver::MultiplicativeKl`] | `H ← H ⊙ Wᵀ(V ⊘ WH) ⊘ Wᵀ1` and the same for `W` | generalised KL divergence |
//!
//! Every product goes through `V·Hᵀ` and `Vᵀ·W` (and, for KL, `(W·H)_ij` on the non-zeros of a
//! sparse `V` only), and the Frobenius loss is computed as `‖V‖² − 2·tr(Wᵀ·V·Hᵀ) +
//! tr(WᵀW·HHᵀ)`, so a sparse `V` is never made dense. On a context whose backend runs the
//! fused factorization (a GPU), the iterations run there whole, with these rules. Penalties follow scikit-learn:
//! `α·l1_ratio·‖·‖₁ + ½·α·(1 − l1_ratio)·‖·‖²_F` on `W` and on `H`.

mod data;
mod device;
mod hals;
mod init;
mod multiplicative;
mod objective;

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use data::Data;

use crate::error::{LearnError, Result, invalid};
use crate::fit::{Fit, Learner, Monitor, Progression, Stopping};

/// The data `V` of an NMF: a dense matrix or a sparse CSC one.
#[derive(Debug, Clone, Copy)]
pub enum NmfData<'a, T> {
    /// A dense `n x p` matrix.
    Dense(MatRef<'a, T>),
    /// A sparse `n x p` matrix in CSC form.
    Sparse(&'a CscMatrix<T>),
}

/// The NMF update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NmfSolver {
    /// Hierarchical alternating least squares (coordinate descent), Frobenius loss.
    #[default]
    Hals,
    /// Lee & Seung's multiplicative updates for the Frobenius loss.
    MultiplicativeFrobenius,
    /// Multiplicative updates for the generalised Kullback–Leibler divergence.
    MultiplicativeKl,
}

/// How `W` and `H` start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NmfInit {
    /// `√(mean(V)/r)·|N(0, 1)|` entries (scikit-learn's `random`), seeded.
    Random,
    /// Non-negative double SVD (Boutsidis & Gallopoulos 2008); zeros stay zero.
    #[default]
    Nndsvd,
    /// NNDSVD with its zeros replaced by `mean(V)` (better for multiplicative updates).
    Nndsvda,
}

/// Non-negative matrix factorisation parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Nmf {
    rank: usize,
    solver: NmfSolver,
    init: NmfInit,
    alpha_w: f64,
    alpha_h: f64,
    l1_ratio: f64,
    stopping: Stopping,
    inner_sweeps: Option<usize>,
}

/// A factorisation `V ≈ W·H`.
#[derive(Debug, Clone)]
pub struct Factors<T> {
    /// `W`, `n x r`, non-negative.
    pub w: Mat<T>,
    /// `H`, `r x p`, non-negative.
    pub h: Mat<T>,
}

/// What [`Nmf`] returns: the factors with their history (one entry per iteration; its
/// objective is the loss being minimised, penalties included: Frobenius `½‖V − WH‖²`, or the
/// KL divergence).
pub type NmfFit<T> = Fit<Factors<T>>;

impl Nmf {
    /// Rank-`rank` NMF: HALS, NNDSVD initialisation, no penalty, at most 200 iterations,
    /// relative objective change `1e-4`.
    pub fn new(rank: usize) -> Self {
        Self {
            rank,
            solver: NmfSolver::Hals,
            init: NmfInit::Nndsvd,
            alpha_w: 0.0,
            alpha_h: 0.0,
            l1_ratio: 0.0,
            stopping: Stopping {
                tol: Some(1e-4),
                ..Stopping::iterations(200)
            },
            inner_sweeps: None,
        }
    }

    /// HALS sweeps per factor and iteration. A sweep costs `r²·(n + p)` against `n·p·r` for
    /// the products it reuses, so repeating it buys progress almost for free (accelerated
    /// HALS, Gillis & Glineur 2012). Default: `1 + ⌊½·nnz / (r·(n + p))⌋`, at most 10, with
    /// `nnz = n·p` for dense data (their rule with α = ½); on W5 (2000 x 1000, rank 50) that is 7, and reaches scikit-learn's
    /// 200-iteration error in about 35 iterations instead of 195 with one sweep.
    pub fn inner_sweeps(mut self, n: usize) -> Self {
        self.inner_sweeps = Some(n);
        self
    }

    /// `nnz` is the non-zeros of `V` (`n·p` when dense): the products cost `nnz·r`.
    fn sweeps(&self, n: usize, p: usize, nnz: usize) -> usize {
        self.inner_sweeps.unwrap_or_else(|| {
            let ratio = nnz as f64 / (self.rank * (n + p)) as f64;
            (1 + (0.5 * ratio) as usize).clamp(1, 10)
        })
    }

    /// The update rule.
    pub fn solver(mut self, s: NmfSolver) -> Self {
        self.solver = s;
        self
    }

    /// The initialisation.
    pub fn init(mut self, i: NmfInit) -> Self {
        self.init = i;
        self
    }

    /// Penalty weight on `W`.
    pub fn alpha_w(mut self, a: f64) -> Self {
        self.alpha_w = a;
        self
    }

    /// Penalty weight on `H`.
    pub fn alpha_h(mut self, a: f64) -> Self {
        self.alpha_h = a;
        self
    }

    /// Share of ℓ1 in the penalties (0: ℓ2 only, 1: ℓ1 only).
    pub fn l1_ratio(mut self, r: f64) -> Self {
        self.l1_ratio = r;
        self
    }

    /// Iterations at most.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.stopping.max_iter = n;
        self
    }

    /// Stop when the objective changes by at most `tol` (relative); 0 runs `max_iter`.
    pub fn tol(mut self, tol: f64) -> Self {
        self.stopping.tol = (tol != 0.0).then_some(tol);
        self
    }

    /// Wall-time budget.
    pub fn max_time(mut self, t: std::time::Duration) -> Self {
        self.stopping.max_time = Some(t);
        self
    }

    /// The rank `r`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Checks the parameters (the rank against the data is checked by `fit`).
    pub fn validate(&self) -> Result<()> {
        if self.rank == 0 {
            return Err(invalid("nmf", "rank", 0, "at least one component"));
        }
        self.stopping.validate("nmf")?;
        if self.inner_sweeps == Some(0) {
            return Err(invalid("nmf", "inner_sweeps", 0, "at least 1"));
        }
        for (name, v) in [("alpha_w", self.alpha_w), ("alpha_h", self.alpha_h)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid("nmf", name, v, "a finite number ≥ 0"));
            }
        }
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return Err(invalid(
                "nmf",
                "l1_ratio",
                self.l1_ratio,
                "a number in [0, 1]",
            ));
        }
        Ok(())
    }

    fn run<T: Real>(
        &self,
        v: Data<'_, T>,
        w0: Mat<T>,
        h0: Mat<T>,
        exec: &Exec<'_>,
    ) -> Result<NmfFit<T>> {
        if let Some(fit) = self.run_on_device(v, &w0, &h0, exec)? {
            return Ok(fit);
        }
        let (mut w, mut h) = (w0, h0);
        let v2 = v.norm2();
        let mut progress = Progression::new(&self.stopping, Monitor::Objective, exec);
        for iter in 1..=self.stopping.max_iter {
            let mut known = None;
            match self.solver {
                NmfSolver::Hals => {
                    self.hals_h(v, &w, &mut h, exec)?;
                    known = Some(self.hals_w(v, &mut w, &h, exec)?);
                }
                NmfSolver::MultiplicativeFrobenius => {
                    self.mu_h(v, &w, &mut h, exec)?;
                    self.mu_w(v, &mut w, &h, exec)?;
                }
                NmfSolver::MultiplicativeKl => {
                    self.kl_h(v, &w, &mut h);
                    self.kl_w(v, &mut w, &h);
                }
            }
            let known = known.as_ref().map(|(a, b)| (a, b));
            let stats = self.measure(v, &w, &h, v2, iter, progress.seconds(), exec, known)?;
            if progress.record(stats, false)? {
                break;
            }
        }
        Ok(progress.finish(Factors { w, h }))
    }

    /// Fits `W` for new rows `v` (`n' x p`) with `H` fixed: non-negative least squares by
    /// HALS sweeps (Frobenius solvers) or multiplicative KL updates, `max_iter` at most.
    pub fn transform<T: Real>(
        &self,
        v: NmfData<'_, T>,
        h: MatRef<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<Mat<T>> {
        self.validate()?;
        let rows = v.rows();
        let v = Data::new(v, rows.as_ref());
        v.check()?;
        let (n, p) = v.shape();
        if h.ncols() != p || h.nrows() != self.rank {
            return Err(LearnError::ShapeMismatch {
                method: "nmf",
                what: "H",
                expected: format!("{} x {p}", self.rank),
                found: format!("{} x {}", h.nrows(), h.ncols()),
            });
        }
        let h = h.to_owned();
        let mean = (v.sum() / (n * p) as f64 / self.rank as f64).sqrt();
        let mut w = Mat::from_fn(n, self.rank, |_, _| T::cast_f64(mean.max(1e-3)));
        // H is fixed: ‖V‖², V·Hᵀ and H·Hᵀ are the same in every iteration.
        let (v2, vht, hht) = (
            v.norm2(),
            v.mul_ht(h.as_ref(), exec)?,
            exec.gram(h.transpose())?,
        );
        let tol = self.stopping.tol.unwrap_or(0.0).max(1e-10);
        let mut prev = f64::INFINITY;
        for _ in 0..self.stopping.max_iter {
            if self.solver == NmfSolver::MultiplicativeKl {
                self.kl_w(v, &mut w, &h);
            } else {
                self.hals_w_with(v, &mut w, &vht, &hht, exec);
            }
            let s = self.measure(v, &w, &h, v2, 0, 0.0, exec, Some((&vht, &hht)))?;
            if (prev - s.objective).abs() <= tol * s.objective.abs().max(f64::MIN_POSITIVE) {
                break;
            }
            prev = s.objective;
        }
        Ok(w)
    }

    fn penalties(&self, alpha: f64) -> (f64, f64) {
        (alpha * self.l1_ratio, alpha * (1.0 - self.l1_ratio))
    }
}

impl<'a, T: Real> Learner<NmfData<'a, T>> for Nmf {
    type Start = (Mat<T>, Mat<T>);
    type Model = Factors<T>;

    /// Factorises `v` from the factors `(w0, h0)` (`n x r`, `r x p`, finite and non-negative)
    /// or the initialisation chosen by [`init`](Nmf::init).
    fn fit_from(
        &self,
        v: NmfData<'a, T>,
        start: Option<(Mat<T>, Mat<T>)>,
        exec: &Exec<'_>,
    ) -> Result<NmfFit<T>> {
        self.validate()?;
        let rows = v.rows();
        let v = Data::new(v, rows.as_ref());
        v.check()?;
        let (n, p) = v.shape();
        let r = self.rank;
        let (w0, h0) = match start {
            None => {
                if r > n.min(p) {
                    return Err(invalid(
                        "nmf",
                        "rank",
                        r,
                        "the rank is at most min(rows, columns) of V",
                    ));
                }
                self.initial(v, exec)?
            }
            Some((w0, h0)) => {
                if (w0.nrows(), w0.ncols(), h0.nrows(), h0.ncols()) != (n, r, r, p) {
                    return Err(LearnError::ShapeMismatch {
                        method: "nmf",
                        what: "initial factors",
                        expected: format!("W {n} x {r} and H {r} x {p}"),
                        found: format!(
                            "W {} x {} and H {} x {}",
                            w0.nrows(),
                            w0.ncols(),
                            h0.nrows(),
                            h0.ncols()
                        ),
                    });
                }
                let bad = |m: &Mat<T>| {
                    (0..m.ncols())
                        .any(|j| m.col(j).iter().any(|&x| !(x.is_finite() && x >= T::zero())))
                };
                if bad(&w0) || bad(&h0) {
                    return Err(invalid(
                        "nmf",
                        "initial factors",
                        "a negative or non-finite entry",
                        "initial W and H must be finite and non-negative",
                    ));
                }
                (w0, h0)
            }
        };
        self.run(v, w0, h0, exec)
    }
}
