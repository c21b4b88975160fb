//! The checked inputs of a sparse coder: a dictionary checked once (and kept valid by every
//! change made to it), and signals checked once per fit.

use dictum_linalg::exec::Exec;
use dictum_linalg::view::{check_finite, check_finite_par};
use dictum_linalg::{Mat, MatRef, Real};

use crate::error::{CodingError, Result};

/// How far an atom's norm may be from 1 before [`Dictionary::new`] refuses it.
///
/// Loose enough for dictionaries normalized in `f32` and stored, tight enough that coefficients
/// mean what they say.
pub const UNIT_NORM_TOLERANCE: f64 = 1e-4;

/// A `d x m` dictionary `D` (one unit-norm atom per column), checked for use by an encoder.
///
/// Checking happens once, when it is made: the atoms are finite, non-zero and of unit norm.
/// A dictionary a learner owns ([`Dictionary::owned`]) changes atom by atom through
/// [`set_atom`](Self::set_atom), which checks only the new atom, so it never needs checking
/// again. The Gram matrix `G = Dᵀ·D` that Batch-OMP, LARS, FISTA and MP-with-Gram use can be
/// computed once and kept ([`with_gram`](Self::with_gram)), or borrowed from the caller
/// ([`with_given_gram`](Self::with_given_gram)) when the same dictionary codes many batches.
///
/// ```
/// use dictum_coding::Dictionary;
/// use dictum_linalg::{exec::Exec, view};
/// let d = [0.6f64, 0.8, 1.0, 0.0]; // two unit-norm atoms in R²
/// let dict = Dictionary::new(view::col_major(&d, 2, 2)?)?.with_gram(&Exec::default())?;
/// assert_eq!((dict.dim(), dict.n_atoms()), (2, 2));
/// assert!((dict.gram().unwrap()[(0, 1)] - 0.6).abs() < 1e-12);
/// # Ok::<(), dictum_coding::CodingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dictionary<'a, T> {
    atoms: Atoms<'a, T>,
    gram: Option<GramSlot<'a, T>>,
}

#[derive(Debug, Clone)]
enum Atoms<'a, T> {
    Borrowed(MatRef<'a, T>),
    /// Column-major, column `j` at `data[j·d..(j + 1)·d]`.
    Owned {
        data: Vec<T>,
        d: usize,
        m: usize,
    },
}

#[derive(Debug, Clone)]
enum GramSlot<'a, T> {
    Owned(Mat<T>),
    Borrowed(MatRef<'a, T>),
}

/// Checks that one atom is finite, non-zero and of unit norm.
fn check_atom(atom: usize, norm: f64) -> Result<()> {
    if !norm.is_finite() || norm == 0.0 {
        return Err(CodingError::ZeroAtom { atom });
    }
    if (norm - 1.0).abs() > UNIT_NORM_TOLERANCE {
        return Err(CodingError::NotNormalized { atom, norm });
    }
    Ok(())
}

impl<'a, T: Real> Dictionary<'a, T> {
    /// Checks `atoms` (`d x m`): non-empty, finite, every column of unit norm (within
    /// [`UNIT_NORM_TOLERANCE`]). A non-normalized dictionary is an error that says so; use
    /// [`normalized`](Self::normalized) to normalize a copy instead.
    ///
    /// The atoms are borrowed when their columns are contiguous in memory (any column-major
    /// buffer), else copied once.
    pub fn new(atoms: MatRef<'a, T>) -> Result<Self> {
        check_atoms(atoms)?;
        for j in 0..atoms.ncols() {
            check_atom(j, atoms.col(j).norm_l2().into_f64())?;
        }
        let atoms = if atoms.row_stride() == 1 {
            Atoms::Borrowed(atoms)
        } else {
            Atoms::owned_copy(atoms)
        };
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
    pub fn with_gram(mut self, exec: &Exec<'_>) -> Result<Self> {
        if self.gram.is_none() {
            self.gram = Some(GramSlot::Owned(exec.gram(self.atoms())?));
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
    pub fn atoms(&self) -> MatRef<'_, T> {
        match &self.atoms {
            Atoms::Borrowed(a) => *a,
            Atoms::Owned { data, d, m } => MatRef::from_column_major_slice(data, *d, *m),
        }
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
        match &self.atoms {
            Atoms::Borrowed(a) => a.nrows(),
            Atoms::Owned { d, .. } => *d,
        }
    }

    /// Number of atoms `m`.
    pub fn n_atoms(&self) -> usize {
        match &self.atoms {
            Atoms::Borrowed(a) => a.ncols(),
            Atoms::Owned { m, .. } => *m,
        }
    }

    /// A borrowed copy of this dictionary (and of its Gram matrix, if kept), not checked again.
    pub fn view(&self) -> Dictionary<'_, T> {
        Dictionary {
            atoms: Atoms::Borrowed(self.atoms()),
            gram: self.gram().map(GramSlot::Borrowed),
        }
    }

    /// The dictionary's first `m` atoms, a dictionary of its own (not checked again).
    pub fn prefix(&self, m: usize) -> Result<Dictionary<'_, T>> {
        if m == 0 || m > self.n_atoms() {
            return Err(CodingError::InvalidParameter {
                method: "dictionary",
                name: "prefix",
                value: m.to_string(),
                hint: "a prefix holds between 1 and all of the atoms",
            });
        }
        Ok(Dictionary {
            atoms: Atoms::Borrowed(self.atoms().subcols(0, m)),
            gram: None,
        })
    }

    /// The atoms as an owned matrix.
    pub fn to_mat(&self) -> Mat<T> {
        self.atoms().to_owned()
    }

