//! Reference OMP: explicit residual, correlations and least squares at every step.

use dictum_linalg::cholesky::CholeskyAppend;
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Real};

use super::Selection;
use crate::dictionary::{Dictionary, Signals};
use crate::error::Result;
use crate::run::{Block, BlockKernel, ColumnSink, run_blocks};
use crate::vector::{Columns, argmax_abs, axpy, dot};

pub(super) fn encode<T: Real>(
    dict: &Dictionary<'_, T>,
    signals: Signals<'_, T>,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
    exec: &Exec<'_>,
) -> Result<CscMatrix<T>> {
    let kernel = Kernel {
        atoms: Columns::new(dict.atoms()),
        m: dict.n_atoms(),
        d: dict.dim(),
        kmax,
        tol,
        selection,
    };
    run_blocks(&kernel, dict, signals, exec)
}

struct Kernel<'a, T> {
    atoms: Columns<'a, T>,
    m: usize,
    d: usize,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
}

struct Work<T> {
    y: Vec<T>,
    r: Vec<T>,
    corr: Vec<T>,
    support: Vec<u32>,
    excluded: Vec<bool>,
    cross: Vec<T>,
    x: Vec<T>,
    chol: CholeskyAppend<T>,
}

impl<T: Real> BlockKernel<T> for Kernel<'_, T> {
    type Work = Work<T>;

    fn workspace(&self) -> Work<T> {
        Work {
            y: vec![T::zero(); self.d],
            r: vec![T::zero(); self.d],
            corr: vec![T::zero(); self.m],
            support: Vec::with_capacity(self.kmax),
            excluded: vec![false; self.m],
            cross: Vec::with_capacity(self.kmax),
            x: Vec::with_capacity(self.kmax),
            chol: CholeskyAppend::with_capacity(self.kmax),
        }
    }

    fn nnz_hint(&self) -> usize {
        self.kmax.min(64)
    }

    /// The textbook algorithm forms its own correlations from the residual.
    fn needs_correlations(&self) -> bool {
        false
    }

    fn encode_block(&self, w: &mut Work<T>, block: &Block<'_, T>, out: &mut ColumnSink<T>) {
        let signals = block.signals;
        for c in 0..signals.ncols() {
            for i in 0..self.d {
                w.y[i] = signals[(i, c)];
            }
            self.one(w);
            out.push(&w.support, &w.x);
        }
    }
}

impl<T: Real> Kernel<'_, T> {
    fn one(&self, w: &mut Work<T>) {
        w.r.copy_from_slice(&w.y);
        w.support.clear();
        w.x.clear();
        w.chol.clear();
        w.excluded.iter_mut().for_each(|e| *e = false);
        let ynorm2 = dot(&w.y, &w.y);
        let noise = T::epsilon() * T::cast_f64(4.0) * ynorm2.sqrt();
        if self.tol.is_some_and(|t| ynorm2 <= t) {
            return;
        }
        while w.support.len() < self.kmax {
            for j in 0..self.m {
                w.corr[j] = if w.excluded[j] {
                    T::zero()
                } else {
                    let c = dot(self.atoms.col(j), &w.r);
                    match self.selection {
                        Selection::Omp => c,
                        // ORMP: c² / ‖P⊥d_j‖², with the projection from the factor.
                        Selection::Ormp => {
                            let dj = self.atoms.col(j);
                            w.cross.clear();
                            for &i in &w.support {
                                w.cross.push(dot(self.atoms.col(i as usize), dj));
                            }
                            let ok = w.chol.forward_substitute_in_place(&mut w.cross).is_ok();
                            let nu = dot(dj, dj) - dot(&w.cross, &w.cross);
                            let floor = T::epsilon() * T::cast_usize(100 * (w.support.len() + 1));
                            if ok && nu > floor {
                                c * c / nu
                            } else {
                                T::zero()
                            }
                        }
                    }
                };
            }
            let (j, amax) = argmax_abs(&w.corr);
            let amax = match self.selection {
                Selection::Omp => amax,
                Selection::Ormp => amax.sqrt(),
            };
            if amax <= noise {
                break;
            }
            let dj = self.atoms.col(j);
            w.cross.clear();
            for &i in &w.support {
                w.cross.push(dot(self.atoms.col(i as usize), dj));
            }
            w.excluded[j] = true;
            if w.chol.push(&w.cross, dot(dj, dj)).is_err() {
                // Collinear with the support: skip this atom.
                continue;
            }
            w.support.push(j as u32);
            // x = (D_Iᵀ D_I)⁻¹ D_Iᵀ y, then r = y − D_I x.
            w.x.clear();
            for &i in &w.support {
                w.x.push(dot(self.atoms.col(i as usize), &w.y));
            }
            if w.chol.solve_in_place(&mut w.x).is_err() {
                break;
            }
            w.r.copy_from_slice(&w.y);
            for (&i, &xi) in w.support.iter().zip(&w.x) {
                axpy(&mut w.r, -xi, self.atoms.col(i as usize));
            }
            if self.tol.is_some_and(|t| dot(&w.r, &w.r) <= t) {
                break;
            }
        }
    }
}
