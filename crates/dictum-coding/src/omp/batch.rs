//! Batch-OMP: Gram matrix, one GEMM per block, progressive Cholesky per signal.

use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use super::Selection;
use crate::dictionary::Dictionary;
use crate::error::Result;
use crate::packed::{solve_lower_in_place, solve_upper_in_place};
use crate::run::{BLOCK, BlockKernel, ColumnSink, RunOptions, block_correlations, run_blocks};
use crate::vector::{Columns, argmax_abs, dot, sub_combination, with_simd};

pub(super) fn encode<T: Real>(
    dict: &Dictionary<'_, T>,
    signals: MatRef<'_, T>,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
    opts: &RunOptions<'_>,
) -> Result<CscMatrix<T>> {
    let mut slot = None;
    let gram = dict.gram_or_compute(&mut slot, opts.par())?;
    let gram = Columns::new(gram);
    let diag = (0..dict.n_atoms()).map(|j| gram.col(j)[j]).collect();
    let kernel = Kernel {
        atoms: dict.atoms(),
        gram,
        diag,
        kmax,
        tol,
        selection,
    };
    run_blocks(&kernel, dict.n_atoms(), signals, opts)
}

struct Kernel<'a, T> {
    atoms: MatRef<'a, T>,
    gram: Columns<'a, T>,
    diag: Vec<T>,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
}

pub(crate) struct Work<T> {
    corr: Mat<T>,
    state: SignalState<T>,
    ormp: Option<OrmpState<T>>,
}

/// Per-signal scratch of Batch-OMP, sized once for the largest support.
pub(crate) struct SignalState<T> {
    /// Correlations of the current residual with every atom.
    alpha: Vec<T>,
    support: Vec<u32>,
    /// Atoms refused because they are (numerically) in the span of the support.
    banned: Vec<u32>,
    /// Cholesky factor of the support's Gram block, row-major lower triangle, `kmax x kmax`.
    l: Vec<T>,
    /// `L⁻¹·α0_I`: grows by one entry per step, earlier entries never change.
    z: Vec<T>,
    /// Coefficients on the support, `(L·Lᵀ)⁻¹·α0_I`.
    gamma: Vec<T>,
    w: Vec<T>,
}

impl<T: Real> SignalState<T> {
    pub(crate) fn new(m: usize, kmax: usize) -> Self {
        Self {
            alpha: vec![T::zero(); m],
            support: Vec::with_capacity(kmax),
            banned: Vec::new(),
            l: vec![T::zero(); kmax * kmax],
            z: vec![T::zero(); kmax],
            gamma: vec![T::zero(); kmax],
            w: vec![T::zero(); kmax],
        }
    }

    /// The support and coefficients found by the last [`run`](Self::run).
    pub(crate) fn result(&self) -> (&[u32], &[T]) {
        let s = self.support.len();
        (&self.support, &self.gamma[..s])
    }

