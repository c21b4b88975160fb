//! Batch-OMP: Gram matrix, one GEMM per block, progressive Cholesky per signal.

use dictum_linalg::backend::PursuitRule;
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Real};

use super::Selection;
use crate::dictionary::{Dictionary, Signals};
use crate::direction::{new_direction_tracked, ormp_direction_tracked, tracked_is_fast};
use crate::error::Result;
use crate::offload;
use crate::run::{Block, BlockKernel, ColumnSink, run_blocks};
use crate::vector::{
    Columns, Terms, argmax_abs, dot, first_abs_equal, new_direction, ormp_direction, ormp_scores,
    prefetch, with_simd,
};

pub(super) fn encode<T: Real>(
    dict: &Dictionary<'_, T>,
    signals: Signals<'_, T>,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
    exec: &Exec<'_>,
) -> Result<CscMatrix<T>> {
    encode_with(dict, signals, kmax, tol, selection, exec, true)
}

/// [`encode`], where `fast = false` keeps the steps off the tracked kernels (to test one
/// against the other).
fn encode_with<T: Real>(
    dict: &Dictionary<'_, T>,
    signals: Signals<'_, T>,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
    exec: &Exec<'_>,
    fast: bool,
) -> Result<CscMatrix<T>> {
    let mut slot = None;
    let gram = dict.gram_or_compute(&mut slot, exec)?;
    let rule = match selection {
        Selection::Omp => PursuitRule::Omp,
        Selection::Ormp => PursuitRule::Ormp,
    };
    if fast && let Some(codes) = offload::encode(dict, Some(gram), signals, kmax, tol, rule, exec)?
    {
        return Ok(codes);
    }
    let gram = Columns::new(gram);
    let diag = (0..dict.n_atoms()).map(|j| gram.col(j)[j]).collect();
    let kernel = Kernel {
        m: dict.n_atoms(),
        gram,
        diag,
        kmax,
        tol,
        selection,
        tracked: fast && tracked_is_fast::<T>(dict.n_atoms()),
    };
    run_blocks(&kernel, dict, signals, exec)
}

struct Kernel<'a, T> {
    m: usize,
    gram: Columns<'a, T>,
    diag: Vec<T>,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
    /// Steps run the tracked fast kernels (see [`SignalState::tracked`]).
    tracked: bool,
}

pub(crate) struct Work<T> {
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
    /// `1 / L[t, t]`, for the back substitution.
    linv: Vec<T>,
    /// `L⁻¹·α0_I`: grows by one entry per step, earlier entries never change.
    z: Vec<T>,
    /// Coefficients on the support, `L⁻ᵀ·z`.
    gamma: Vec<T>,
    m: usize,
    resid2: T,
    noise: T,
    /// Whether the signal still takes steps.
    active: bool,
    /// The next step's best score (`max |α|` for OMP, `max α²/ν` for ORMP) when the last
    /// update computed it on the way, and where it is when the update tracked that too: the
    /// next step then searches less or not at all.
    next_best: Option<(T, Option<usize>)>,
    /// Steps through the fast kernels ([`new_direction_tracked`], [`ormp_direction_tracked`]):
    /// the first step reads `α0` (and ORMP's `ν`, the Gram diagonal) in place, and every
    /// update says where the next best atom is. For OMP the support and refused atoms keep
    /// their rounding residue in `α` (zeroing them by scalar stores stalled the next pass's
    /// vector loads); only when one of them holds the maximum are they zeroed and the
    /// maximum searched again. ORMP's scores leave them out by their `ν`.
    tracked: bool,
    /// `α` (and `ν`) still equal their starting values and were not copied (tracked mode
    /// only).
    fresh: bool,
}

