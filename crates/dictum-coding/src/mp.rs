//! Matching Pursuit (Mallat & Zhang, *Matching pursuits with time-frequency dictionaries*,
//! IEEE TSP 1993).
//!
//! MP repeatedly picks the atom most correlated with the residual and moves the residual
//! along it by that correlation, without re-fitting earlier coefficients; an atom may be
//! picked again. It is cheaper per step than OMP but needs more steps for the same error.
//! With the Gram matrix `Dᵀ·D` (as KSVD.jl's `DtD` option) every step costs `O(m)` after one
//! GEMM per block; without it, `O(d·m)`. With the Gram matrix, on a backend that runs the
//! fused pursuit (a GPU), every step runs on the device.

use dictum_linalg::backend::PursuitRule;
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::error::{CodingError, Result, check_stopping_rule, invalid};
use crate::offload;
use crate::run::{Block, BlockKernel, ColumnSink, run_blocks};
use crate::vector::{Columns, argmax_abs, axpy, dot, with_simd};

/// Whether Matching Pursuit uses the Gram matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GramUse {
    /// Use it when it is small (`m ≤ 4096`, 128 MiB in f64) or already given.
    #[default]
    Auto,
    /// Always use it (`O(m)` per step, `m²` memory).
    Always,
    /// Never: correlations are recomputed from the residual (`O(d·m)` per step).
    Never,
}

/// Parameters of Matching Pursuit (see the [module docs](self)).
///
/// It stops at the first of: `n_nonzero_coefs` distinct atoms (a step that would add one more
/// is not taken), squared residual norm `≤ tol`, `max_iter` steps, or a residual orthogonal to
/// every atom.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchingPursuit {
    n_nonzero_coefs: Option<usize>,
    tol: Option<f64>,
    max_iter: Option<usize>,
    gram: GramUse,
}

impl Default for MatchingPursuit {
    fn default() -> Self {
        Self::new()
    }
}

impl MatchingPursuit {
    /// MP with no stopping rule yet: set [`n_nonzero_coefs`](Self::n_nonzero_coefs),
    /// [`tol`](Self::tol), or both.
    pub fn new() -> Self {
        Self {
            n_nonzero_coefs: None,
            tol: None,
            max_iter: None,
            gram: GramUse::Auto,
        }
    }

    /// At most `k` distinct atoms per signal.
    pub fn n_nonzero_coefs(mut self, k: usize) -> Self {
        self.n_nonzero_coefs = Some(k);
        self
    }

    /// Stop when `‖y − D·x‖² ≤ tol`.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = Some(tol);
        self
    }

    /// At most this many steps (default `max(100, 4·k)`).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = Some(n);
        self
    }

    /// Whether to use the Gram matrix (default [`GramUse::Auto`]).
    pub fn gram(mut self, gram: GramUse) -> Self {
        self.gram = gram;
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        const NAME: &str = "mp";
        check_stopping_rule(NAME, self.n_nonzero_coefs, self.tol)?;
        if self.max_iter == Some(0) {
            return Err(invalid(NAME, "max_iter", 0, "must be at least 1"));
        }
        Ok(())
    }
}

impl MatchingPursuit {
    /// `mp`.
    pub fn name(&self) -> &'static str {
        "mp"
    }

    /// Codes `signals` with parameters already checked.
    pub(crate) fn run<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        dict.check_signal_shape("mp", signals.view())?;
        let m = dict.n_atoms();
        let k = self.n_nonzero_coefs.unwrap_or(m);
        if k > m {
            return Err(CodingError::SparsityExceedsAtoms { method: "mp", k, m });
        }
        let use_gram = match self.gram {
            GramUse::Always => true,
            GramUse::Never => false,
            GramUse::Auto => dict.gram().is_some() || m <= 4096,
        };
        let mut slot = None;
        let gram = if use_gram {
            Some(dict.gram_or_compute(&mut slot, exec)?)
        } else {
            None
        };
        let max_iter = self.max_iter.unwrap_or(100.max(4 * k));
        let tol = self.tol.map(T::cast_f64);
        if gram.is_some() {
            let rule = PursuitRule::Mp {
                max_steps: max_iter,
            };
            if let Some(codes) = offload::encode(dict, gram, signals, k, tol, rule, exec)? {
                return Ok(codes);
            }
        }
        let gram = gram.map(Columns::new);
        let kernel = Kernel {
            dim: dict.dim(),
            m,
            atom_cols: Columns::new(dict.atoms()),
            gram,
            k,
            tol,
            max_iter,
        };
        run_blocks(&kernel, dict, signals, exec)
    }
}

struct Kernel<'a, T> {
    dim: usize,
    m: usize,
    atom_cols: Columns<'a, T>,
    gram: Option<Columns<'a, T>>,
    k: usize,
    tol: Option<T>,
    max_iter: usize,
}

struct Work<T> {
    alpha: Vec<T>,
    r: Vec<T>,
    x: Vec<T>,
    touched: Vec<u32>,
    vals: Vec<T>,
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        let m = self.m;
        Work {
            alpha: vec![T::zero(); m],
            r: vec![T::zero(); self.dim],
            x: vec![T::zero(); m],
            touched: Vec::with_capacity(self.k),
            vals: Vec::with_capacity(self.k),
        }
    }

    fn nnz_hint(&self) -> usize {
        self.k.min(64)
    }

    fn encode_block(&self, w: &mut Work<T>, block: &Block<'_, T>, out: &mut ColumnSink<T>) {
        let (signals, corr) = (block.signals, &block.corr);
        let n = signals.ncols();
        let Work {
            alpha,
            r,
            x,
            touched,
            vals,
        } = w;
        with_simd(
            #[inline(always)]
            || {
                for c in 0..n {
                    alpha.copy_from_slice(corr.col(c));
                    let y = signals.col(c);
                    for (i, ri) in r.iter_mut().enumerate() {
                        *ri = y[i];
                    }
                    let mut resid2 = dot(r, r);
                    let noise = T::epsilon() * T::cast_f64(4.0) * resid2.sqrt();
                    touched.clear();
                    for _ in 0..self.max_iter {
                        if self.tol.is_some_and(|t| resid2 <= t) {
                            break;
                        }
                        let (j, amax) = argmax_abs(alpha);
                        if amax <= noise {
                            break;
                        }
                        if !touched.contains(&(j as u32)) {
                            if touched.len() == self.k {
                                break;
                            }
                            touched.push(j as u32);
                        }
                        let a = alpha[j];
                        x[j] += a;
                        resid2 -= a * a;
                        match &self.gram {
                            Some(g) => axpy(alpha, -a, g.col(j)),
                            None => {
                                axpy(r, -a, self.atom_cols.col(j));
                                for (t, at) in alpha.iter_mut().enumerate() {
                                    *at = dot(self.atom_cols.col(t), r);
                                }
                            }
                        }
                    }
                    vals.clear();
                    for &j in touched.iter() {
                        vals.push(x[j as usize]);
                        x[j as usize] = T::zero();
                    }
                    out.push(touched, vals);
                }
            },
        );
    }
}
