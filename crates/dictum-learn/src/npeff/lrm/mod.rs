//! LRM-NPEFF: `min_{W ≥ 0, G} Σ_i ‖S_i·S_iᵀ − Σ_j W_ij·g_j·g_jᵀ‖²_F` over low-rank PEFs
//! `F_i = S_i·S_iᵀ` (Matena & Raffel, arXiv 2310.04649, §3.2).
//!
//! No `p x p` matrix is formed. With `AG_i = S_iᵀ·Gᵀ` (`rank_i x r`), `M = G·Gᵀ` and
//! `N_ij = ‖S_iᵀ·g_j‖² = Σ_c AG_i[c, j]²`, the loss is
//! `Σ_i ‖S_iᵀS_i‖²_F − 2·Σ_ij W_ij·N_ij + Σ_i w_iᵀ·(M∘M)·w_i`, and its gradient in `G` is
//! `4·(((WᵀW)∘M)·G − Σ_i diag(w_i)·AG_iᵀ·S_iᵀ)`: every term costs `O(nnz·r)` per example.
//!
//! `W` takes multiplicative updates `W ← W ⊙ N ⊘ (W·(M∘M) + ε)` (which never increase the
//! loss); `G` takes gradient steps. Where the reference uses a fixed step, dictum adapts it
//! ("bold driver"): a step that raised the loss is undone and halved, a good one grows by
//! 5%, so the loss never increases and no step size needs tuning. An optional regularizer
//! `¼·λ·‖offdiag(G·Gᵀ)‖²_F` pushes components towards orthogonality. Each example may have
//! its own rank (LVRM-PEFs); components can be added to a fitted decomposition with the old
//! ones frozen ([`LrmNpeff::expand`]); [`fit_lrm_coefficients`] fits `W` for new examples.

use dictum_linalg::exec::{Exec, IterationStats};

use super::data::{LrmNpeffDecomposition, LrmPefs};
use crate::error::{LearnError, Result, invalid};
use crate::fit::{Fit, Learner, Monitor, Progression, Stopping};
use crate::rng::Rng;

mod objective;

use objective::{Prepared, State};

const METHOD: &str = "lrm-npeff";

/// LRM-NPEFF parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LrmNpeff {
    n_components: usize,
    n_iters_g_only: usize,
    n_iters_joint: usize,
    learning_rate_g: f64,
    mu_eps: f64,
    orthogonal_regularization: f64,
    min_nonzero_per_parameter: usize,
    log_loss_frequency: usize,
}

/// Parameters with at least `min` non-zero entries over all examples, sorted.
fn kept_parameters(pefs: &LrmPefs, min: usize) -> Vec<i32> {
    let mut count = vec![0usize; pefs.n_parameters];
    for (&p, &v) in pefs.row_indices.iter().zip(&pefs.values) {
        if v != 0.0 {
            count[p as usize] += 1;
        }
    }
    (0..pefs.n_parameters)
        .filter(|&p| count[p] >= min.max(1))
        .map(|p| p as i32)
        .collect()
}

fn check_pefs(pefs: &LrmPefs) -> Result<()> {
    if pefs.n_examples() == 0 {
        return Err(LearnError::Empty {
            method: METHOD,
            nrows: 0,
            ncols: pefs.n_parameters,
        });
    }
    if let Some(i) = pefs.values.iter().position(|v| !v.is_finite()) {
        return Err(LearnError::NonFinite {
            method: METHOD,
            signal: i / pefs.nnz.max(1),
        });
    }
    Ok(())
}

/// LRM-NPEFF runs its iterations to the end: the loss is reported, never a reason to stop.
static RUN_TO_THE_END: Stopping = Stopping {
    max_iter: usize::MAX,
    tol: None,
    max_time: None,
    target_nnz: None,
};
impl LrmNpeff {
    /// `n_components` components: 100 G-only iterations, then 500 joint ones, initial step
    /// `1e-3` (adapted), `ε = 1e-9`, no orthogonality penalty, every parameter with an entry
    /// kept, a loss logged every 10 iterations.
    pub fn new(n_components: usize) -> Self {
        Self {
            n_components,
            n_iters_g_only: 100,
            n_iters_joint: 500,
            learning_rate_g: 1e-3,
            mu_eps: 1e-9,
            orthogonal_regularization: 0.0,
            min_nonzero_per_parameter: 1,
            log_loss_frequency: 10,
        }
    }

    /// Iterations that update `G` only (from the initial `W`).
    pub fn n_iters_g_only(mut self, n: usize) -> Self {
        self.n_iters_g_only = n;
        self
    }

    /// Iterations that update `W` then `G`.
    pub fn n_iters_joint(mut self, n: usize) -> Self {
        self.n_iters_joint = n;
        self
    }

