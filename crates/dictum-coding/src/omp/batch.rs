//! Batch-OMP: Gram matrix, one GEMM per block, progressive Cholesky per signal.

use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use super::Selection;
use crate::dictionary::Dictionary;
use crate::error::Result;
use crate::packed::solve_upper_in_place;
use crate::run::{BLOCK, BlockKernel, ColumnSink, RunOptions, block_correlations, run_blocks};
use crate::vector::{
    Columns, argmax_abs, dot, first_abs_equal, new_direction, sub_rows, with_simd,
};

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
    states: [SignalState<T>; LOCKSTEP],
}

/// Signals advanced in lockstep: their steps are independent chains of dependent work,
/// which the CPU overlaps where one signal alone would wait on latencies.
const LOCKSTEP: usize = 2;

/// Per-signal scratch of Batch-OMP and Batch-ORMP, sized once for the largest support.
///
/// Both keep `U = G_I·L⁻ᵀ` (row `t` of `u` is `u_t = Dᵀq_t` for the orthonormal directions
/// `q_t` of the support: Gram–Schmidt carried out in correlation space), where `L·Lᵀ = G_II`.
/// Then the residual's correlations update as `α ← α − z_t·u_t`, the new row of `L` is column
/// `j` of `U`, and `γ` needs one back substitution at the end, not one per step: a step costs
/// `O(m·s)` with no triangular solve on its critical path.
///
/// OMP picks the largest `|α_j|` (Pati et al. 1993; Rubinstein et al. 2008 for the Gram
/// form). ORMP picks the largest `α_j² / ‖P⊥d_j‖²`, the atom whose part orthogonal to the
/// support best explains the residual, with `‖P⊥d_j‖² = G_jj − Σ_t u_t[j]²` kept for every
/// atom; this is SPAMS' `omp`.
pub(crate) struct SignalState<T> {
    alpha: Vec<T>,
    /// `‖P⊥d_j‖²` for every atom (ORMP only).
    nu: Vec<T>,
    score: Vec<T>,
    /// `kmax` rows of length `m`.
    u: Vec<T>,
    support: Vec<u32>,
    /// Atoms refused because they are (numerically) in the span of the support.
    banned: Vec<u32>,
    /// Cholesky factor of `G_II`, row-major lower triangle, `kmax x kmax`.
    l: Vec<T>,
    /// `L⁻¹·α0_I`: grows by one entry per step, earlier entries never change.
    z: Vec<T>,
    /// Coefficients on the support, `L⁻ᵀ·z`.
    gamma: Vec<T>,
    m: usize,
    resid2: T,
    noise: T,
    /// Whether the signal still takes steps.
    active: bool,
    /// `max |α|`, when the last update computed it on the way (OMP only): the next step then
    /// only looks for where it is.
    alpha_max: Option<T>,
}

impl<T: Real> SignalState<T> {
    pub(crate) fn new(m: usize, kmax: usize) -> Self {
        Self {
            alpha: vec![T::zero(); m],
            nu: vec![T::zero(); m],
            score: vec![T::zero(); m],
            u: vec![T::zero(); kmax * m],
            support: Vec::with_capacity(kmax),
            banned: Vec::new(),
            l: vec![T::zero(); kmax * kmax],
            z: vec![T::zero(); kmax],
            gamma: vec![T::zero(); kmax],
            m,
            resid2: T::zero(),
            noise: T::zero(),
            active: false,
            alpha_max: None,
        }
    }

    /// The support and coefficients found by the last [`finish`](Self::finish).
    pub(crate) fn result(&self) -> (&[u32], &[T]) {
        let s = self.support.len();
        (&self.support, &self.gamma[..s])
    }

    /// Resets the state for a new signal with correlations `a0 = Dᵀ·y` and `‖y‖² = ynorm2`
    /// (`diag`: the diagonal of G). Then [`step`](Self::step) while `active`, then
    /// [`finish`](Self::finish).
    #[inline(always)]
    fn begin(&mut self, diag: &[T], a0: &[T], ynorm2: T, tol: Option<T>, selection: Selection) {
        self.alpha.copy_from_slice(a0);
        if selection == Selection::Ormp {
            self.nu.copy_from_slice(diag);
        }
        self.support.clear();
        self.banned.clear();
        self.resid2 = ynorm2;
        // Correlations below this are rounding noise of a residual that is already zero.
        self.noise = T::epsilon() * T::cast_f64(4.0) * ynorm2.sqrt();
        self.active = !tol.is_some_and(|t| ynorm2 <= t);
        self.alpha_max = None;
    }