    /// Batch-OMP on one signal with correlations `a0 = Dᵀ·y` and `‖y‖² = ynorm2`.
    #[inline(always)]
    pub(crate) fn run(
        &mut self,
        gram: &Columns<'_, T>,
        a0: &[T],
        ynorm2: T,
        kmax: usize,
        tol: Option<T>,
    ) {
        let stride = kmax;
        self.alpha.copy_from_slice(a0);
        self.support.clear();
        self.banned.clear();
        let mut resid2 = ynorm2;
        if tol.is_some_and(|t| resid2 <= t) {
            return;
        }
        // Correlations below this are rounding noise of a residual that is already zero.
        let noise = T::epsilon() * T::cast_f64(4.0) * ynorm2.sqrt();
        let mut s = 0;
        while s < kmax {
            let (j, amax) = argmax_abs(&self.alpha);
            if amax <= noise {
                break;
            }
            let gj = gram.col(j);
            for t in 0..s {
                self.w[t] = gj[self.support[t] as usize];
            }
            solve_lower_in_place(&self.l, stride, &mut self.w[..s]);
            let pivot2 = gj[j] - dot(&self.w[..s], &self.w[..s]);
            let floor = T::epsilon() * T::cast_usize(100 * (s + 1)) * gj[j];
            if !(pivot2 > floor) {
                // `j` lies in the span of the support (a duplicate or collinear atom): adding it
                // would only amplify rounding. Refuse it and look at the next best atom.
                self.banned.push(j as u32);
                self.alpha[j] = T::zero();
                continue;
            }
            let pivot = pivot2.sqrt();
            let (row, _) = self.l[s * stride..].split_at_mut(s + 1);
            row[..s].copy_from_slice(&self.w[..s]);
            row[s] = pivot;
            self.z[s] = (a0[j] - dot(&row[..s], &self.z[..s])) / pivot;
            self.support.push(j as u32);
            s += 1;
            // Lᵀ·γ = z by back substitution.
            self.gamma[..s].copy_from_slice(&self.z[..s]);
            solve_upper_in_place(&self.l, stride, &mut self.gamma[..s]);
            if let Some(t) = tol {
                // ‖r‖² = ‖y‖² − γᵀ·α0_I = ‖y‖² − ‖z‖²: no residual needed.
                resid2 -= self.z[s - 1] * self.z[s - 1];
                if resid2 <= t {
                    break;
                }
            }
            if s == kmax {
                break;
            }
            // α = α0 − G_I·γ; chosen and refused atoms are zeroed so they are not picked again.
            sub_combination(&mut self.alpha, a0, gram, &self.support, &self.gamma[..s]);
            for &i in self.support.iter().chain(self.banned.iter()) {
                self.alpha[i as usize] = T::zero();
            }
        }
    }
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        Work {
            corr: Mat::zeros(self.atoms.ncols(), BLOCK),
            state: SignalState::new(self.atoms.ncols(), self.kmax),
            ormp: (self.selection == Selection::Ormp)
                .then(|| OrmpState::new(self.atoms.ncols(), self.kmax)),
        }
    }

    fn nnz_hint(&self) -> usize {
        self.kmax.min(64)
    }

    fn encode_block(
        &self,
        work: &mut Work<T>,
        _first: usize,
        signals: MatRef<'_, T>,
        out: &mut ColumnSink<T>,
    ) {
        let n = signals.ncols();
        let Some(corr) = block_correlations(&mut work.corr, self.atoms, signals, out) else {
            return;
        };
        let ys = Columns::new(signals);
        let state = &mut work.state;
        let ormp = &mut work.ormp;
        with_simd(
            #[inline(always)]
            || {
                for c in 0..n {
                    let ynorm2 = dot(ys.col(c), ys.col(c));
                    if let Some(o) = ormp.as_mut() {
                        o.run(
                            &self.gram,
                            &self.diag,
                            corr.col(c),
                            ynorm2,
                            self.kmax,
                            self.tol,
                        );
                        let (rows, vals) = o.result();
                        out.push(rows, vals);
                    } else {
                        state.run(&self.gram, corr.col(c), ynorm2, self.kmax, self.tol);
                        let (rows, vals) = state.result();
                        out.push(rows, vals);
                    }
                }
            },
        );
    }
}

/// Per-signal scratch of Batch-ORMP (order-recursive matching pursuit).
///
/// ORMP picks the atom whose *orthogonalized* direction `P⊥d_j` (its part orthogonal to the
/// support) best explains the residual, i.e. the largest `(d_jᵀr)² / ‖P⊥d_j‖²`: the largest
/// decrease of the residual. Rows of `u` hold `u_t = Dᵀq_t` for the orthonormal directions
/// `q_t` of the support (Gram–Schmidt carried out in correlation space), so that
/// `‖P⊥d_j‖² = G_jj − Σ_t u_t[j]²` and `α ← α − z_t·u_t` cost `O(m)` each.
pub(crate) struct OrmpState<T> {
    alpha: Vec<T>,
    /// `‖P⊥d_j‖²` for every atom.
    nu: Vec<T>,
    score: Vec<T>,
    /// `kmax` rows of length `m`.
    u: Vec<T>,
    support: Vec<u32>,
    l: Vec<T>,
    z: Vec<T>,
    gamma: Vec<T>,
    m: usize,
}