    /// Initial step size of `G` (adapted as the module doc says).
    pub fn learning_rate_g(mut self, lr: f64) -> Self {
        self.learning_rate_g = lr;
        self
    }

    /// `ε` of the multiplicative update's denominator.
    pub fn mu_eps(mut self, eps: f64) -> Self {
        self.mu_eps = eps;
        self
    }

    /// Weight `λ` of `¼·λ·‖offdiag(G·Gᵀ)‖²_F`.
    pub fn orthogonal_regularization(mut self, l: f64) -> Self {
        self.orthogonal_regularization = l;
        self
    }

    /// Drop parameters with fewer non-zero entries than this over all examples.
    pub fn min_nonzero_per_parameter(mut self, n: usize) -> Self {
        self.min_nonzero_per_parameter = n;
        self
    }

    /// Iterations between two recorded losses.
    pub fn log_loss_frequency(mut self, n: usize) -> Self {
        self.log_loss_frequency = n;
        self
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.n_components == 0 {
            return Err(invalid(METHOD, "n_components", 0, "at least 1"));
        }
        if self.n_iters_g_only + self.n_iters_joint == 0 {
            return Err(invalid(
                METHOD,
                "n_iters_joint",
                0,
                "at least one iteration in all",
            ));
        }
        for (name, v) in [
            ("learning_rate_g", self.learning_rate_g),
            ("mu_eps", self.mu_eps),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(invalid(METHOD, name, v, "a positive number"));
            }
        }
        if !(self.orthogonal_regularization >= 0.0 && self.orthogonal_regularization.is_finite()) {
            return Err(invalid(
                METHOD,
                "orthogonal_regularization",
                self.orthogonal_regularization,
                "a number ≥ 0",
            ));
        }
        if self.log_loss_frequency == 0 {
            return Err(invalid(METHOD, "log_loss_frequency", 0, "at least 1"));
        }
        Ok(())
    }

    /// Factorizes `pefs` (see [`Learner::fit`]).
    fn factorize(&self, pefs: &LrmPefs, exec: &Exec<'_>) -> Result<Fit<LrmNpeffDecomposition>> {
        self.validate()?;
        check_pefs(pefs)?;
        let kept = kept_parameters(pefs, self.min_nonzero_per_parameter);
        if kept.is_empty() {
            return Err(invalid(
                METHOD,
                "min_nonzero_per_parameter",
                self.min_nonzero_per_parameter,
                "no parameter has that many non-zero entries; lower it",
            ));
        }
        let data = Prepared::new(pefs, &kept, exec);
        let r = self.n_components;
        let mut rng = Rng::new(exec.seed());
        let g = initial_components(&data, r, &mut rng)?;
        let w = initial_coefficients(data.n_examples(), r, &mut rng);
        let mut state = State { w, g, r };
        let (g_only, joint, progress) = self.run(&data, &mut state, 0, exec)?;
        Ok(progress.finish(self.decomposition(pefs, kept, state, g_only, joint)))
    }

    /// Adds `n_new` components to `base`, fitted on `pefs` with `base`'s components frozen
    /// (its coefficients are refitted for `pefs`), over `base`'s parameters.
    pub fn expand(
        &self,
        pefs: &LrmPefs,
        base: &LrmNpeffDecomposition,
        exec: &Exec<'_>,
    ) -> Result<Fit<LrmNpeffDecomposition>> {
        self.validate()?;
        check_pefs(pefs)?;
        check_base(pefs, base)?;
        let data = Prepared::new(pefs, &base.kept_indices, exec);
        let (old, new) = (base.n_components, self.n_components);
        let r = old + new;
        let mut rng = Rng::new(exec.seed());
        let fresh = initial_components(&data, new, &mut rng)?;
        let mut g: Vec<f64> = base.g.iter().map(|&v| f64::from(v)).collect();
        g.extend(fresh);
        let w = initial_coefficients(data.n_examples(), r, &mut rng);
        let mut state = State { w, g, r };
        let (g_only, joint, progress) = self.run(&data, &mut state, old, exec)?;
        let decomp = self.decomposition(pefs, base.kept_indices.clone(), state, g_only, joint);
        Ok(progress.finish(decomp))
    }

    fn decomposition(
        &self,
        pefs: &LrmPefs,
        kept: Vec<i32>,
        state: State,
        g_only: Vec<f32>,
        joint: Vec<f32>,
    ) -> LrmNpeffDecomposition {
        LrmNpeffDecomposition {
            w: state.w.iter().map(|&v| v as f32).collect(),
            n_components: state.r,
            g: state.g.iter().map(|&v| v as f32).collect(),
            kept_indices: kept,
            n_parameters: pefs.n_parameters,
            n_classes: pefs.ranks.iter().copied().max().unwrap_or(0),
            log_loss_frequency: self.log_loss_frequency,
            losses_g_only: g_only,
            losses_joint: joint,
        }
    }

    /// Runs both phases; rows `0..frozen` of `G` never move. Every iteration is reported
    /// (its objective the loss before its updates, its error `√(loss / Σ‖F_i‖²)`) and may be
    /// cancelled.
    fn run<'s, 'e>(
        &self,
        data: &Prepared,
        state: &mut State,
        frozen: usize,
        exec: &Exec<'e>,
    ) -> Result<(Vec<f32>, Vec<f32>, Progression<'s, 'e>)> {
        let f = data.n_features;
        let total: f64 = data.energy.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        let mut lr = self.learning_rate_g;
        let ortho = self.orthogonal_regularization;
        let mut logs = (Vec::new(), Vec::new());
        let mut progress = Progression::new(&RUN_TO_THE_END, Monitor::Objective, exec);
        let mut iter = 0;
        for (joint, iters) in [(false, self.n_iters_g_only), (true, self.n_iters_joint)] {
            let mut m = state.gram(f, exec)?;
            let mut pass = state.pass(data, exec);
            let mut loss = state.loss(data, &pass, &m, ortho);
            for it in 1..=iters {
                if joint {
                    state.update_w(&pass, &m, self.mu_eps, exec);
                    loss = state.loss(data, &pass, &m, ortho);
                }
                if (it - 1) % self.log_loss_frequency == 0 {
                    let log = if joint { &mut logs.1 } else { &mut logs.0 };
                    log.push(loss as f32);
                }
                iter += 1;
                let stats = IterationStats {
                    iter,
                    objective: loss,
                    rel_error: (loss.max(0.0) / total).sqrt(),
                    mean_rel_residual: None,
                    mean_nnz: state.mean_nnz(),
                    replaced: 0,
                    seconds: progress.seconds(),
                };
                progress.record(stats, false)?;
                let grad = state.grad_g(data, &pass, &m, ortho, exec);
                let before = state.g.clone();
                // Try the step; halve it until the loss does not rise (a few halvings at
                // most once the step has settled).
                loop {
                    for (k, (g, d)) in state.g.iter_mut().zip(&grad).enumerate() {
                        if k / f >= frozen {
                            *g -= lr * d;
                        }
                    }
                    let m2 = state.gram(f, exec)?;
                    let pass2 = state.pass(data, exec);
                    let loss2 = state.loss(data, &pass2, &m2, ortho);
                    if loss2 <= loss || lr < 1e-12 {
                        if loss2 <= loss {
                            lr *= 1.05;
                            (m, pass, loss) = (m2, pass2, loss2);
                        } else {
                            state.g.copy_from_slice(&before);
                        }
                        break;
                    }
                    state.g.copy_from_slice(&before);
                    lr *= 0.5;
                }
            }
        }
        Ok((logs.0, logs.1, progress))
    }

    /// Checks and prepares `pefs` over the parameters of `decomp` (for tests: the loss of a
    /// decomposition).
    pub fn loss_of(decomp: &LrmNpeffDecomposition, pefs: &LrmPefs, exec: &Exec<'_>) -> Result<f64> {
        check_pefs(pefs)?;
        check_base(pefs, decomp)?;
        if decomp.n_examples() != pefs.n_examples() {
            return Err(LearnError::ShapeMismatch {
                method: METHOD,
                what: "PEFs (examples)",
                expected: decomp.n_examples().to_string(),
                found: pefs.n_examples().to_string(),
            });
        }
        let data = Prepared::new(pefs, &decomp.kept_indices, exec);
        let state = State {
            w: decomp.w.iter().map(|&v| f64::from(v)).collect(),
            g: decomp.g.iter().map(|&v| f64::from(v)).collect(),
            r: decomp.n_components,
        };
        let m = state.gram(data.n_features, exec)?;
        let pass = state.pass(&data, exec);
        Ok(state.loss(&data, &pass, &m, 0.0))
    }
}

