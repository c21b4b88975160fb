//! Thresholding coders: one GEMM `Dᵀ·Y`, then a rule applied to each signal's correlations.
//!
//! - **Top-k** (hard thresholding): keep the `k` atoms of largest `|⟨d_j, y⟩|`. `k = 1` is
//!   vector quantization (the nearest atom in angle), the coder of the Sparse Manifold
//!   Transform (Chen, Paiton & Olshausen, NeurIPS 2018).
//! - **Soft**: `x_j = sign(c_j)·max(|c_j| − λ, 0)`, scikit-learn's `threshold` coder; the exact
//!   LASSO solution when `D` is orthonormal.
//! - **Relative** ("general quantization"): keep every atom whose `|c_j|` is at least
//!   `threshold · max_i |c_i|`.
//! - **Absolute**: keep every atom with `|c_j| ≥ threshold` (for unit-norm signals, a cosine
//!   similarity threshold); optionally force the best atom so no code is empty.
//!
//! Kept entries carry their correlation `c_j` (the soft rule shrinks it), or 1 with
//! [`Threshold::binary`]. With [`Threshold::positive`], only positive correlations count.
//! Top-k thresholding runs whole on a backend that offers the fused pursuit (a GPU); the other
//! rules run here, their `Dᵀ·Y` products on the backend.

use dictum_linalg::backend::PursuitRule;
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::error::{CodingError, Result, invalid};
use crate::offload;
use crate::run::{Block, BlockKernel, ColumnSink, run_blocks};
use crate::vector::{max_abs, with_simd};

/// Which correlations a [`Threshold`] coder keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdRule {
    /// The `k` largest in magnitude (ties: the lower atom index wins).
    TopK(usize),
    /// Shrink every correlation towards zero by `λ` (soft thresholding).
    Soft(f64),
    /// Keep those within a factor `τ ∈ (0, 1]` of the largest.
    Relative(f64),
    /// Keep those at least `t` in magnitude.
    Absolute(f64),
}

/// Parameters of a thresholding coder (see the [module docs](self)).
///
/// ```
/// use dictum_coding::{Dictionary, Encoder, Threshold};
/// use dictum_linalg::{exec::Exec, view};
/// let d = [1.0f64, 0.0, 0.0, 1.0];
/// let y = [0.3f64, -2.0];
/// let dict = Dictionary::new(view::col_major(&d, 2, 2)?)?;
/// let vq = Threshold::top_k(1).check()?;
/// let x = vq.encode(&dict, view::col_major(&y, 2, 1)?, &Exec::default())?;
/// assert_eq!(x.col(0), (&[1u32][..], &[-2.0][..]));
/// # Ok::<(), dictum_coding::CodingError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    rule: ThresholdRule,
    binary: bool,
    positive: bool,
    keep_best: bool,
}

impl Threshold {
    /// A coder with the given rule, signed correlation values.
    pub fn new(rule: ThresholdRule) -> Self {
        Self {
            rule,
            binary: false,
            positive: false,
            keep_best: false,
        }
    }

    /// Hard thresholding to the `k` largest correlations; `k = 1` is vector quantization.
    pub fn top_k(k: usize) -> Self {
        Self::new(ThresholdRule::TopK(k))
    }

    /// Soft thresholding by `lambda`.
    pub fn soft(lambda: f64) -> Self {
        Self::new(ThresholdRule::Soft(lambda))
    }

    /// Keep correlations within a factor `tau` of the best.
    pub fn relative(tau: f64) -> Self {
        Self::new(ThresholdRule::Relative(tau))
    }

    /// Keep correlations of magnitude at least `t`.
    pub fn absolute(t: f64) -> Self {
        Self::new(ThresholdRule::Absolute(t))
    }

    /// Store 1 instead of the correlation for every kept atom.
    pub fn binary(mut self, binary: bool) -> Self {
        self.binary = binary;
        self
    }

    /// Only positive correlations count (non-negative codes).
    pub fn positive(mut self, positive: bool) -> Self {
        self.positive = positive;
        self
    }

    /// With [`ThresholdRule::Absolute`], keep the best atom even when it is below `t`, so no
    /// code is empty (unless every correlation is zero).
    pub fn keep_best(mut self, keep: bool) -> Self {
        self.keep_best = keep;
        self
    }

    /// The rule.
    pub fn rule(&self) -> ThresholdRule {
        self.rule
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        const NAME: &str = "threshold";
        match self.rule {
            ThresholdRule::TopK(0) => Err(invalid(NAME, "k", 0, "must be at least 1")),
            ThresholdRule::Soft(l) if !(l.is_finite() && l >= 0.0) => {
                Err(invalid(NAME, "lambda", l, "must be finite and >= 0"))
            }
            ThresholdRule::Relative(t) if !(t > 0.0 && t <= 1.0) => Err(invalid(
                NAME,
                "threshold",
                t,
                "a relative threshold must be in (0, 1]",
            )),
            ThresholdRule::Absolute(t) if !(t.is_finite() && t >= 0.0) => {
                Err(invalid(NAME, "threshold", t, "must be finite and >= 0"))
            }
            _ => Ok(()),
        }
    }
}

