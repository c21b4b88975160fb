//! Coders that run whole on the context's backend when it offers the fused pursuit
//! (`Op::Pursuit`, a GPU): Batch-OMP and Batch-ORMP, Matching Pursuit, and top-k
//! thresholding. The signals go to the device once and only the chosen atoms and their
//! values come back; wherever the backend declines, the coder's block driver runs here.

use dictum_linalg::backend::{Offloaded, Op, Pursuit, PursuitRule};
use dictum_linalg::exec::Exec;
use dictum_linalg::view::check_finite_par;
use dictum_linalg::{CscMatrix, MatRef, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::error::{CodingError, Result};
use crate::run::codes_from_slots;

/// The codes from the backend's pursuit with `rule`, or `None` when the coder is to run on
/// the CPU (the backend is the CPU or declined; the observer was told why). `gram` is the
/// dictionary's Gram matrix, for the rules that read it.
pub(crate) fn encode<T: Real>(
    dict: &Dictionary<'_, T>,
    gram: Option<MatRef<'_, T>>,
    signals: Signals<'_, T>,
    max_atoms: usize,
    tol: Option<T>,
    rule: PursuitRule,
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
    let gram = gram.map(|g| exec.resident(g));
    let job = Pursuit {
        atoms: (&atoms).into(),
        gram: gram.as_ref().map(Into::into),
        signals: signals.view(),
        max_atoms,
        tol,
        rule,
        offsets: None,
    };
    match exec.pursuit(&job)? {
        Offloaded::Done(codes) => Ok(Some(codes_from_slots(dict.n_atoms(), &codes, exec)?)),
        Offloaded::OnCpu => Ok(None),
        Offloaded::Cancelled => Err(CodingError::Cancelled),
    }
}
