//! NMF's iterations run whole on the context's backend when it offers the fused
//! factorization (`Op::Factorize`, a GPU): `V`, `W` and `H` stay on the device and each
//! iteration returns only the sums its statistics need; the stopping rule stays here. The
//! solver's own loop (`run`) runs wherever the backend declines.

use std::ops::ControlFlow;

use dictum_linalg::backend::{FactorData, FactorRule, Factorization, Offloaded, Op};
use dictum_linalg::exec::Exec;
use dictum_linalg::{Mat, Real};

use super::data::Data;
use super::multiplicative::EPS;
use super::{Factors, Nmf, NmfFit, NmfSolver};
use crate::error::Result;
use crate::fit::{Monitor, Progression};

impl Nmf {
    /// The fit from the backend, or `None` when the solver's loop is to run here.
    pub(super) fn run_on_device<T: Real>(
        &self,
        v: Data<'_, T>,
        w0: &Mat<T>,
        h0: &Mat<T>,
        exec: &Exec<'_>,
    ) -> Result<Option<NmfFit<T>>> {
        if !exec.offers::<T>(Op::Factorize) {
            return Ok(None);
        }
        let (n, p) = v.shape();
        let data = match v {
            Data::Dense(m) => FactorData::Dense(m),
            Data::Sparse { cols, rows } => FactorData::Sparse { cols, rows },
        };
        let rule = match self.solver {
            NmfSolver::Hals => FactorRule::Hals {
                sweeps: self.sweeps(n, p, v.nnz()),
            },
            NmfSolver::MultiplicativeFrobenius => FactorRule::Frobenius,
            NmfSolver::MultiplicativeKl => FactorRule::KullbackLeibler,
        };
        let job = Factorization {
            data,
            rule,
            penalty_w: self.penalties(self.alpha_w),
            penalty_h: self.penalties(self.alpha_h),
            eps: EPS,
            max_iter: self.stopping.max_iter,
        };
        let v2 = v.norm2();
        let (mut w, mut h) = (w0.clone(), h0.clone());
        let mut progress = Progression::new(&self.stopping, Monitor::Objective, exec);
        let mut failed = None;
        let ran = exec.factorize(&job, w.as_mut(), h.as_mut(), &mut |step| {
            let stats = self.stats(step, v2, p, progress.seconds());
            match progress.record(stats, false) {
                Ok(false) => ControlFlow::Continue(()),
                Ok(true) => ControlFlow::Break(()),
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            }
        })?;
        match ran {
            Offloaded::Done(()) => match failed {
                Some(e) => Err(e),
                None => Ok(Some(progress.finish(Factors { w, h }))),
            },
            Offloaded::OnCpu | Offloaded::Cancelled => Ok(None),
        }
    }
}
