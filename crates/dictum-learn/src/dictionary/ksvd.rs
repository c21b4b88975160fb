//! K-SVD (Aharon, Elad & Bruckstein, *K-SVD: An algorithm for designing overcomplete
//! dictionaries for sparse representation*, IEEE TSP 54(11), 2006), its approximate form
//! (Rubinstein, Zibulevsky & Elad, *Efficient implementation of the K-SVD algorithm using
//! batch orthogonal matching pursuit*, Technion CS-2008-08) and the batched parallel form of
//! DB-KSVD (Valentin et al., arXiv 2505.18441).
//!
//! Each iteration codes the signals, then sweeps the atoms: atom `k` and the coefficients of
//! the signals that use it (the set `ω`) become the best rank-1 fit `d·xᵀ` of the residual
//! restricted to `ω`, `E_ω = Y_ω − D·X_ω + d_k·x_k,ω`. Supports do not change, so with exact
//! updates done one at a time the error `‖Y − D·X‖_F` never increases during the sweep.
//!
//! With `atoms_per_batch = b > 1`, the atoms of each batch are fitted in parallel against the
//! residual at the start of the batch and the residual is corrected once per batch. That
//! trades a little progress per iteration (an atom does not see its batch-mates' updates) for
//! parallel speed; `b = 1` is sequential K-SVD.
//!
//! On a backend that runs the fused atom updates (a GPU), each sweep runs there with the
//! signals, the dictionary and the codes resident: a batch is a few batched products, and
//! an exact update is [`DEVICE_POWER_STEPS`] power steps instead of Lanczos.

use dictum_coding::{Dictionary, Encoder};
use dictum_linalg::backend::{AtomSweep, Offloaded, Op};
use dictum_linalg::exec::{Cancelled, Exec};
use dictum_linalg::{CscMatrix, MatRef, Par, Real};
use rayon::prelude::*;

use super::atom::{AtomFit, AtomUpdate, Residual, RowIndex, fit_atom};
use super::driver::{DictionaryUpdate, learn, starting_dictionary};
use super::{Common, Learned, common_setters};
use crate::error::{LearnError, Result, invalid};
use crate::fit::Learner;
use crate::rng::Rng;

/// Columns of the residual per parallel task.
const COLS: usize = 2048;

/// How K-SVD obtains the restricted residual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResidualMode {
    /// `Kept` for sequential K-SVD, `OnTheFly` for batches. Measured on W4 (50 000 patches,
    /// 256 atoms, k = 5, batches of 16): patching a kept residual after every batch sweeps
    /// the whole `d x N` buffer through memory and scaled 1.7x on 2 threads, while recomputing
    /// inside the parallel atom fits scaled 1.97x and was faster outright (0.36 s against
    /// 0.39 s for 3 iterations).
    #[default]
    Auto,
    /// Keep `R = Y − D·X` (`d x N`) and patch it after each atom (or batch): an atom costs
    /// `O(d·|ω|)` besides its SVD.
    Kept,
    /// Recompute `E_ω` from `Y` and `X` for each atom: `O(d·k·|ω|)`, but no `d x N` buffer,
    /// for signal sets that barely fit in memory.
    OnTheFly,
}

/// K-SVD and its variants. `E` is the coding step: any [`Encoder`], typically
/// [`Omp`](dictum_coding::Omp) with a sparsity target or an error target.
#[derive(Debug, Clone, PartialEq)]
pub struct Ksvd<E> {
    n_atoms: usize,
    coder: E,
    update: AtomUpdate,
    atoms_per_batch: usize,
    residual: ResidualMode,
    shuffle_atoms: bool,
    pub(crate) common: Common,
}

impl<E> Ksvd<E> {
    /// K-SVD learning `n_atoms` atoms with `coder` (a checked encoder) as its sparse-coding
    /// step. Defaults: exact atom updates, one atom at a time, the residual chosen
    /// automatically ([`ResidualMode::Auto`]), atoms in index order, 50 iterations,
    /// data-column initialisation, unused and near-duplicate atoms replaced.
    pub fn new(n_atoms: usize, coder: E) -> Self {
        Self {
            n_atoms,
            coder,
            update: AtomUpdate::Exact,
            atoms_per_batch: 1,
            residual: ResidualMode::Auto,
            shuffle_atoms: false,
            common: Common::default(),
        }
    }

    /// Exact (SVD) or approximate (one power step) atom updates.
    pub fn update(mut self, update: AtomUpdate) -> Self {
        self.update = update;
        self
    }

    /// Atoms fitted in parallel per batch (DB-KSVD); 1 is sequential K-SVD.
    pub fn atoms_per_batch(mut self, b: usize) -> Self {
        self.atoms_per_batch = b;
        self
    }

    /// Keep the residual matrix, or recompute it per atom (default [`ResidualMode::Auto`]).
    pub fn residual(mut self, mode: ResidualMode) -> Self {
        self.residual = mode;
        self
    }