impl<T: Real> SignalState<T> {
    pub(crate) fn new(m: usize, kmax: usize, tracked: bool) -> Self {
        Self {
            alpha: vec![T::zero(); m],
            nu: vec![T::zero(); m],
            score: vec![T::zero(); m],
            u: vec![T::zero(); kmax * m],
            support: Vec::with_capacity(kmax),
            banned: Vec::new(),
            l: vec![T::zero(); kmax * kmax],
            linv: vec![T::zero(); kmax],
            z: vec![T::zero(); kmax],
            gamma: vec![T::zero(); kmax],
            m,
            resid2: T::zero(),
            noise: T::zero(),
            active: false,
            next_best: None,
            tracked,
            fresh: false,
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
        if self.tracked {
            self.fresh = true;
        } else {
            self.alpha.copy_from_slice(a0);
            if selection == Selection::Ormp {
                self.nu.copy_from_slice(diag);
            }
        }
        self.support.clear();
        self.banned.clear();
        self.resid2 = ynorm2;
        // Correlations below this are rounding noise of a residual that is already zero.
        self.noise = T::epsilon() * T::cast_f64(4.0) * ynorm2.sqrt();
        self.active = !tol.is_some_and(|t| ynorm2 <= t);
        self.next_best = None;
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
            let (j, best) = match self.next_best.take() {
                Some((best, Some(j))) => (j, best),
                _ => {
                    let (alpha, nu) = if self.fresh {
                        (a0, diag)
                    } else {
                        (&self.alpha[..], &self.nu[..])
                    };
                    ormp_scores(&mut self.score, alpha, nu, floor);
                    argmax_abs(&self.score)
                }
            };
            if best <= noise * noise {
                self.active = false;
                return;
            }
            prefetch(gram.col(j));
            (j, if self.fresh { diag[j] } else { self.nu[j] })
        } else {
            let cached = self.next_best.take();
            let found = cached.and_then(|(mx, at)| match at {
                Some(j) => Some((j, mx)),
                None => Some((first_abs_equal(&self.alpha, mx)?, mx)),
            });
            let alpha = if self.fresh { a0 } else { &self.alpha };
            let (j, amax) = found.unwrap_or_else(|| argmax_abs(alpha));
            if amax <= noise {
                self.active = false;
                return;
            }
            prefetch(gram.col(j));
            let mut p2 = diag[j];
            for t in 0..s {
                let w = self.u[t * m + j];
                p2 -= w * w;
            }
            if !(p2 > floor * diag[j]) {
                // Refuse it and look at the next best atom.
                self.banned.push(j as u32);
                if self.fresh {
                    self.alpha.copy_from_slice(a0);
                    self.fresh = false;
                }
                // The search the next step falls back on must not see the residue the
                // tracked updates leave at the support.
                self.clear_chosen();
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
        self.linv[s] = inv;
        let zs = (a0[j] - dot(&self.l[row..row + s], &self.z[..s])) * inv;
        self.z[s] = zs;
        if s + 1 == kmax {
            // The last atom: γ needs only L and z, so its direction and the correlations it
            // would update are never used (the step that builds them is the costliest).
            self.support.push(j as u32);
            self.active = false;
            self.resid2 -= zs * zs;
            return;
        }
        // u_s = (G[:, j] − Σ_t L[s,t]·u_t) / pivot, then α −= z_s·u_s (and ν −= u_s²).
        let (done, rest) = self.u.split_at_mut(s * m);
        let us = &mut rest[..m];
        let coef = &self.l[row..row + s];
        let terms = Terms {
            base: gram.col(j),
            rows: done,
            coef,
            inv,
            z: zs,
        };
        if self.tracked && ormp {
            let from = self.fresh.then_some((a0, diag));
            // The next step's floor, for the scores the pass computes on the way.
            let floor = T::epsilon() * T::cast_usize(100 * (s + 2));
            let (best, at) = ormp_direction_tracked(
                us,
                &terms,
                from,
                &mut self.alpha,
                &mut self.nu,
                floor,
                &mut self.score,
            );
            self.fresh = false;
            self.support.push(j as u32);
            self.next_best = Some((best, Some(at)));
        } else if self.tracked {
            let from = self.fresh.then_some(a0);
            let (mx, at) = new_direction_tracked(us, &terms, from, &mut self.alpha);
            self.fresh = false;
            self.support.push(j as u32);
            let chosen = |i: &u32| *i as usize == at;
            if self.support.iter().any(chosen) || self.banned.iter().any(chosen) {
                self.clear_chosen();
                self.next_best = None;
            } else {
                self.next_best = Some((mx, Some(at)));
            }
        } else {
            if ormp {
                ormp_direction(us, &terms, &mut self.alpha, &mut self.nu);
            } else {
                let mx = new_direction(us, gram.col(j), done, coef, inv, zs, &mut self.alpha);
                self.next_best = Some((mx, None));
            }
            self.support.push(j as u32);
            // Rounding leaves tiny values for chosen and refused atoms; they must not be
            // picked again (nor hold the cached maximum).
            for &i in self.support.iter().chain(self.banned.iter()) {
                let a = &mut self.alpha[i as usize];
                if self.next_best.is_some_and(|(mx, _)| a.abs() >= mx) {
                    self.next_best = None;
                }
                *a = T::zero();
            }
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

    /// Zeroes `α` at the support and refused atoms.
    #[inline(always)]
    fn clear_chosen(&mut self) {
        for &i in self.support.iter().chain(self.banned.iter()) {
            self.alpha[i as usize] = T::zero();
        }
    }

    /// `Lᵀ·γ = z` once, at the end, by columns of `Lᵀ` (rows of `L`, contiguous) and with
    /// the pivots' reciprocals: the dependent chain per entry is a multiply and one update,
    /// where dot products and divisions made it several times longer.
    #[inline(always)]
    fn finish(&mut self, kmax: usize) {
        let s = self.support.len();
        let g = &mut self.gamma[..s];
        g.copy_from_slice(&self.z[..s]);
        for t in (0..s).rev() {
            let x = g[t] * self.linv[t];
            g[t] = x;
            let row = &self.l[t * kmax..t * kmax + t];
            for (gu, &l) in g[..t].iter_mut().zip(row) {
                *gu -= l * x;
            }
        }
    }
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        Work {
            states: std::array::from_fn(|_| SignalState::new(self.m, self.kmax, self.tracked)),
        }
    }

    fn nnz_hint(&self) -> usize {
        self.kmax.min(64)
    }

    fn encode_block(&self, work: &mut Work<T>, block: &Block<'_, T>, out: &mut ColumnSink<T>) {
        let n = block.signals.ncols();
        let corr = &block.corr;
        let ys = Columns::new(block.signals);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use dictum_linalg::exec::Exec;
    use dictum_linalg::{Mat, Real};

    use super::{Selection, encode_with};
    use crate::dictionary::{Dictionary, Signals};

    /// Uniform values in [-1, 1) from a xorshift sequence.
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 52) as f64 * 2.0 - 1.0
        }
    }

    /// The tracked kernel and the generic passes give the same codes, bit for bit, on
    /// random signals and on the degenerate ones that take the fallbacks: duplicate and
    /// opposite atoms, signals in the span of two atoms with k = 6 (the maximum falls on
    /// support residue), supports that fill the space (atoms refused), zero signals, and
    /// error-constrained stopping.
    fn tracked_matches_generic<T: Real>(d: usize, m: usize) {
        let n = 60;
        let mut r = uniform(7);
        let mut atoms = Mat::from_fn(d, m, |_, _| T::cast_f64(r()));
        for i in 0..d {
            atoms[(i, 5)] = atoms[(i, 3)];
            atoms[(i, 9)] = -atoms[(i, 2)];
        }
        let (atoms, _) = Dictionary::normalized(atoms.as_ref()).unwrap();
        let dict = Dictionary::new(atoms.as_ref()).unwrap();
        let signals = Mat::from_fn(d, n, |i, c| {
            let col = |j: usize| atoms[(i, j)];
            match c % 4 {
                0 => T::cast_f64(r()),
                1 => col(3) * T::cast_f64(0.8) - col(2) * T::cast_f64(0.3),
                2 if c % 8 == 2 => T::zero(),
                _ => col(c % m) + col((c * 7) % m) * T::cast_f64(0.5),
            }
        });
        let exec = Exec::default();
        let cases = [(6, None), (3, None), (10, Some(T::cast_f64(1e-3)))];
        for ((k, tol), sel) in cases
            .into_iter()
            .flat_map(|c| [(c, Selection::Omp), (c, Selection::Ormp)])
        {
            let run = |fast| {
                let y = Signals::lazy(signals.as_ref());
                let x = encode_with(&dict, y, k, tol, sel, &exec, fast);
                x.unwrap()
            };
            let (a, b) = (run(true), run(false));
            for c in 0..n {
                let ((ra, va), (rb, vb)) = (a.col(c), b.col(c));
                assert_eq!(ra, rb, "support of signal {c}, k = {k}");
                let bits = |v: &[T]| v.iter().map(|x| x.into_f64().to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(va), bits(vb), "values of signal {c}, k = {k}");
            }
        }
    }

    /// `D = [e1, e2, b]` with `b` within 1e-8 of `e1`, `y = e1 + e2 + e3/2`: `b` correlates
    /// best (by 5e-9), then `e2`; the residual then correlates only with `e1`, which is refused
    /// as numerically in the span of the support, and both paths stop with `{e2, b}`.
    fn refused_atom<T: Real>() {
        let eps: f64 = 1e-8;
        let atoms = Mat::from_fn(3, 3, |i, j| match (i, j) {
            (0, 0) | (1, 1) => T::one(),
            (0, 2) => T::cast_f64(1.0 / (1.0 + eps * eps).sqrt()),
            (2, 2) => T::cast_f64(eps / (1.0 + eps * eps).sqrt()),
            _ => T::zero(),
        });
        let dict = Dictionary::new(atoms.as_ref()).unwrap();
        let y = Mat::from_fn(3, 1, |i, _| T::cast_f64([1.0, 1.0, 0.5][i]));
        let exec = Exec::default();
        for fast in [true, false] {
            let y = Signals::lazy(y.as_ref());
            let x = encode_with(&dict, y, 3, None, Selection::Omp, &exec, fast).unwrap();
            assert_eq!(x.col(0).0, &[1, 2], "fast = {fast}");
        }
    }

    #[test]
    fn refused_atom_f64() {
        refused_atom::<f64>();
    }

    #[test]
    fn tracked_kernel_matches_generic_f64() {
        tracked_matches_generic::<f64>(12, 70);
        // Three dimensions: supports fill the space and refusals happen.
        tracked_matches_generic::<f64>(3, 16);
    }

    #[test]
    fn tracked_kernel_matches_generic_f32() {
        tracked_matches_generic::<f32>(12, 70);
        tracked_matches_generic::<f32>(3, 16);
    }
}
