//! Batch-OMP and Batch-ORMP run whole on the context's backend, when it offers the fused
//! pursuit (`Op::Pursuit`, a GPU): the signals go to the device once and only their supports
//! and coefficients come back. Otherwise the block driver's CPU kernels run (`batch.rs`).

use dictum_linalg::backend::{Offloaded, Op, Pursuit, PursuitRule};
use dictum_linalg::exec::Exec;
use dictum_linalg::view::check_finite_par;
use dictum_linalg::{CscMatrix, MatRef, Real};

use super::Selection;
use crate::dictionary::{Dictionary, Signals};
use crate::error::{CodingError, Result};
use crate::run::codes_from_slots;

/// The codes from the backend's pursuit, or `None` when the CPU is to run the coder (the
/// backend is the CPU or declined; the observer was told why).
pub(super) fn encode<T: Real>(
    dict: &Dictionary<'_, T>,
    gram: MatRef<'_, T>,
    signals: Signals<'_, T>,
    kmax: usize,
    tol: Option<T>,
    selection: Selection,
    exec: &Exec<'_>,
) -> Result<Option<CscMatrix<T>>> {
    if !exec.offers::<T>(Op::Pursuit) {
        return Ok(None);
    }
    // The device reads every signal in one go: check them all first, so that the error
    // names the first bad entry as the block driver's would.
    if !signals.is_checked() {
        check_finite_par("signals", signals.view(), exec.par())?;
    }
    let atoms = exec.resident(dict.atoms());
    let gram = exec.resident(gram);
    let job = Pursuit {
        atoms: (&atoms).into(),
        gram: (&gram).into(),
        signals: signals.view(),
        max_atoms: kmax,
        tol,
        rule: match selection {
            Selection::Omp => PursuitRule::Omp,
            Selection::Ormp => PursuitRule::Ormp,
        },
    };
    match exec.pursuit(&job)? {
        Offloaded::Done(codes) => Ok(Some(codes_from_slots(dict.n_atoms(), &codes, exec)?)),
        Offloaded::OnCpu => Ok(None),
        Offloaded::Cancelled => Err(CodingError::Cancelled),
    }
}
