//! Non-negative OMP: the atom with the largest positive correlation joins the support, and the
//! support's coefficients are fitted by non-negative least squares on the Gram block.

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::error::Result;
use crate::nnls::NnlsGram;
use crate::run::{Block, BlockKernel, ColumnSink, run_blocks};
use crate::vector::{Columns, argmax_pos, sub_combination, with_simd};

pub(super) fn encode<T: Real>(
    dict: &Dictionary<'_, T>,
    signals: Signals<'_, T>,
    kmax: usize,
    tol: Option<T>,
    exec: &Exec<'_>,
) -> Result<CscMatrix<T>> {
    let mut slot = None;
    let gram = dict.gram_or_compute(&mut slot, exec)?;
    let kernel = Kernel {
        m: dict.n_atoms(),
        gram: Columns::new(gram),
        kmax,
        tol,
    };
    run_blocks(&kernel, dict, signals, exec)
}

struct Kernel<'a, T> {
    m: usize,
    gram: Columns<'a, T>,
    kmax: usize,
    tol: Option<T>,
}

struct Work<T> {
    alpha: Vec<T>,
    support: Vec<u32>,
    banned: Vec<u32>,
    q: Vec<T>,
    b: Vec<T>,
    x: Vec<T>,
    nnls: NnlsGram<T>,
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        let m = self.m;
        Work {
            alpha: vec![T::zero(); m],
            support: Vec::with_capacity(self.kmax + 1),
            banned: Vec::new(),
            q: Vec::with_capacity((self.kmax + 1) * (self.kmax + 1)),
            b: Vec::with_capacity(self.kmax + 1),
            x: Vec::with_capacity(self.kmax + 1),
            nnls: NnlsGram::default(),
        }
    }

    fn nnz_hint(&self) -> usize {
        self.kmax.min(64)
    }

    fn encode_block(&self, w: &mut Work<T>, block: &Block<'_, T>, out: &mut ColumnSink<T>) {
        let (signals, corr) = (block.signals, &block.corr);
        let n = signals.ncols();
        let Work {
            alpha,
            support,
            banned,
            q,
            b,
            x,
            nnls,
        } = w;
        with_simd(
            #[inline(always)]
            || {
                for c in 0..n {
                    let a0 = corr.col(c);
                    let ynorm2 = signals.col(c).squared_norm_l2();
                    alpha.copy_from_slice(a0);
                    support.clear();
                    banned.clear();
                    x.clear();
                    let noise = T::epsilon() * T::cast_f64(4.0) * ynorm2.sqrt();
                    if self.tol.is_some_and(|t| ynorm2 <= t) {
                        out.push_empty();
                        continue;
                    }
                    // Each step adds an atom or bans one, so 2·m steps always suffice.
                    for _ in 0..2 * alpha.len() {
                        if support.len() >= self.kmax {
                            break;
                        }
                        let (j, amax) = argmax_pos(alpha);
                        if amax <= noise {
                            break;
                        }
                        support.push(j as u32);
                        let s = support.len();
                        q.clear();
                        for &ci in support.iter() {
                            let g = self.gram.col(ci as usize);
                            q.extend(support.iter().map(|&r| g[r as usize]));
                        }
                        b.clear();
                        b.extend(support.iter().map(|&i| a0[i as usize]));
                        x.clear();
                        x.resize(s, T::zero());
                        nnls.solve(q, b, x);
                        // Atoms the NNLS fit set to zero leave the support for good.
                        let mut t = 0;
                        while t < support.len() {
                            if x[t] <= T::zero() {
                                banned.push(support[t]);
                                support.remove(t);
                                x.remove(t);
                            } else {
                                t += 1;
                            }
                        }
                        if let Some(tol) = self.tol {
                            // ‖r‖² = ‖y‖² − 2 xᵀα0_S + xᵀ G_SS x.
                            let s = support.len();
                            let mut xgx = T::zero();
                            for (a, &ia) in support.iter().enumerate() {
                                let g = self.gram.col(ia as usize);
                                let gx: T = support
                                    .iter()
                                    .zip(x.iter())
                                    .map(|(&ib, &xb)| g[ib as usize] * xb)
                                    .fold(T::zero(), |acc, v| acc + v);
                                xgx += x[a] * gx;
                            }
                            let xb: T = (0..s)
                                .fold(T::zero(), |acc, t| acc + x[t] * a0[support[t] as usize]);
                            if ynorm2 - T::cast_f64(2.0) * xb + xgx <= tol {
                                break;
                            }
                        }
                        sub_combination(alpha, a0, &self.gram, support, x);
                        for &i in support.iter().chain(banned.iter()) {
                            alpha[i as usize] = T::zero();
                        }
                    }
                    out.push(support, x);
                }
            },
        );
    }
}
