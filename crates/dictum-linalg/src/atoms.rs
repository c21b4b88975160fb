//! K-SVD's dictionary update as one fused operation of the seam
//! ([`Op::AtomUpdates`](crate::backend::Op)): a device refits batches of atoms with the
//! signals, the dictionary and the codes resident, and returns the dictionary and the code
//! values once per sweep.
//!
//! Atom `k` and the coefficients of its users `ω` become the best rank-1 fit `d·xᵀ` of the
//! residual restricted to `ω`, `E = Y_ω − D·X_ω + d_k·x_kᵀ` (Aharon, Elad & Bruckstein 2006),
//! by power steps warm-started from the current coefficients: `u = E·v / ‖E·v‖`, `v = Eᵀ·u`
//! — one step is approximate K-SVD (Rubinstein, Zibulevsky & Elad 2008). The atoms of a
//! batch are fitted together against the state at the start of the batch (DB-KSVD,
//! Valentin et al. 2025), so a batch is a handful of batched products: `Y·Vᵀ`, `X·Vᵀ`,
//! `D·W`, `Dᵀ·U` and `Yᵀ·U` at the users, never `E` itself. As on the CPU, an atom keeps its
//! orientation (`dᵀd_old ≥ 0`), an atom without users is left as it is, and one whose
//! restricted residual vanishes keeps its atom and gets zero coefficients.

use crate::csc::CscMatrix;
use faer::MatRef;

/// One sweep of atom updates for fixed supports.
#[derive(Debug, Clone, Copy)]
pub struct AtomSweep<'a, T> {
    /// The signals `Y`, `d x N` (finite; checked by the caller).
    pub signals: MatRef<'a, T>,
    /// The codes `X`, `m x N`: their supports stay, their values are the starting point.
    pub codes: &'a CscMatrix<T>,
    /// Every atom once, in the order of the sweep.
    pub order: &'a [usize],
    /// Atoms fitted together, `≥ 1`.
    pub atoms_per_batch: usize,
    /// Power steps per atom: 1 is approximate K-SVD; more approach the exact update.
    pub power_steps: usize,
}
