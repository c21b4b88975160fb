//! Orthogonal Matching Pursuit (Pati, Rezaiifar & Krishnaprasad 1993; Mallat & Zhang 1993).
//!
//! OMP grows the support one atom at a time — the atom most correlated with the current
//! residual — and re-fits all coefficients on the support by least squares, so the residual is
//! always orthogonal to the chosen atoms. It stops at `n_nonzero_coefs` atoms (sparsity-
//! constrained), when the squared residual norm drops to `tol` (error-constrained, used for
//! denoising), or at whichever comes first when both are set.
//!
//! Two implementations give the same supports and values:
//!
//! - [`OmpVariant::Batch`] (default) is **Batch-OMP** (Rubinstein, Zibulevsky & Elad,
//!   *Efficient implementation of the K-SVD algorithm using batch orthogonal matching pursuit*,
//!   Technion CS-2008-08): one GEMM `Dᵀ·Y` per block of signals and the Gram matrix `Dᵀ·D`
//!   replace every product with `D`; the least-squares system grows by a progressive Cholesky
//!   factor, and the residual is never formed. Per signal and step it costs `O(m·s)`.
//! - [`OmpVariant::Reference`] forms the residual and its correlations with `D` at every step
//!   (`O(d·m)` per step). It is the textbook algorithm, kept to check the fast one.
//!
//! On a context whose backend runs the fused pursuit (a GPU, `dictum-gpu`), Batch-OMP and
//! Batch-ORMP run there whole: the correlations, every step and the final coefficients, with
//! the rules and tolerances of the CPU kernel; the CPU kernel runs wherever the backend
//! declines.
//!
//! [`Selection::Ormp`] switches the greedy rule to order-recursive matching pursuit (the rule of
//! SPAMS' `omp`), in both implementations.
//!
//! With [`Omp::positive`] the coefficients are constrained to be non-negative (NN-OMP, as in
//! Bruckstein, Elad & Zibulevsky 2008): the atom with the largest *positive* correlation is
//! added, and the coefficients on the support are fitted by non-negative least squares.

mod batch;
mod nonneg;
mod reference;

use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Real};

use crate::dictionary::{Dictionary, Signals};
use crate::error::{CodingError, Result, check_stopping_rule};

/// Which OMP implementation runs; both return the same codes up to rounding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OmpVariant {
    /// Batch-OMP with the Gram matrix and a progressive Cholesky factor (fast).
    #[default]
    Batch,
    /// Explicit residual and least squares per step (slow, simple; for checking).
    Reference,
}

/// How OMP picks the next atom.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Selection {
    /// The atom most correlated with the residual, `argmax |d_jᵀr|` (OMP as in scikit-learn,
    /// KSVD.jl and Rubinstein's Batch-OMP).
    #[default]
    Omp,
    /// The atom whose part orthogonal to the support best explains the residual,
    /// `argmax (d_jᵀr)² / ‖P⊥d_j‖²`: order-recursive matching pursuit (ORMP; Cotter, Adler,
    /// Rao & Kreutz-Delgado 1999), also called optimized OMP. Each step gives the largest
    /// possible decrease of the residual. SPAMS' `omp` is this rule; use it to reproduce
    /// SPAMS' supports. Same cost as OMP.
    Ormp,
}

/// Parameters of OMP (see the [module docs](self)).
///
/// ```
/// use dictum_coding::{Dictionary, Encoder, Omp};
/// use dictum_linalg::{exec::Exec, view};
/// // Three unit atoms in R²; the signal is 2·e₁ − 1·e₂.
/// let d = [1.0f64, 0.0, 0.0, 1.0, 0.6, 0.8];
/// let y = [2.0f64, -1.0];
/// let dict = Dictionary::new(view::col_major(&d, 2, 3)?)?;
/// let omp = Omp::new().n_nonzero_coefs(2).check()?;
/// let x = omp.encode(&dict, view::col_major(&y, 2, 1)?, &Exec::default())?;
/// assert_eq!(x.col(0).0, &[0, 1]);
/// # Ok::<(), dictum_coding::CodingError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Omp {
    n_nonzero_coefs: Option<usize>,
    tol: Option<f64>,
    variant: OmpVariant,
    selection: Selection,
    positive: bool,
}

impl Omp {
    /// OMP with no stopping rule yet: set [`n_nonzero_coefs`](Self::n_nonzero_coefs),
    /// [`tol`](Self::tol), or both.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stop at `k` atoms per signal (sklearn `n_nonzero_coefs`, SPAMS `L`).
    pub fn n_nonzero_coefs(mut self, k: usize) -> Self {
        self.n_nonzero_coefs = Some(k);
        self
    }

    /// Stop when the squared residual norm `‖y − D·x‖²` is at most `tol` (sklearn `tol`,
    /// SPAMS `eps`).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = Some(tol);
        self
    }

    /// Chooses the implementation (default [`OmpVariant::Batch`]).
    pub fn variant(mut self, variant: OmpVariant) -> Self {
        self.variant = variant;
        self
    }

    /// Chooses the atom-selection rule (default [`Selection::Omp`]).
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// Constrains coefficients to be non-negative (NN-OMP; always selects by correlation).
    pub fn positive(mut self, positive: bool) -> Self {
        self.positive = positive;
        self
    }

    /// The sparsity target, if set.
    pub fn get_n_nonzero_coefs(&self) -> Option<usize> {
        self.n_nonzero_coefs
    }

    /// The squared-residual tolerance, if set.
    pub fn get_tol(&self) -> Option<f64> {
        self.tol
    }

    /// Checks the parameters on their own (the dictionary is checked by `encode`).
    pub fn validate(&self) -> Result<()> {
        check_stopping_rule("omp", self.n_nonzero_coefs, self.tol)
    }

    /// The largest support a signal may get from `dict`.
    fn max_support(&self, m: usize, d: usize) -> Result<usize> {
        if let Some(k) = self.n_nonzero_coefs {
            if k > m {
                return Err(CodingError::SparsityExceedsAtoms {
                    method: "omp",
                    k,
                    m,
                });
            }
            // More than d atoms are always linearly dependent; the Cholesky pivot test stops
            // earlier on a lower rank.
            Ok(k.min(d))
        } else {
            Ok(m.min(d))
        }
    }
}

impl Omp {
    /// `batch-omp`, `omp` (the reference implementation), `batch-ormp`, `ormp` or `nn-omp`.
    pub fn name(&self) -> &'static str {
        match (self.variant, self.selection, self.positive) {
            (_, _, true) => "nn-omp",
            (OmpVariant::Batch, Selection::Omp, false) => "batch-omp",
            (OmpVariant::Reference, Selection::Omp, false) => "omp",
            (OmpVariant::Batch, Selection::Ormp, false) => "batch-ormp",
            (OmpVariant::Reference, Selection::Ormp, false) => "ormp",
        }
    }

    /// Codes `signals` with parameters already checked.
    pub(crate) fn run<T: Real>(
        &self,
        dict: &Dictionary<'_, T>,
        signals: Signals<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        dict.check_signal_shape("omp", signals.view())?;
        let kmax = self.max_support(dict.n_atoms(), dict.dim())?;
        let tol = self.tol.map(T::cast_f64);
        if self.positive {
            return nonneg::encode(dict, signals, kmax, tol, exec);
        }
        match self.variant {
            OmpVariant::Batch => batch::encode(dict, signals, kmax, tol, self.selection, exec),
            OmpVariant::Reference => {
                reference::encode(dict, signals, kmax, tol, self.selection, exec)
            }
        }
    }
}
