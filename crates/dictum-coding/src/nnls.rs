//! Small non-negative least squares on a Gram system (Lawson & Hanson, *Solving Least Squares
//! Problems*, 1974, ch. 23): `min_x ½ xᵀQx − bᵀx` subject to `x ≥ 0`, for the few-atom
//! systems of NN-OMP. `Q` is symmetric positive definite (a support's Gram block).

use dictum_linalg::Real;

/// Scratch space for [`NnlsGram::solve`], reused across calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct NnlsGram<T> {
    passive: Vec<bool>,
    idx: Vec<usize>,
    z: Vec<T>,
    grad: Vec<T>,
    chol: Vec<T>,
}

impl<T: Real> NnlsGram<T> {
    /// Solves the problem for the `n x n` column-major `q` and `b`, writing `x` (length `n`).
    pub(crate) fn solve(&mut self, q: &[T], b: &[T], x: &mut [T]) {
        let n = b.len();
        self.passive.clear();
        self.passive.resize(n, false);
        self.z.clear();
        self.z.resize(n, T::zero());
        self.grad.clear();
        self.grad.resize(n, T::zero());
        x.iter_mut().for_each(|v| *v = T::zero());
        let scale = b.iter().fold(T::zero(), |a, &v| a.max(v.abs()));
        let tol = T::epsilon() * T::cast_usize(10 * n.max(1)) * scale;
        for _outer in 0..3 * n + 1 {
            // Negative gradient b − Q·x.
            for i in 0..n {
                let mut g = b[i];
                for k in 0..n {
                    g -= q[k * n + i] * x[k];
                }
                self.grad[i] = g;
            }
            let mut best = None;
            for i in 0..n {
                if !self.passive[i]
                    && self.grad[i] > tol
                    && best.is_none_or(|(_, g)| self.grad[i] > g)
                {
                    best = Some((i, self.grad[i]));
                }
            }
            let Some((j, _)) = best else { break };
            self.passive[j] = true;
            for _inner in 0..3 * n + 1 {
                if !self.solve_passive(q, b) {
                    // Q restricted to the passive set is singular: drop the newest index.
                    self.passive[j] = false;
                    break;
                }
                // Move from x towards z until the first passive coordinate reaches zero.
                let mut step = T::one();
                let mut stop_at = None;
                for i in 0..n {
                    if self.passive[i] && self.z[i] <= T::zero() {
                        let denom = x[i] - self.z[i];
                        let t = if denom > T::zero() {
                            x[i] / denom
                        } else {
                            T::zero()
                        };
                        if stop_at.is_none() || t < step {
                            step = t;
                            stop_at = Some(i);
                        }
                    }
                }
                let Some(first_zero) = stop_at else {
                    for i in 0..n {
                        x[i] = if self.passive[i] {
                            self.z[i]
                        } else {
                            T::zero()
                        };
                    }
                    break;
                };
                for i in 0..n {
                    if self.passive[i] {
                        x[i] += step * (self.z[i] - x[i]);
                        if i == first_zero || x[i] <= T::zero() {
                            x[i] = T::zero();
                            self.passive[i] = false;
                        }
                    }
                }
            }
        }
    }

    /// Solves `Q_PP z_P = b_P` on the passive set by dense Cholesky; `false` if singular.
    fn solve_passive(&mut self, q: &[T], b: &[T]) -> bool {
        let n = b.len();
        self.idx.clear();
        self.idx.extend((0..n).filter(|&i| self.passive[i]));
        let p = self.idx.len();
        self.chol.clear();
        self.chol.resize(p * p, T::zero());
        for c in 0..p {
            for r in c..p {
                let mut v = q[self.idx[c] * n + self.idx[r]];
                for k in 0..c {
                    v -= self.chol[k * p + r] * self.chol[k * p + c];
                }
                if r == c {
                    let floor =
                        T::epsilon() * T::cast_usize(100 * p) * q[self.idx[c] * n + self.idx[c]];
                    if !(v > floor) {
                        return false;
                    }
                    self.chol[c * p + c] = v.sqrt();
                } else {
                    self.chol[c * p + r] = v / self.chol[c * p + c];
                }
            }
        }
        // L·u = b_P, then Lᵀ·z = u; L is stored column-major in `chol`.
        for i in 0..n {
            self.z[i] = T::zero();
        }
        for r in 0..p {
            let mut v = b[self.idx[r]];
            for k in 0..r {
                v -= self.chol[k * p + r] * self.z[self.idx[k]];
            }
            self.z[self.idx[r]] = v / self.chol[r * p + r];
        }
        for r in (0..p).rev() {
            let mut v = self.z[self.idx[r]];
            for k in r + 1..p {
                v -= self.chol[r * p + k] * self.z[self.idx[k]];
            }
            self.z[self.idx[r]] = v / self.chol[r * p + r];
        }
        true
    }
}