fn check_base(pefs: &LrmPefs, base: &LrmNpeffDecomposition) -> Result<()> {
    if pefs.n_parameters != base.n_parameters {
        return Err(LearnError::ShapeMismatch {
            method: METHOD,
            what: "PEFs (parameters)",
            expected: base.n_parameters.to_string(),
            found: pefs.n_parameters.to_string(),
        });
    }
    Ok(())
}

/// Each component starts as the largest column of a distinct random example's `S_i`.
fn initial_components(data: &Prepared, r: usize, rng: &mut Rng) -> Result<Vec<f64>> {
    let n = data.n_examples();
    let f = data.n_features;
    let usable: Vec<usize> = (0..n).filter(|&i| data.energy[i] > 0.0).collect();
    if usable.is_empty() {
        return Err(LearnError::AllZero { method: METHOD });
    }
    let mut g = vec![0.0; r * f];
    let picks = if usable.len() >= r {
        rng.sample_indices(usable.len(), r)
    } else {
        (0..r).map(|_| rng.below(usable.len())).collect()
    };
    for (j, &pick) in picks.iter().enumerate() {
        let i = usable[pick];
        let ptr = &data.ptr[i];
        let best = (0..ptr.len() - 1)
            .max_by(|&a, &b| {
                let na: f64 = data.vals[i][ptr[a]..ptr[a + 1]].iter().map(|v| v * v).sum();
                let nb: f64 = data.vals[i][ptr[b]..ptr[b + 1]].iter().map(|v| v * v).sum();
                na.total_cmp(&nb).then(b.cmp(&a))
            })
            .unwrap_or(0);
        for k in ptr[best]..ptr[best + 1] {
            // A little noise keeps two picks of the same example apart.
            g[j * f + data.rows[i][k] as usize] = data.vals[i][k] * (1.0 + 0.01 * rng.normal());
        }
    }
    Ok(g)
}

