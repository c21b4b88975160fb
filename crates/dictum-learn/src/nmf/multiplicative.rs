//! Multiplicative updates (Lee & Seung, NIPS 2001) for the Frobenius loss and for the
//! generalised Kullback–Leibler divergence.

use dictum_linalg::backend::Trans;
use dictum_linalg::exec::Exec;
use dictum_linalg::{Mat, Real};

use super::Nmf;
use super::data::Data;
use crate::error::Result;

/// Guards the multiplicative updates against division by zero.
pub(super) const EPS: f64 = 1e-12;

impl Nmf {
    /// Multiplicative Frobenius update of `H`: `H ← H ⊙ (WᵀV − l1)₊ ⊘ (WᵀW·H + l2·H)`.
    pub(super) fn mu_h<T: Real>(
        &self,
        v: Data<'_, T>,
        w: &Mat<T>,
        h: &mut Mat<T>,
        exec: &Exec<'_>,
    ) -> Result<()> {
        let wtw = exec.gram(w.as_ref())?;
        let vtw = v.tmul_w(w.as_ref(), exec)?; // p x r
        let den = exec.product(wtw.as_ref(), Trans::No, h.as_ref(), Trans::No)?; // r x p
        let (l1, l2) = self.penalties(self.alpha_h);
        for j in 0..h.ncols() {
            for k in 0..h.nrows() {
                let num = (vtw[(j, k)].into_f64() - l1).max(0.0);
                let d = den[(k, j)].into_f64() + l2 * h[(k, j)].into_f64() + EPS;
                h[(k, j)] = T::cast_f64(h[(k, j)].into_f64() * num / d);
            }
        }
        Ok(())
    }

    /// Multiplicative Frobenius update of `W`: `W ← W ⊙ (V·Hᵀ − l1)₊ ⊘ (W·HHᵀ + l2·W)`.
    pub(super) fn mu_w<T: Real>(
        &self,
        v: Data<'_, T>,
        w: &mut Mat<T>,
        h: &Mat<T>,
        exec: &Exec<'_>,
    ) -> Result<()> {
        let hht = exec.gram(h.transpose())?; // r x r
        let vht = v.mul_ht(h.as_ref(), exec)?; // n x r
        let den = exec.product(w.as_ref(), Trans::No, hht.as_ref(), Trans::No)?; // n x r
        let (l1, l2) = self.penalties(self.alpha_w);
        for k in 0..w.ncols() {
            for i in 0..w.nrows() {
                let num = (vht[(i, k)].into_f64() - l1).max(0.0);
                let d = den[(i, k)].into_f64() + l2 * w[(i, k)].into_f64() + EPS;
                w[(i, k)] = T::cast_f64(w[(i, k)].into_f64() * num / d);
            }
        }
        Ok(())
    }

    /// `Σ_{ij} V_ij/(WH)_ij · (W_ik for H, H_kj for W)` over the entries of `V` that can be
    /// non-zero: the numerators of the KL updates, `r x p` (for `H`) or `n x r` (for `W`).
    fn kl_numerators<T: Real>(v: Data<'_, T>, w: &Mat<T>, h: &Mat<T>, for_h: bool) -> Vec<f64> {
        let (n, p) = v.shape();
        let r = w.ncols();
        let mut num = vec![0.0f64; if for_h { r * p } else { n * r }];
        v.for_each(|i, j, x| {
            let x = x.into_f64();
            if x == 0.0 {
                return;
            }
            let wh: f64 = (0..r)
                .map(|k| w[(i, k)].into_f64() * h[(k, j)].into_f64())
                .sum();
            let q = x / (wh + EPS);
            for k in 0..r {
                if for_h {
                    num[j * r + k] += w[(i, k)].into_f64() * q;
                } else {
                    num[k * n + i] += h[(k, j)].into_f64() * q;
                }
            }
        });
        num
    }

    /// Multiplicative KL update of `H`: `H ← H ⊙ Wᵀ(V ⊘ WH) ⊘ (Wᵀ1 + l1 + l2·H)`.
    pub(super) fn kl_h<T: Real>(&self, v: Data<'_, T>, w: &Mat<T>, h: &mut Mat<T>) {
        let num = Self::kl_numerators(v, w, h, true);
        let (n, r) = (w.nrows(), w.ncols());
        let (l1, l2) = self.penalties(self.alpha_h);
        for k in 0..r {
            let colsum: f64 = (0..n).map(|i| w[(i, k)].into_f64()).sum();
            for j in 0..h.ncols() {
                let d = colsum + l1 + l2 * h[(k, j)].into_f64() + EPS;
                h[(k, j)] = T::cast_f64(h[(k, j)].into_f64() * num[j * r + k] / d);
            }
        }
    }

    /// Multiplicative KL update of `W`: `W ← W ⊙ (V ⊘ WH)Hᵀ ⊘ (1Hᵀ + l1 + l2·W)`.
    pub(super) fn kl_w<T: Real>(&self, v: Data<'_, T>, w: &mut Mat<T>, h: &Mat<T>) {
        let num = Self::kl_numerators(v, w, h, false);
        let (n, r) = (w.nrows(), w.ncols());
        let (l1, l2) = self.penalties(self.alpha_w);
        for k in 0..r {
            let rowsum: f64 = (0..h.ncols()).map(|j| h[(k, j)].into_f64()).sum();
            for i in 0..n {
                let d = rowsum + l1 + l2 * w[(i, k)].into_f64() + EPS;
                w[(i, k)] = T::cast_f64(w[(i, k)].into_f64() * num[k * n + i] / d);
            }
        }
    }
}
