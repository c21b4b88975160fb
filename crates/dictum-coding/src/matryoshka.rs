//! Matryoshka (nested) coding, DB-KSVD's `MatryoshkaLoop` (Valentin et al., arXiv
//! 2505.18441): the atoms form nested groups, prefixes of growing size `s_1 < s_2 < … = m`;
//! each stage codes the residual left by the previous stages over the first `s_g` atoms with
//! its share of the non-zeros. Learned with it (as any learner's coding step), every prefix of
//! the dictionary is a good dictionary on its own: the first atoms carry the coarse structure.

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscBuilder, CscMatrix, Mat, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::encoder::Encoder;
use crate::error::{CodingError, Result};
use crate::omp::Omp;

/// Nested OMP coding with `k` non-zeros shared equally among the groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Matryoshka {
    k: usize,
    prefixes: Option<Vec<usize>>,
    first: usize,
}

impl Matryoshka {
    /// `k` non-zeros per signal; groups double from 64 atoms (prefixes 64, 128, 256, …, m), as
    /// KSVD.jl's default `log2min = 6`.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            prefixes: None,
            first: 64,
        }
    }

    /// Size of the first group when prefixes double (default 64).
    pub fn first_group(mut self, atoms: usize) -> Self {
        self.first = atoms;
        self
    }

    /// Explicit prefix sizes, increasing; the last must be the number of atoms.
    pub fn prefixes(mut self, prefixes: Vec<usize>) -> Self {
        self.prefixes = Some(prefixes);
        self
    }

    /// `matryoshka`.
    pub fn name(&self) -> &'static str {
        "matryoshka"
    }

    /// Checks the parameters on their own (the prefixes against the dictionary are checked
    /// when it codes).
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(CodingError::InvalidParameter {
                method: "matryoshka",
                name: "k",
                value: "0".into(),
                hint: "at least one non-zero per signal",
            });
        }
        if self.prefixes.is_none() && self.first == 0 {
            return Err(CodingError::InvalidParameter {
                method: "matryoshka",
                name: "prefixes",
                value: "first group 0".into(),
                hint: "the first group holds at least one atom",
            });
        }
        Ok(())
    }

    /// The prefix sizes and non-zeros of each stage for a dictionary of `m` atoms.
    pub fn stages(&self, m: usize) -> Result<Vec<(usize, usize)>> {
        let bad = |value: String, hint: &'static str| CodingError::InvalidParameter {
            method: "matryoshka",
            name: "prefixes",
            value,
            hint,
        };
        if self.k == 0 {
            return Err(CodingError::InvalidParameter {
                method: "matryoshka",
                name: "k",
                value: "0".into(),
                hint: "at least one non-zero per signal",
            });
        }
        let prefixes = match &self.prefixes {
            Some(p) => p.clone(),
            None => {
                if self.first == 0 {
                    return Err(bad(
                        "first group 0".into(),
                        "the first group holds at least one atom",
                    ));
                }
                let mut p = Vec::new();
                let mut s = self.first.min(m);
                while s < m {
                    p.push(s);
                    s *= 2;
                }
                p.push(m);
                p
            }
        };
        if prefixes.is_empty()
            || prefixes.windows(2).any(|w| w[0] >= w[1])
            || prefixes[0] == 0
            || prefixes.last() != Some(&m)
        {
            return Err(bad(
                format!("{prefixes:?} for {m} atoms"),
                "increasing sizes, the last equal to the number of atoms",
            ));
        }
        // Stages beyond k get no non-zeros: keep the first k groups.
        let g = prefixes.len().min(self.k);
        let prefixes = &prefixes[prefixes.len() - g..];
        let (share, extra) = (self.k / g, self.k % g);
        Ok(prefixes
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, share + usize::from(i < extra)))
            .collect())
    }
}

impl Matryoshka {
    /// Codes `signals` with parameters already checked.
    pub(crate) fn run<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        dict.check_signal_shape("matryoshka", signals.view())?;
        let atoms = dict.atoms();
        let (d, m, n) = (atoms.nrows(), atoms.ncols(), signals.view().ncols());
        let stages = self.stages(m)?;
        let mut resid: Mat<T> = signals.view().to_owned();
        let mut parts: Vec<CscMatrix<T>> = Vec::with_capacity(stages.len());
        for &(s, k) in &stages {
            let sub = dict.prefix(s)?;
            let omp = Omp::new().n_nonzero_coefs(k.min(s)).check()?;
            // Residuals of checked signals need no check of their own.
            let codes = omp.encode_signals(&sub, signals.with_view(resid.as_ref()), exec)?;
            for j in 0..n {
                let (rows, vals) = codes.col(j);
                for (&a, &v) in rows.iter().zip(vals) {
                    let da = atoms.col(a as usize);
                    for i in 0..d {
                        resid[(i, j)] -= v * da[i];
                    }
                }
            }
            parts.push(codes);
        }
        // Merge the stages: an atom chosen by two stages gets the sum of its coefficients.
        let mut out = CscBuilder::with_capacity(m, n, n * self.k);
        let mut acc: Vec<(usize, T)> = Vec::new();
        for j in 0..n {
            acc.clear();
            for p in &parts {
                let (rows, vals) = p.col(j);
                for (&a, &v) in rows.iter().zip(vals) {
                    match acc.iter_mut().find(|(r, _)| *r == a as usize) {
                        Some((_, x)) => *x += v,
                        None => acc.push((a as usize, v)),
                    }
                }
            }
            acc.sort_by_key(|&(r, _)| r);
            out.push_column(acc.iter().copied().filter(|&(_, v)| v != T::zero()))
                .map_err(CodingError::Linalg)?;
        }
        Ok(out.finish())
    }
}