fn initial_coefficients(n: usize, r: usize, rng: &mut Rng) -> Vec<f64> {
    (0..n * r)
        .map(|_| (0.5 + rng.uniform()) / r as f64)
        .collect()
}

/// Coefficients `W` (`[n_examples, n_components]` row-major) of new PEFs with `G` fixed:
/// for each example the non-negative least-squares problem
/// `min_{w ≥ 0} ‖S·Sᵀ − Σ_j w_j·g_j·g_jᵀ‖²_F`, solved by exact coordinate descent
/// (`max_sweeps` at most; stops when no coefficient moves by more than `1e-10` relative).
pub fn fit_lrm_coefficients(
    decomp: &LrmNpeffDecomposition,
    pefs: &LrmPefs,
    max_sweeps: usize,
    exec: &Exec<'_>,
) -> Result<Vec<f32>> {
    check_pefs(pefs)?;
    check_base(pefs, decomp)?;
    if max_sweeps == 0 {
        return Err(invalid(METHOD, "max_sweeps", 0, "at least 1"));
    }
    let data = Prepared::new(pefs, &decomp.kept_indices, exec);
    let r = decomp.n_components;
    let state = State {
        w: vec![0.0; data.n_examples() * r],
        g: decomp.g.iter().map(|&v| f64::from(v)).collect(),
        r,
    };
    let m = state.gram(data.n_features, exec)?;
    let k: Vec<f64> = m.iter().map(|v| v * v).collect();
    let pass = state.pass(&data, exec);
    let rows = exec.map(data.n_examples(), 16, |i| {
        nnls_quadratic(&k, &pass.n[i * r..(i + 1) * r], r, max_sweeps)
    });
    Ok(rows.into_iter().flatten().map(|v| v as f32).collect())
}

/// `argmin_{w ≥ 0} wᵀ·K·w − 2·nᵀ·w` by coordinate descent.
pub(crate) fn nnls_quadratic(k: &[f64], n: &[f64], r: usize, max_sweeps: usize) -> Vec<f64> {
    let mut w = vec![0.0; r];
    for _ in 0..max_sweeps {
        let mut moved = 0f64;
        let mut size = 0f64;
        for j in 0..r {
            let kjj = k[j * r + j];
            if kjj <= 0.0 {
                continue;
            }
            let s: f64 = (0..r)
                .filter(|&b| b != j)
                .map(|b| k[j * r + b] * w[b])
                .sum();
            let new = ((n[j] - s) / kjj).max(0.0);
            moved = moved.max((new - w[j]).abs());
            size = size.max(new.abs());
            w[j] = new;
        }
        if moved <= 1e-10 * size.max(f64::MIN_POSITIVE) {
            break;
        }
    }
    w
}

impl<'a> Learner<&'a LrmPefs> for LrmNpeff {
    type Start = std::convert::Infallible;
    type Model = LrmNpeffDecomposition;

    /// Factorizes `pefs`: the G-only iterations, then the joint ones, each reported to the
    /// observer. (To add components to a fitted decomposition, see [`LrmNpeff::expand`].)
    fn fit_from(
        &self,
        pefs: &'a LrmPefs,
        _start: Option<std::convert::Infallible>,
        exec: &Exec<'_>,
    ) -> Result<Fit<LrmNpeffDecomposition>> {
        self.factorize(pefs, exec)
    }
}