    /// One selection: adds an atom to the support, or refuses a collinear one, or ends the
    /// signal (`active` turns false).
    #[inline(always)]
    fn step(
        &mut self,
        gram: &Columns<'_, T>,
        diag: &[T],
        a0: &[T],
        kmax: usize,
        tol: Option<T>,
        selection: Selection,
    ) {
        let m = self.m;
        let s = self.support.len();
        let noise = self.noise;
        // A direction this short is in the span of the support up to rounding (a duplicate
        // or collinear atom): adding it would only amplify rounding.
        let floor = T::epsilon() * T::cast_usize(100 * (s + 1));
        let ormp = selection == Selection::Ormp;
        let (j, pivot2) = if ormp {
            for ((sc, &a), &nu) in self.score.iter_mut().zip(&self.alpha).zip(&self.nu) {
                *sc = if nu > floor { a * a / nu } else { T::zero() };
            }
            let (j, best) = argmax_abs(&self.score);
            if best <= noise * noise {
                self.active = false;
                return;
            }
            (j, self.nu[j])
        } else {
            let cached = self.alpha_max.take();
            let found = cached.and_then(|mx| Some((first_abs_equal(&self.alpha, mx)?, mx)));
            let (j, amax) = found.unwrap_or_else(|| argmax_abs(&self.alpha));
            if amax <= noise {
                self.active = false;
                return;
            }
            let mut p2 = diag[j];
            for t in 0..s {
                let w = self.u[t * m + j];
                p2 -= w * w;
            }
            if !(p2 > floor * diag[j]) {
                // Refuse it and look at the next best atom.
                self.banned.push(j as u32);
                self.alpha[j] = T::zero();
                return;
            }
            (j, p2)
        };
        // The new row of the Cholesky factor is column j of U; its pivot is ‖P⊥d_j‖.
        let pivot = pivot2.sqrt();
        let inv = T::one() / pivot;
        let row = s * kmax;
        for t in 0..s {
            self.l[row + t] = self.u[t * m + j];
        }
        self.l[row + s] = pivot;
        let zs = (a0[j] - dot(&self.l[row..row + s], &self.z[..s])) * inv;
        self.z[s] = zs;
        // u_s = (G[:, j] − Σ_t L[s,t]·u_t) / pivot, then α −= z_s·u_s (and ν −= u_s²).
        let (done, rest) = self.u.split_at_mut(s * m);
        let us = &mut rest[..m];
        let coef = &self.l[row..row + s];
        if !ormp {
            let mx = new_direction(us, gram.col(j), done, coef, inv, zs, &mut self.alpha);
            self.alpha_max = Some(mx);
        } else {
            sub_rows(us, gram.col(j), done, m, coef);
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
        // Rounding leaves tiny values for chosen and refused atoms; they must not be
        // picked again (nor hold the cached maximum).
        for &i in self.support.iter().chain(self.banned.iter()) {
            let a = &mut self.alpha[i as usize];
            if self.alpha_max.is_some_and(|mx| a.abs() >= mx) {
                self.alpha_max = None;
            }
            *a = T::zero();
        }
        if s + 1 == kmax {
            self.active = false;
        }
        if let Some(t) = tol {
            // ‖r‖² = ‖y‖² − ‖z‖²: no residual needed.
            self.resid2 -= zs * zs;
            if self.resid2 <= t {
                self.active = false;
            }
        }
    }

    /// `Lᵀ·γ = z` once, at the end.
    #[inline(always)]
    fn finish(&mut self, kmax: usize) {
        let s = self.support.len();
        self.gamma[..s].copy_from_slice(&self.z[..s]);
        solve_upper_in_place(&self.l, kmax, &mut self.gamma[..s]);
    }
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        Work {
            corr: Mat::zeros(self.atoms.ncols(), BLOCK),
            states: std::array::from_fn(|_| SignalState::new(self.atoms.ncols(), self.kmax)),
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
        let states = &mut work.states;
        let (gram, diag, kmax, tol, sel) = (
            &self.gram,
            &self.diag[..],
            self.kmax,
            self.tol,
            self.selection,
        );
        with_simd(
            #[inline(always)]
            || {
                for c0 in (0..n).step_by(LOCKSTEP) {
                    let lanes = LOCKSTEP.min(n - c0);
                    for (l, st) in states.iter_mut().enumerate().take(lanes) {
                        let c = c0 + l;
                        st.begin(diag, corr.col(c), dot(ys.col(c), ys.col(c)), tol, sel);
                    }
                    let mut busy = true;
                    while busy {
                        busy = false;
                        for (l, st) in states.iter_mut().enumerate().take(lanes) {
                            if st.active {
                                st.step(gram, diag, corr.col(c0 + l), kmax, tol, sel);
                                busy |= st.active;
                            }
                        }
                    }
                    for st in states.iter_mut().take(lanes) {
                        st.finish(kmax);
                        let (rows, vals) = st.result();
                        out.push(rows, vals);
                    }
                }
            },
        );
    }
}