impl Threshold {
    /// `threshold`.
    pub fn name(&self) -> &'static str {
        "threshold"
    }

    /// Codes `signals` with parameters already checked.
    pub(crate) fn run<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        dict.check_signal_shape("threshold", signals.view())?;
        let m = dict.n_atoms();
        if let ThresholdRule::TopK(k) = self.rule
            && k > m
        {
            return Err(CodingError::SparsityExceedsAtoms {
                method: "threshold",
                k,
                m,
            });
        }
        if let ThresholdRule::TopK(k) = self.rule {
            let rule = PursuitRule::TopK {
                positive: self.positive,
            };
            if let Some(mut codes) = offload::encode(dict, None, signals, k, None, rule, exec)? {
                if self.binary {
                    codes.values_mut().fill(T::one());
                }
                return Ok(codes);
            }
        }
        let kernel = Kernel { m, params: self };
        run_blocks(&kernel, dict, signals, exec)
    }
}

struct Kernel<'a> {
    m: usize,
    params: &'a Threshold,
}

struct Work<T> {
    order: Vec<(T, u32)>,
    rows: Vec<u32>,
    vals: Vec<T>,
}

impl<T: Real> BlockKernel<T> for Kernel<'_> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        let m = self.m;
        Work {
            order: Vec::with_capacity(m),
            rows: Vec::with_capacity(m),
            vals: Vec::with_capacity(m),
        }
    }

    fn nnz_hint(&self) -> usize {
        match self.params.rule {
            ThresholdRule::TopK(k) => k.min(64),
            _ => 8,
        }
    }

    fn encode_block(&self, w: &mut Work<T>, block: &Block<'_, T>, out: &mut ColumnSink<T>) {
        let n = block.signals.ncols();
        let corr = &block.corr;
        let Work { order, rows, vals } = w;
        let p = self.params;
        // The magnitude a rule compares: |c|, or c itself for non-negative codes.
        let score = |c: T| if p.positive { c } else { c.abs() };
        with_simd(
            #[inline(always)]
            || {
                for col in 0..n {
                    let c = corr.col(col);
                    rows.clear();
                    vals.clear();
                    match p.rule {
                        ThresholdRule::TopK(k) if k <= 32 => {
                            // Small k: keep the best k sorted; most atoms are rejected by one
                            // comparison with the current k-th best.
                            order.clear();
                            for (j, &v) in c.iter().enumerate() {
                                let sc = score(v);
                                if !(sc > T::zero()) {
                                    continue;
                                }
                                if order.len() == k && !(sc > order[k - 1].0) {
                                    continue;
                                }
                                if order.len() == k {
                                    order.pop();
                                }
                                let at = order.partition_point(|&(o, _)| o >= sc);
                                order.insert(at, (sc, j as u32));
                            }
                            for &(_, j) in order.iter() {
                                rows.push(j);
                                vals.push(c[j as usize]);
                            }
                        }
                        ThresholdRule::TopK(k) => {
                            order.clear();
                            order.extend(
                                c.iter()
                                    .enumerate()
                                    .map(|(j, &v)| (score(v), j as u32))
                                    .filter(|&(s, _)| s > T::zero()),
                            );
                            let by_score = |a: &(T, u32), b: &(T, u32)| {
                                b.0.partial_cmp(&a.0)
                                    .unwrap_or(std::cmp::Ordering::Equal)
                                    .then(a.1.cmp(&b.1))
                            };
                            if order.len() > k {
                                order.select_nth_unstable_by(k - 1, by_score);
                                order.truncate(k);
                            }
                            for &(_, j) in order.iter() {
                                rows.push(j);
                                vals.push(c[j as usize]);
                            }
                        }
                        ThresholdRule::Soft(l) => {
                            let l = T::cast_f64(l);
                            for (j, &v) in c.iter().enumerate() {
                                let s = score(v) - l;
                                if s > T::zero() {
                                    rows.push(j as u32);
                                    vals.push(if v < T::zero() { -s } else { s });
                                }
                            }
                        }
                        ThresholdRule::Relative(tau) => {
                            let best = if p.positive {
                                c.iter().fold(T::zero(), |a, &v| a.max(v))
                            } else {
                                max_abs(c)
                            };
                            let cut = best * T::cast_f64(tau);
                            if best > T::zero() {
                                for (j, &v) in c.iter().enumerate() {
                                    if score(v) >= cut {
                                        rows.push(j as u32);
                                        vals.push(v);
                                    }
                                }
                            }
                        }
                        ThresholdRule::Absolute(t) => {
                            let t = T::cast_f64(t);
                            let mut best: Option<(T, usize)> = None;
                            for (j, &v) in c.iter().enumerate() {
                                let s = score(v);
                                if s > T::zero() && s >= t {
                                    rows.push(j as u32);
                                    vals.push(v);
                                }
                                if s > T::zero() && best.is_none_or(|(b, _)| s > b) {
                                    best = Some((s, j));
                                }
                            }
                            if rows.is_empty()
                                && p.keep_best
                                && let Some((_, j)) = best
                            {
                                rows.push(j as u32);
                                vals.push(c[j]);
                            }
                        }
                    }
                    if p.binary {
                        vals.iter_mut().for_each(|v| *v = T::one());
                    }
                    out.push(rows, vals);
                }
            },
        );
    }
}