impl<T: Real> OrmpState<T> {
    pub(crate) fn new(m: usize, kmax: usize) -> Self {
        Self {
            alpha: vec![T::zero(); m],
            nu: vec![T::zero(); m],
            score: vec![T::zero(); m],
            u: vec![T::zero(); kmax * m],
            support: Vec::with_capacity(kmax),
            l: vec![T::zero(); kmax * kmax],
            z: vec![T::zero(); kmax],
            gamma: vec![T::zero(); kmax],
            m,
        }
    }

    /// The support and coefficients found by the last [`run`](Self::run).
    pub(crate) fn result(&self) -> (&[u32], &[T]) {
        let s = self.support.len();
        (&self.support, &self.gamma[..s])
    }

    /// Batch-ORMP on one signal (arguments as [`SignalState::run`]; `diag` is G's diagonal).
    #[inline(always)]
    pub(crate) fn run(
        &mut self,
        gram: &Columns<'_, T>,
        diag: &[T],
        a0: &[T],
        ynorm2: T,
        kmax: usize,
        tol: Option<T>,
    ) {
        let m = self.m;
        self.alpha.copy_from_slice(a0);
        // The diagonal is gathered once per run: reading it from G touches m cache lines.
        self.nu.copy_from_slice(diag);
        self.support.clear();
        let mut resid2 = ynorm2;
        if tol.is_some_and(|t| resid2 <= t) {
            return;
        }
        let noise = T::epsilon() * T::cast_f64(4.0) * ynorm2.sqrt();
        let mut s = 0;
        while s < kmax {
            // A direction this short is the span of the support up to rounding: never pick it.
            let floor = T::epsilon() * T::cast_usize(100 * (s + 1));
            for ((sc, &a), &nu) in self.score.iter_mut().zip(&self.alpha).zip(&self.nu) {
                *sc = if nu > floor { a * a / nu } else { T::zero() };
            }
            let (j, best) = crate::vector::argmax_abs(&self.score);
            if best <= noise * noise {
                break;
            }
            // The new row of the Cholesky factor is column j of U; its pivot is ‖P⊥d_j‖.
            let pivot = self.nu[j].sqrt();
            for t in 0..s {
                self.l[s * kmax + t] = self.u[t * m + j];
            }
            self.l[s * kmax + s] = pivot;
            self.z[s] = (a0[j] - dot(&self.l[s * kmax..s * kmax + s], &self.z[..s])) / pivot;
            // u_s = (G[:, j] − Σ_t L[s,t]·u_t) / pivot.
            {
                let (done, rest) = self.u.split_at_mut(s * m);
                let us = &mut rest[..m];
                crate::vector::sub_rows(us, gram.col(j), done, m, &self.l[s * kmax..s * kmax + s]);
                let inv = T::one() / pivot;
                let zs = self.z[s];
                for ((a, nu), al) in us
                    .iter_mut()
                    .zip(self.nu.iter_mut())
                    .zip(self.alpha.iter_mut())
                {
                    *a *= inv;
                    *nu -= *a * *a;
                    *al -= zs * *a;
                }
            }
            self.support.push(j as u32);
            // Rounding leaves tiny values for chosen atoms; they must not be picked again.
            for &i in &self.support {
                self.alpha[i as usize] = T::zero();
            }
            s += 1;
            if let Some(t) = tol {
                resid2 -= self.z[s - 1] * self.z[s - 1];
                if resid2 <= t {
                    break;
                }
            }
        }
        // Lᵀ·γ = z once, at the end.
        let s = self.support.len();
        self.gamma[..s].copy_from_slice(&self.z[..s]);
        solve_upper_in_place(&self.l, kmax, &mut self.gamma[..s]);
    }
}