    /// Sweep the atoms in a random order each iteration (KSVD.jl's `shuffle_indices`).
    pub fn shuffle_atoms(mut self, yes: bool) -> Self {
        self.shuffle_atoms = yes;
        self
    }

    common_setters!();

    /// The coding step.
    pub fn coder(&self) -> &E {
        &self.coder
    }

    /// Atoms to learn.
    pub fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    /// `ksvd`, `approx-ksvd`, or with batches, `batched-ksvd`.
    pub fn name(&self) -> &'static str {
        match (self.atoms_per_batch > 1, self.update) {
            (true, _) => "batched-ksvd",
            (false, AtomUpdate::Exact) => "ksvd",
            (false, AtomUpdate::Approximate) => "approx-ksvd",
        }
    }

    /// Checks the parameters; `fit` calls it.
    pub fn validate(&self) -> Result<()> {
        let method = self.name();
        if self.n_atoms == 0 {
            return Err(invalid(method, "n_atoms", 0, "learn at least one atom"));
        }
        if self.atoms_per_batch == 0 {
            return Err(invalid(
                method,
                "atoms_per_batch",
                0,
                "at least 1 (1 is sequential K-SVD)",
            ));
        }
        self.common.validate(method)
    }

    /// One K-SVD dictionary sweep for fixed supports: updates `dict` and the values of
    /// `codes` in place. Public so that the update can be studied (and tested) alone.
    pub fn update_dictionary<T: Real>(
        &self,
        y: MatRef<'_, T>,
        dict: &mut Dictionary<'static, T>,
        codes: &mut CscMatrix<T>,
        exec: &Exec<'_>,
    ) -> Result<()> {
        self.validate()?;
        let shape =
            |what: &'static str, expected: String, found: String| LearnError::ShapeMismatch {
                method: self.name(),
                what,
                expected,
                found,
            };
        if dict.dim() != y.nrows() {
            return Err(shape(
                "dictionary",
                format!("{} rows (the signal dimension)", y.nrows()),
                format!("{} x {}", dict.dim(), dict.n_atoms()),
            ));
        }
        if codes.nrows() != dict.n_atoms() || codes.ncols() != y.ncols() {
            return Err(shape(
                "codes",
                format!("{} x {} (atoms x signals)", dict.n_atoms(), y.ncols()),
                format!("{} x {}", codes.nrows(), codes.ncols()),
            ));
        }
        let mut rng = Rng::new(exec.seed());
        DictionaryUpdate::update(self, y, dict, codes, &mut rng, exec)
    }
}

impl<'a, T: Real, E: Encoder<T>> Learner<MatRef<'a, T>> for Ksvd<E> {
    type Start = MatRef<'a, T>;
    type Model = super::SparseModel<T>;

    /// Learns a dictionary for the signals `y` (`d x N`, one per column), from `d0`
    /// (`d x n_atoms`, normalized here) or the initial dictionary chosen by
    /// [`init`](Ksvd::init).
    fn fit_from(
        &self,
        y: MatRef<'a, T>,
        d0: Option<MatRef<'a, T>>,
        exec: &Exec<'_>,
    ) -> Result<Learned<T>> {
        self.validate()?;
        let c = &self.common;
        let (y, d0, rng) = starting_dictionary(self.name(), y, self.n_atoms, d0, c.init, exec)?;
        learn(y, d0, &self.coder, self, c, rng, exec)
    }
}

/// Power steps of an exact atom update on a device: the CPU runs Lanczos to convergence,
/// a device runs this many steps of the power iteration, warm-started from the current
/// coefficients (a few are enough once the codes are close to the atom's fit).
pub const DEVICE_POWER_STEPS: usize = 12;

impl<E> Ksvd<E> {
    /// The sweep on a backend that runs the fused atom updates (a GPU); `false` when it is
    /// to run here (the backend is the CPU or declined; the observer was told why).
    fn update_on_device<T: Real>(
        &self,
        y: MatRef<'_, T>,
        dict: &mut Dictionary<'static, T>,
        codes: &mut CscMatrix<T>,
        order: &[usize],
        exec: &Exec<'_>,
    ) -> Result<bool> {
        if !exec.offers::<T>(Op::AtomUpdates) {
            return Ok(false);
        }
        let mut atoms = dict.to_mat();
        let mut values = codes.values().to_vec();
        let job = AtomSweep {
            signals: y,
            codes,
            order,
            atoms_per_batch: self.atoms_per_batch,
            power_steps: match self.update {
                AtomUpdate::Approximate => 1,
                AtomUpdate::Exact => DEVICE_POWER_STEPS,
            },
        };
        match exec.atom_updates(&job, atoms.as_mut(), &mut values)? {
            Offloaded::OnCpu => return Ok(false),
            Offloaded::Cancelled => return Err(Cancelled.into()),
            Offloaded::Done(()) => {}
        }
        for k in 0..dict.n_atoms() {
            let col = atoms.col(k);
            if col.iter().zip(dict.atom(k)).any(|(a, b)| a != b) {
                let values: Vec<T> = col.iter().copied().collect();
                dict.set_atom(k, &values)?;
            }
        }
        codes.values_mut().copy_from_slice(&values);
        exec.progress("atoms", dict.n_atoms(), dict.n_atoms())?;
        Ok(true)
    }
}