    /// Atom `k`, a slice of length `d`.
    pub fn atom(&self, k: usize) -> &[T] {
        match &self.atoms {
            Atoms::Owned { data, d, .. } => &data[k * d..(k + 1) * d],
            // `new` borrows only views with contiguous columns, so the slice always exists.
            Atoms::Borrowed(a) => a.col(k).try_as_col_major().map_or(&[], |c| c.as_slice()),
        }
    }

    /// Replaces atom `k` by `values` (length `d`), which must be finite and of unit norm:
    /// the one atom is checked, so the dictionary stays valid (a borrowed dictionary becomes
    /// an owned copy first). A kept Gram matrix is dropped. On error nothing changes.
    pub fn set_atom(&mut self, k: usize, values: &[T]) -> Result<()> {
        let (d, m) = (self.dim(), self.n_atoms());
        if k >= m || values.len() != d {
            return Err(CodingError::ShapeMismatch {
                method: "dictionary",
                what: "new atom",
                expected: format!("atom index < {m}, {d} values"),
                found: format!("atom {k}, {} values", values.len()),
                hint: "replace an existing atom with a vector of the signal dimension",
            });
        }
        let norm = values
            .iter()
            .map(|v| v.into_f64() * v.into_f64())
            .sum::<f64>()
            .sqrt();
        check_atom(k, norm)?;
        if let Atoms::Borrowed(a) = &self.atoms {
            self.atoms = Atoms::owned_copy(*a);
        }
        if let Atoms::Owned { data, .. } = &mut self.atoms {
            data[k * d..(k + 1) * d].copy_from_slice(values);
        }
        self.gram = None;
        Ok(())
    }

    /// The atoms as a matrix, consuming the dictionary.
    pub fn into_mat(self) -> Mat<T> {
        self.to_mat()
    }

    /// Gram matrix: the kept one, or one computed now into `slot`.
    pub(crate) fn gram_or_compute<'s>(
        &'s self,
        slot: &'s mut Option<Mat<T>>,
        exec: &Exec<'_>,
    ) -> Result<MatRef<'s, T>> {
        if let Some(g) = self.gram() {
            return Ok(g);
        }
        let g = slot.insert(exec.gram(self.atoms())?);
        Ok(g.as_ref())
    }

    /// Checks that `signals` is `d x N` for this dictionary, with `N ≥ 1`.
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

impl<T: Real> Dictionary<'static, T> {
    /// A copy of `atoms` (`d x m`), checked as by [`new`](Dictionary::new): the form a learner
    /// keeps and changes atom by atom with [`set_atom`](Dictionary::set_atom).
    pub fn owned(atoms: MatRef<'_, T>) -> Result<Self> {
        Dictionary::new(atoms)?;
        Ok(Self {
            atoms: Atoms::owned_copy(atoms),
            gram: None,
        })
    }
}

impl<T: Real> Atoms<'_, T> {
    fn owned_copy(a: MatRef<'_, T>) -> Self {
        let (d, m) = (a.nrows(), a.ncols());
        let mut data = Vec::with_capacity(d * m);
        for j in 0..m {
            data.extend(a.col(j).iter().copied());
        }
        Atoms::Owned { data, d, m }
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

/// Signals `Y` (`d x N`, one per column) for an encoder, with what is known about them: either
/// checked once, up front ([`Signals::new`]: a learner does this once per fit and codes them
/// many times), or to be checked block by block while they are coded ([`Signals::lazy`]:
/// a single encode, where the check then runs on data already in cache).
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a, T> {
    view: MatRef<'a, T>,
    checked: bool,
}

impl<'a, T: Real> Signals<'a, T> {
    /// Checks `view` now: at least one signal and one row, every entry finite (in parallel
    /// under the context's threads; the error names the first bad entry).
    pub fn new(view: MatRef<'a, T>, exec: &Exec<'_>) -> Result<Self> {
        if view.nrows() == 0 || view.ncols() == 0 {
            return Err(CodingError::Empty {
                what: "signals",
                nrows: view.nrows(),
                ncols: view.ncols(),
            });
        }
        check_finite_par("signals", view, exec.par())?;
        Ok(Self {
            view,
            checked: true,
        })
    }

    /// Signals that the encoder checks block by block as it codes them (an error still names
    /// the first bad entry of the whole matrix).
    pub fn lazy(view: MatRef<'a, T>) -> Self {
        Self {
            view,
            checked: false,
        }
    }

    /// The signals.
    pub fn view(&self) -> MatRef<'a, T> {
        self.view
    }

    /// Whether they were checked up front.
    pub fn is_checked(&self) -> bool {
        self.checked
    }

    /// Copies the columns `idx` (a mini-batch) into `buf` and returns them, known as these
    /// are: a learner's batches of checked signals need no check of their own.
    pub fn gather_into<'b>(&self, idx: &[usize], buf: &'b mut Mat<T>) -> Signals<'b, T> {
        let v = self.view;
        if buf.nrows() != v.nrows() || buf.ncols() != idx.len() {
            *buf = Mat::from_fn(v.nrows(), idx.len(), |i, c| v[(i, idx[c])]);
        } else {
            for (c, &j) in idx.iter().enumerate() {
                buf.col_mut(c).copy_from(v.col(j));
            }
        }
        Signals {
            view: buf.as_ref(),
            checked: self.checked,
        }
    }

    /// Other signals derived from these (a residual), checked as these were.
    pub(crate) fn with_view<'b>(&self, view: MatRef<'b, T>) -> Signals<'b, T> {
        Signals {
            view,
            checked: self.checked,
        }
    }

    /// Columns `start..start + len`, with what is known about them.
    pub fn subcols(&self, start: usize, len: usize) -> Self {
        Self {
            view: self.view.subcols(start, len),
            checked: self.checked,
        }
    }
}
