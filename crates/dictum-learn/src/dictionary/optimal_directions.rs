//! MOD, the method of optimal directions (Engan, Aase & Husøy, *Method of optimal directions
//! for frame design*, ICASSP 1999): after coding, the dictionary is the least-squares solution
//! `D = Y·Xᵀ·(X·Xᵀ + εI)⁻¹`, then its columns are normalized.

use dictum_coding::{Dictionary, Encoder};
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Mat, MatRef, Par, Real, cholesky, triangular};
use rayon::prelude::*;

use super::atom::RowIndex;
use super::driver::{DictionaryUpdate, learn, starting_dictionary};
use super::{Common, Learned, SparseModel, common_setters};
use crate::error::{Result, invalid};
use crate::fit::Learner;
use crate::rng::Rng;

/// MOD with `E` as its coding step.
#[derive(Debug, Clone, PartialEq)]
pub struct Mod<E> {
    n_atoms: usize,
    coder: E,
    reg: f64,
    pub(crate) common: Common,
}

impl<E> Mod<E> {
    /// MOD learning `n_atoms` atoms with `coder` as its coding step; ridge `1e-6` (relative).
    pub fn new(n_atoms: usize, coder: E) -> Self {
        Self {
            n_atoms,
            coder,
            reg: 1e-6,
            common: Common::default(),
        }
    }

    /// Ridge `ε` relative to the mean diagonal of `X·Xᵀ`: it keeps the solve well posed when
    /// atoms are rarely used or their codes are collinear.
    pub fn reg(mut self, reg: f64) -> Self {
        self.reg = reg;
        self
    }

    common_setters!();

    /// Checks the parameters; `fit` calls it.
    pub fn validate(&self) -> Result<()> {
        if self.n_atoms == 0 {
            return Err(invalid("mod", "n_atoms", 0, "learn at least one atom"));
        }
        if !(self.reg.is_finite() && self.reg >= 0.0) {
            return Err(invalid(
                "mod",
                "reg",
                self.reg,
                "a finite number ≥ 0, e.g. 1e-6",
            ));
        }
        self.common.validate("mod")
    }
}

impl<'a, T: Real, E: Encoder<T>> Learner<MatRef<'a, T>> for Mod<E> {
    type Start = MatRef<'a, T>;
    type Model = SparseModel<T>;

    /// Learns a dictionary for `y` (`d x N`), from `d0` (`d x n_atoms`, normalized here) or
    /// the initial dictionary chosen by `init`.
    fn fit_from(
        &self,
        y: MatRef<'a, T>,
        d0: Option<MatRef<'a, T>>,
        exec: &Exec<'_>,
    ) -> Result<Learned<T>> {
        self.validate()?;
        let c = &self.common;
        let (y, d0, rng) = starting_dictionary("mod", y, self.n_atoms, d0, c.init, exec)?;
        learn(y, d0, &self.coder, self, c, rng, exec)
    }
}

impl<T: Real, E> DictionaryUpdate<T> for Mod<E> {
    fn update(
        &self,
        y: MatRef<'_, T>,
        dict: &mut Dictionary<'static, T>,
        codes: &mut CscMatrix<T>,
        _rng: &mut Rng,
        exec: &Exec<'_>,
    ) -> Result<()> {
        let par = exec.par();
        let (d, m) = (dict.dim(), dict.n_atoms());
        let rows = RowIndex::new(codes);
        // Column a of X·Xᵀ and of Y·Xᵀ from atom a's users: parallel over atoms, and the
        // sums run in a fixed order whatever the thread count.
        let column = |a: usize| {
            let mut c = vec![T::zero(); m];
            let mut b = vec![T::zero(); d];
            let (sig, pos) = rows.row(a);
            for (&j, &p) in sig.iter().zip(pos) {
                let v = codes.values()[p];
                let (r, vals) = codes.col(j as usize);
                for (&i, &w) in r.iter().zip(vals) {
                    c[i as usize] += v * w;
                }
                let yj = y.col(j as usize);
                for i in 0..d {
                    b[i] += v * yj[i];
                }
            }
            (c, b)
        };
        let cols: Vec<(Vec<T>, Vec<T>)> = match par {
            Par::Seq => (0..m).map(column).collect(),
            Par::Rayon(_) => (0..m).into_par_iter().map(column).collect(),
        };
        let trace = (0..m).fold(T::zero(), |s, a| s + cols[a].0[a]);
        let ridge =
            T::cast_f64(self.reg) * trace / T::cast_usize(m) + T::epsilon() * T::cast_f64(16.0);
        let gram = Mat::from_fn(m, m, |i, j| {
            cols[j].0[i] + if i == j { ridge } else { T::zero() }
        });
        // C·Dᵀ = (Y·Xᵀ)ᵀ with C = X·Xᵀ + εI symmetric positive definite.
        let mut dt = Mat::from_fn(m, d, |a, i| cols[a].1[i]);
        let l = cholesky::cholesky_lower(gram.as_ref(), par)?;
        triangular::solve_lower_in_place(l.as_ref(), dt.as_mut(), par)?;
        triangular::solve_upper_in_place(l.transpose(), dt.as_mut(), par)?;
        for a in 0..m {
            let nrm = (0..d)
                .fold(T::zero(), |s, i| s + dt[(a, i)] * dt[(a, i)])
                .sqrt();
            // An unused atom solves to zero: keep it (replacement deals with it next).
            if nrm > T::zero() && nrm.is_finite() {
                let atom: Vec<T> = (0..d).map(|i| dt[(a, i)] / nrm).collect();
                dict.set_atom(a, &atom)?;
            }
        }
        Ok(())
    }
}