impl<T: Real, E> DictionaryUpdate<T> for Ksvd<E> {
    fn update(
        &self,
        y: MatRef<'_, T>,
        dict: &mut Dictionary<'static, T>,
        codes: &mut CscMatrix<T>,
        rng: &mut Rng,
        exec: &Exec<'_>,
    ) -> Result<()> {
        let par = exec.par();
        let m = dict.n_atoms();
        let d = dict.dim();
        let rows = RowIndex::new(codes);
        let mut order: Vec<usize> = (0..m).collect();
        if self.shuffle_atoms {
            rng.shuffle(&mut order);
        }
        if self.update_on_device(y, dict, codes, &order, exec)? {
            return Ok(());
        }
        let n = y.ncols();
        // R = Y − D·X, column-major with stride d, so that column ranges split into slices.
        let keep = match self.residual {
            ResidualMode::Auto => self.atoms_per_batch == 1,
            mode => mode == ResidualMode::Kept,
        };
        let mut resid: Option<Vec<T>> = match keep {
            true => {
                let mut r = vec![T::zero(); d * n];
                let (dref, cref) = (dict.atoms(), &*codes);
                let fill = |(j0, chunk): (usize, &mut [T])| {
                    for (c, col) in chunk.chunks_mut(d).enumerate() {
                        let j = j0 * COLS + c;
                        for i in 0..d {
                            col[i] = y[(i, j)];
                        }
                        let (rows, vals) = cref.col(j);
                        for (&a, &v) in rows.iter().zip(vals) {
                            let da = dref.col(a as usize);
                            for i in 0..d {
                                col[i] -= v * da[i];
                            }
                        }
                    }
                };
                match par {
                    Par::Seq => r.chunks_mut(d * COLS).enumerate().for_each(fill),
                    Par::Rayon(_) => r.par_chunks_mut(d * COLS).enumerate().for_each(fill),
                }
                Some(r)
            }
            false => None,
        };
        let parallel = self.atoms_per_batch > 1 && matches!(par, Par::Rayon(_));
        for (b, batch) in order.chunks(self.atoms_per_batch).enumerate() {
            // Between atom batches: a checkpoint where the observer may cancel.
            exec.progress("atoms", b * self.atoms_per_batch, m)?;
            let fits: Vec<Result<Option<AtomFit<T>>>> = {
                let source = match &resid {
                    Some(r) => Residual::Kept(MatRef::from_column_major_slice(r, d, n)),
                    None => Residual::OnTheFly(y, codes),
                };
                let (dict_ref, values, update) = (dict.atoms(), codes.values(), self.update);
                let one = |&k: &usize| {
                    let (sig, pos) = rows.row(k);
                    fit_atom(k, sig, pos, values, dict_ref, &source, update)
                };
                if parallel {
                    batch.par_iter().map(one).collect()
                } else {
                    batch.iter().map(one).collect()
                }
            };
            let fits: Vec<(usize, AtomFit<T>)> = batch
                .iter()
                .zip(fits)
                .filter_map(|(&k, f)| f.map(|f| f.map(|f| (k, f))).transpose())
                .collect::<Result<_>>()?;
            if let Some(r) = resid.as_mut() {
                // R += d_old·x_old − d_new·x_new on every user of every refitted atom. Atoms of
                // a batch share signals, so the work splits by columns of R, not by atoms.
                let (dict_ref, values) = (dict.atoms(), codes.values());
                let patch = |(c, chunk): (usize, &mut [T])| {
                    let (c0, c1) = (c * COLS, c * COLS + chunk.len() / d);
                    for (k, fit) in &fits {
                        let (sig, pos) = rows.row(*k);
                        let lo = sig.partition_point(|&j| (j as usize) < c0);
                        let hi = sig.partition_point(|&j| (j as usize) < c1);
                        let dk = dict_ref.col(*k);
                        for t in lo..hi {
                            let (xo, xn) = (values[pos[t]], fit.coefs[t]);
                            let col = &mut chunk[(sig[t] as usize - c0) * d..][..d];
                            for i in 0..d {
                                col[i] += dk[i] * xo - fit.atom[i] * xn;
                            }
                        }
                    }
                };
                if parallel {
                    r.par_chunks_mut(d * COLS).enumerate().for_each(patch);
                } else {
                    r.chunks_mut(d * COLS).enumerate().for_each(patch);
                }
            }
            for (k, fit) in &fits {
                let (_, pos) = rows.row(*k);
                dict.set_atom(*k, &fit.atom)?;
                let values = codes.values_mut();
                for (&p, &xn) in pos.iter().zip(&fit.coefs) {
                    values[p] = xn;
                }
            }
        }
        exec.progress("atoms", m, m)?;
        Ok(())
    }
}
