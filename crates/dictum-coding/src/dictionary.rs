//! The dictionary a sparse coder works with: checked once, optionally with its Gram matrix.

use dictum_linalg::view::check_finite;
use dictum_linalg::{Mat, MatRef, Par, Real, gemm};

use crate::error::{CodingError, Result};

/// How far an atom's norm may be from 1 before [`Dictionary::new`] refuses it.
///
/// Loose enough for dictionaries normalized in `f32` and stored, tight enough that coefficients
/// mean what they say.
pub const UNIT_NORM_TOLERANCE: f64 = 1e-4;

/// A `d x m` dictionary `D` (one unit-norm atom per column), checked for use by an encoder.
///
/// Checking happens once, here: the atoms are finite, non-zero and of unit norm. The Gram
/// matrix `G = Dᵀ·D` that Batch-OMP, LARS, FISTA and MP-with-Gram use can be computed once and
/// kept ([`with_gram`](Self::with_gram)), or borrowed from the caller
/// ([`with_given_gram`](Self::with_given_gram)) when the same dictionary codes many batches.
///
/// ```
/// use dictum_coding::Dictionary;
/// use dictum_linalg::{Par, view};
/// let d = [0.6f64, 0.8, 1.0, 0.0]; // two unit-norm atoms in R²
/// let dict = Dictionary::new(view::col_major(&d, 2, 2)?)?.with_gram(Par::Seq)?;
/// assert_eq!((dict.dim(), dict.n_atoms()), (2, 2));
/// assert!((dict.gram().unwrap()[(0, 1)] - 0.6).abs() < 1e-12);
/// # Ok::<(), dictum_coding::CodingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dictionary<'a, T> {
    atoms: MatRef<'a, T>,
    gram: Option<GramSlot<'a, T>>,
}

#[derive(Debug, Clone)]
enum GramSlot<'a, T> {
    Owned(Mat<T>),
    Borrowed(MatRef<'a, T>),
}

impl<'a, T: Real> Dictionary<'a, T> {
    /// Checks `atoms` (`d x m`): non-empty, finite, every column of unit norm (within
    /// [`UNIT_NORM_TOLERANCE`]). A non-normalized dictionary is an error that says so; use
    /// [`normalized`](Self::normalized) to normalize a copy instead.
    pub fn new(atoms: MatRef<'a, T>) -> Result<Self> {
        check_atoms(atoms)?;
        for j in 0..atoms.ncols() {
            let norm = atoms.col(j).norm_l2().into_f64();
            if norm == 0.0 {
                return Err(CodingError::ZeroAtom { atom: j });
            }
            if (norm - 1.0).abs() > UNIT_NORM_TOLERANCE {
                return Err(CodingError::NotNormalized { atom: j, norm });
            }
        }
        Ok(Self { atoms, gram: None })
    }

    /// Returns a unit-norm copy of `atoms` (the opt-in for dictionaries that are not normalized),
    /// together with the original norms. Zero atoms are an error.
    pub fn normalized(atoms: MatRef<'_, T>) -> Result<(Mat<T>, Vec<T>)> {
        check_atoms(atoms)?;
        let mut out = atoms.to_owned();
        let info = dictum_linalg::norms::normalize_columns(out.as_mut());
        if let Some(&atom) = info.zero_columns.first() {
            return Err(CodingError::ZeroAtom { atom });
        }
        Ok((out, info.norms))
    }

    /// Computes and keeps the Gram matrix `Dᵀ·D` (symmetric, `m x m`).
    pub fn with_gram(mut self, par: Par) -> Result<Self> {
        if self.gram.is_none() {
            self.gram = Some(GramSlot::Owned(gemm::gram(self.atoms, par)?));
        }
        Ok(self)
    }

    /// Uses a Gram matrix the caller already has. It must be `m x m` and finite; its symmetry
    /// and agreement with `Dᵀ·D` are the caller's promise.
    pub fn with_given_gram(mut self, gram: MatRef<'a, T>) -> Result<Self> {
        let m = self.n_atoms();
        if gram.nrows() != m || gram.ncols() != m {
            return Err(CodingError::ShapeMismatch {
                method: "dictionary",
                what: "Gram matrix",
                expected: format!("{m}x{m}"),
                found: format!("{}x{}", gram.nrows(), gram.ncols()),
                hint: "pass Dᵀ·D for this dictionary",
            });
        }
        check_finite("Gram matrix", gram)?;
        self.gram = Some(GramSlot::Borrowed(gram));
        Ok(self)
    }

    /// The atoms, `d x m`.
    pub fn atoms(&self) -> MatRef<'a, T> {
        self.atoms
    }

    /// The Gram matrix, if one was computed or given.
    pub fn gram(&self) -> Option<MatRef<'_, T>> {
        self.gram.as_ref().map(|g| match g {
            GramSlot::Owned(m) => m.as_ref(),
            GramSlot::Borrowed(m) => *m,
        })
    }

    /// Signal dimension `d`.
    pub fn dim(&self) -> usize {
        self.atoms.nrows()
    }

    /// Number of atoms `m`.
    pub fn n_atoms(&self) -> usize {
        self.atoms.ncols()
    }

    /// The Gram matrix: the kept one, or one computed now into `slot`.
    pub(crate) fn gram_or_compute<'s>(
        &'s self,
        slot: &'s mut Option<Mat<T>>,
        par: Par,
    ) -> Result<MatRef<'s, T>> {
        if let Some(g) = self.gram() {
            return Ok(g);
        }
        let g = slot.insert(gemm::gram(self.atoms, par)?);
        Ok(g.as_ref())
    }

    /// Checks that `signals` is `d x N` for this dictionary, with `N ≥ 1`, and finite.
    pub(crate) fn check_signals(&self, method: &'static str, signals: MatRef<'_, T>) -> Result<()> {
        self.check_signal_shape(method, signals)?;
        Ok(check_finite("signals", signals)?)
    }

    /// Checks that `signals` is `d x N` for this dictionary, with `N ≥ 1`: what coders that
    /// run through `run_blocks` check first (it checks finiteness block by block).
    pub(crate) fn check_signal_shape(
        &self,
        method: &'static str,
        signals: MatRef<'_, T>,
    ) -> Result<()> {
        if signals.ncols() == 0 {
            return Err(CodingError::Empty {
                what: "signals",
                nrows: signals.nrows(),
                ncols: 0,
            });
        }
        if signals.nrows() != self.dim() {
            return Err(CodingError::ShapeMismatch {
                method,
                what: "signals",
                expected: format!("{} rows (the dictionary's dimension d)", self.dim()),
                found: format!("{}x{}", signals.nrows(), signals.ncols()),
                hint: "signals are columns: pass Y as d x N (a C-order N x d .npy reads as d x N)",
            });
        }
        Ok(())
    }
}

fn check_atoms<T: Real>(atoms: MatRef<'_, T>) -> Result<()> {
    if atoms.nrows() == 0 || atoms.ncols() == 0 {
        return Err(CodingError::Empty {
            what: "dictionary",
            nrows: atoms.nrows(),
            ncols: atoms.ncols(),
        });
    }
    Ok(check_finite("dictionary", atoms)?)
}
