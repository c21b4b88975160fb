//! What each NMF iteration measures: the objective (penalties included) and the relative
//! error, without forming `W·H`.

use dictum_linalg::backend::FactorStep;
use dictum_linalg::exec::{Exec, IterationStats};
use dictum_linalg::{Mat, Real};

use super::data::Data;
use super::multiplicative::EPS;
use super::{Nmf, NmfSolver};
use crate::error::Result;

impl Nmf {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn measure<T: Real>(
        &self,
        v: Data<'_, T>,
        w: &Mat<T>,
        h: &Mat<T>,
        v2: f64,
        iter: usize,
        seconds: f64,
        exec: &Exec<'_>,
        known: Option<(&Mat<T>, &Mat<T>)>,
    ) -> Result<IterationStats> {
        // ‖V − WH‖² = ‖V‖² − 2·tr(Wᵀ·V·Hᵀ) + tr(WᵀW·HHᵀ), without forming W·H. The W update
        // just computed V·Hᵀ and H·Hᵀ for this H: reuse them.
        let computed;
        let (vht, hht) = match known {
            Some(k) => k,
            None => {
                computed = (v.mul_ht(h.as_ref(), exec)?, exec.gram(h.transpose())?);
                (&computed.0, &computed.1)
            }
        };
        let wtw = exec.gram(w.as_ref())?;
        let (n, r) = (w.nrows(), w.ncols());
        let mut cross = 0.0;
        for k in 0..r {
            for i in 0..n {
                cross += w[(i, k)].into_f64() * vht[(i, k)].into_f64();
            }
        }
        let mut quad = 0.0;
        for a in 0..r {
            for b in 0..r {
                quad += wtw[(a, b)].into_f64() * hht[(a, b)].into_f64();
            }
        }
        let sums = |m: &Mat<T>| {
            let (mut s1, mut s2) = (0.0, 0.0);
            for j in 0..m.ncols() {
                for i in 0..m.nrows() {
                    let x = m[(i, j)].into_f64();
                    s1 += x;
                    s2 += x * x;
                }
            }
            (s1, s2)
        };
        let kl = (self.solver == NmfSolver::MultiplicativeKl).then(|| {
            let mut kl = 0.0;
            v.for_each(|i, j, x| {
                let x = x.into_f64();
                if x > 0.0 {
                    let wh: f64 = (0..r)
                        .map(|k| w[(i, k)].into_f64() * h[(k, j)].into_f64())
                        .sum();
                    kl += x * (x / (wh + EPS)).ln() - x;
                }
            });
            // Σ_ij (WH)_ij = (column sums of W)·(row sums of H).
            let total: f64 = (0..r)
                .map(|k| {
                    let cw: f64 = (0..n).map(|i| w[(i, k)].into_f64()).sum();
                    let rh: f64 = (0..h.ncols()).map(|j| h[(k, j)].into_f64()).sum();
                    cw * rh
                })
                .sum();
            (kl, total)
        });
        // Non-zeros per column of H: the codes of V's columns.
        let h_nonzeros = (0..h.ncols())
            .map(|j| h.col(j).iter().filter(|&&x| x != T::zero()).count())
            .sum::<usize>();
        let step = FactorStep {
            iter,
            cross,
            quad,
            w_sums: sums(w),
            h_sums: sums(h),
            h_nonzeros,
            kl,
        };
        Ok(self.stats(&step, v2, h.ncols(), seconds))
    }

    /// An iteration's statistics from its sums (measured here or on a device): the loss
    /// (`½‖V − WH‖²` from `‖V‖² − 2·cross + quad`, or the KL divergence) plus the penalties,
    /// and the relative error.
    pub(super) fn stats(&self, s: &FactorStep, v2: f64, p: usize, seconds: f64) -> IterationStats {
        let r2 = (v2 - 2.0 * s.cross + s.quad).max(0.0);
        let rel_error = if v2 > 0.0 { (r2 / v2).sqrt() } else { 0.0 };
        let pen = |(s1, s2): (f64, f64), alpha: f64| {
            let (l1, l2) = self.penalties(alpha);
            l1 * s1 + 0.5 * l2 * s2
        };
        let loss = match s.kl {
            Some((kl, total)) => kl + total,
            None => 0.5 * r2,
        };
        IterationStats {
            iter: s.iter,
            objective: loss + pen(s.w_sums, self.alpha_w) + pen(s.h_sums, self.alpha_h),
            rel_error,
            mean_rel_residual: None,
            mean_nnz: s.h_nonzeros as f64 / p.max(1) as f64,
            replaced: 0,
            seconds,
        }
    }
}
