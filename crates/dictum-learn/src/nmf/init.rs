//! NMF's initial factors: random, or NNDSVD (Boutsidis & Gallopoulos, Pattern Recognit.
//! 2008) from a randomized truncated SVD of `V`.

use dictum_linalg::backend::Trans;
use dictum_linalg::exec::Exec;
use dictum_linalg::{Mat, Par, Real, svd};

use super::data::Data;
use super::{Nmf, NmfInit};
use crate::error::Result;
use crate::rng::Rng;

impl Nmf {
    /// The initial factors.
    pub(super) fn initial<T: Real>(
        &self,
        v: Data<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<(Mat<T>, Mat<T>)> {
        let (n, p) = v.shape();
        let r = self.rank;
        let mean = v.sum() / (n * p) as f64;
        let mut rng = Rng::new(exec.seed());
        if self.init == NmfInit::Random {
            let s = (mean / r as f64).sqrt();
            let w = Mat::from_fn(n, r, |_, _| T::cast_f64(s * rng.normal().abs()));
            let h = Mat::from_fn(r, p, |_, _| T::cast_f64(s * rng.normal().abs()));
            return Ok((w, h));
        }
        let (u, sv, vt) = top_singular(v, r, &mut rng, exec)?;
        let mut w = Mat::<T>::zeros(n, r);
        let mut h = Mat::<T>::zeros(r, p);
        for k in 0..r {
            let (uk, vk): (Vec<f64>, Vec<f64>) = (
                (0..n).map(|i| u[(i, k)]).collect(),
                (0..p).map(|j| vt[(j, k)]).collect(),
            );
            let (x, y) = if k == 0 {
                (
                    uk.iter().map(|a| a.abs()).collect::<Vec<_>>(),
                    vk.iter().map(|a| a.abs()).collect::<Vec<_>>(),
                )
            } else {
                let pos = |z: &[f64]| z.iter().map(|a| a.max(0.0)).collect::<Vec<_>>();
                let neg = |z: &[f64]| z.iter().map(|a| (-a).max(0.0)).collect::<Vec<_>>();
                let nrm = |z: &[f64]| z.iter().map(|a| a * a).sum::<f64>().sqrt();
                let (xp, yp, xn, yn) = (pos(&uk), pos(&vk), neg(&uk), neg(&vk));
                let (mp, mn) = (nrm(&xp) * nrm(&yp), nrm(&xn) * nrm(&yn));
                let (x, y, m) = if mp >= mn { (xp, yp, mp) } else { (xn, yn, mn) };
                let (nx, ny) = (nrm(&x), nrm(&y));
                if m == 0.0 || nx == 0.0 || ny == 0.0 {
                    (vec![0.0; n], vec![0.0; p])
                } else {
                    let s = m.sqrt();
                    (
                        x.iter().map(|a| a / nx * s).collect(),
                        y.iter().map(|a| a / ny * s).collect(),
                    )
                }
            };
            let scale = if k == 0 {
                let nx = x
                    .iter()
                    .map(|a| a * a)
                    .sum::<f64>()
                    .sqrt()
                    .max(f64::MIN_POSITIVE);
                let ny = y
                    .iter()
                    .map(|a| a * a)
                    .sum::<f64>()
                    .sqrt()
                    .max(f64::MIN_POSITIVE);
                (sv[0].sqrt() / nx, sv[0].sqrt() / ny)
            } else {
                (sv[k].sqrt(), sv[k].sqrt())
            };
            for i in 0..n {
                w[(i, k)] = T::cast_f64(x[i] * scale.0);
            }
            for j in 0..p {
                h[(k, j)] = T::cast_f64(y[j] * scale.1);
            }
        }
        if self.init == NmfInit::Nndsvda {
            for v in w
                .col_iter_mut()
                .flat_map(|c| c.iter_mut())
                .chain(h.col_iter_mut().flat_map(|c| c.iter_mut()))
            {
                if *v == T::zero() {
                    *v = T::cast_f64(mean);
                }
            }
        }
        Ok((w, h))
    }
}

/// The top `r` singular triplets of `V` by a randomized range finder with two power
/// iterations (Halko, Martinsson & Tropp, SIAM Review 2011), through products with `V` only.
/// Returns `U` (`n x r`), `s`, `V` (`p x r`) in `f64`.
fn top_singular<T: Real>(
    v: Data<'_, T>,
    r: usize,
    rng: &mut Rng,
    exec: &Exec<'_>,
) -> Result<(Mat<f64>, Vec<f64>, Mat<f64>)> {
    let (n, p) = v.shape();
    let k = (r + 10).min(n.min(p));
    // Work in T for the products with V, orthonormalise in f64.
    let omega = Mat::<T>::from_fn(k, p, |_, _| T::cast_f64(rng.normal()));
    let mut q = orth(&v.mul_ht(omega.as_ref(), exec)?); // n x k
    for _ in 0..2 {
        let qt = Mat::<T>::from_fn(n, k, |i, j| T::cast_f64(q[(i, j)]));
        let z = orth(&v.tmul_w(qt.as_ref(), exec)?); // p x k
        let zt = Mat::<T>::from_fn(k, p, |i, j| T::cast_f64(z[(j, i)]));
        q = orth(&v.mul_ht(zt.as_ref(), exec)?);
    }
    let qt = Mat::<T>::from_fn(n, k, |i, j| T::cast_f64(q[(i, j)]));
    let bt = v.tmul_w(qt.as_ref(), exec)?; // p x k = (Qᵀ V)ᵀ
    let b = Mat::<f64>::from_fn(k, p, |i, j| bt[(j, i)].into_f64());
    let svd = svd::thin_svd(b.as_ref(), Par::Seq)?;
    let u = exec.product(q.as_ref(), Trans::No, svd.u.as_ref(), Trans::No)?; // n x k
    let u = Mat::from_fn(n, r, |i, j| u[(i, j)]);
    let vv = Mat::from_fn(p, r, |i, j| svd.v[(i, j)]);
    Ok((u, svd.s[..r].to_vec(), vv))
}

/// Orthonormal basis of the columns of `a` (modified Gram–Schmidt, twice), in `f64`.
fn orth<T: Real>(a: &Mat<T>) -> Mat<f64> {
    let (n, k) = (a.nrows(), a.ncols());
    let mut q = Mat::<f64>::from_fn(n, k, |i, j| a[(i, j)].into_f64());
    for j in 0..k {
        for _ in 0..2 {
            for t in 0..j {
                let d: f64 = (0..n).map(|i| q[(i, t)] * q[(i, j)]).sum();
                for i in 0..n {
                    q[(i, j)] -= d * q[(i, t)];
                }
            }
        }
        let nrm: f64 = (0..n).map(|i| q[(i, j)] * q[(i, j)]).sum::<f64>().sqrt();
        for i in 0..n {
            q[(i, j)] = if nrm > 1e-300 { q[(i, j)] / nrm } else { 0.0 };
        }
    }
    q
}
