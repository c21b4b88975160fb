//! Greedy pursuit as one fused operation of the seam ([`Op::Pursuit`](crate::backend::Op)):
//! atoms chosen from the correlations `Dᵀ·Y` of many signals at once, run whole on a device —
//! Batch-OMP and Batch-ORMP, and the selections without least squares: Matching Pursuit,
//! top-k thresholding and k-means' nearest centre.
//!
//! The products of a pursuit (`Dᵀ·Y` once, then a Gram column per step) are small next to
//! the transfers they would cost one at a time: a device that ran only the GEMM would send
//! the `m x N` correlations back for the CPU's steps. A backend that implements
//! `Kernels::pursuit` instead takes the signals, computes their correlations, runs every step
//! on the device and returns only the supports and coefficients (`2·k` numbers per signal).
//! The CPU backend never runs it: the coders' own kernels are the CPU path (`dictum-coding`'s
//! `omp` module), and `Exec::pursuit` tells the caller to run them.
//!
//! The rules are the CPU's (Rubinstein, Zibulevsky & Elad 2008 for Batch-OMP; Cotter et al.
//! 1999 for ORMP): the same stopping tests (sparsity, squared-residual tolerance, correlations
//! at the rounding level of the signal) and the same refusal of atoms numerically in the span
//! of the support, so that a device chooses the CPU's supports except at near-ties.

use crate::operand::Input;
use faer::MatRef;

/// Which atoms a pursuit chooses, and what it returns for them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PursuitRule {
    /// The atom most correlated with the residual, `argmax |d_jᵀr|`, then least squares on
    /// the support (OMP).
    Omp,
    /// The atom whose part orthogonal to the support best explains the residual,
    /// `argmax (d_jᵀr)² / ‖P⊥d_j‖²` (ORMP, SPAMS' `omp`).
    Ormp,
    /// Matching Pursuit: at most `max_steps` steps of `argmax |d_jᵀr|`, each adding the
    /// correlation to the atom's coefficient; an atom may come back, and a step that would
    /// bring a distinct atom past `max_atoms` is not taken. Codes hold the distinct atoms.
    Mp {
        /// Steps at most.
        max_steps: usize,
    },
    /// The `max_atoms` largest correlations above zero, by magnitude or, with `positive`,
    /// by value; codes hold the correlations (ties: the lower atom).
    TopK {
        /// Rank by value (non-negative codes) instead of magnitude.
        positive: bool,
    },
    /// The atom maximizing `d_jᵀy − offsets[j]` (k-means' nearest centre with offsets
    /// `½‖c_j‖²`, spherical k-means with zeros), one per signal, with that value.
    Nearest,
    /// The SMT's general coding: the (at most `max_atoms`) atoms whose cosine similarity
    /// `d_jᵀy / ‖y‖` is at least `threshold`, most similar first, with their cosines; with
    /// `force_best`, the most similar atom when none reaches it. Zero signals get none.
    Cosine {
        /// The cosine an atom must reach, in `(0, 1]`.
        threshold: f64,
        /// Keep the best atom when none reaches the threshold.
        force_best: bool,
    },
}

impl PursuitRule {
    /// Whether the rule reads the Gram matrix.
    pub fn needs_gram(self) -> bool {
        matches!(self, Self::Omp | Self::Ormp | Self::Mp { .. })
    }
}

/// One pursuit job: code every column of `signals` over `atoms`.
#[derive(Debug, Clone, Copy)]
pub struct Pursuit<'a, T> {
    /// The dictionary `D`, `d x m`, unit-norm columns (usually resident).
    pub atoms: Input<'a, T>,
    /// Its Gram matrix `DᵀD`, `m x m` (usually resident); the rules that read it
    /// ([`PursuitRule::needs_gram`]) require it.
    pub gram: Option<Input<'a, T>>,
    /// The signals `Y`, `d x N`, finite (checked by the caller).
    pub signals: MatRef<'a, T>,
    /// The largest support: `1 ≤ max_atoms ≤ min(m, d)` for OMP and ORMP, `≤ m` for MP and
    /// top-k, 1 for the nearest centre.
    pub max_atoms: usize,
    /// Stop a signal once its squared residual norm is at most this.
    pub tol: Option<T>,
    /// The selection rule.
    pub rule: PursuitRule,
    /// [`PursuitRule::Nearest`]'s `m` offsets.
    pub offsets: Option<&'a [T]>,
}

/// What a pursuit returns: per signal `c`, `counts[c]` atoms in the order they were chosen,
/// `atoms[c·max_atoms ..][.. counts[c]]`, and their coefficients at the same places of
/// `coefs`. Slots past a signal's count are unused.
#[derive(Debug, Clone, PartialEq)]
pub struct PursuitCodes<T> {
    /// Slots per signal.
    pub max_atoms: usize,
    /// Atoms chosen per signal.
    pub counts: Vec<u32>,
    /// Chosen atoms, `max_atoms` slots per signal.
    pub atoms: Vec<u32>,
    /// Their coefficients, `max_atoms` slots per signal.
    pub coefs: Vec<T>,
}

impl<T: Copy + Default> PursuitCodes<T> {
    /// Room for `n` signals of at most `max_atoms` atoms, all empty.
    pub fn empty(n: usize, max_atoms: usize) -> Self {
        Self {
            max_atoms,
            counts: vec![0; n],
            atoms: vec![0; n * max_atoms],
            coefs: vec![T::default(); n * max_atoms],
        }
    }

    /// Signals held.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether it holds no signal.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Signal `c`'s atoms and coefficients, in the order chosen.
    pub fn code(&self, c: usize) -> (&[u32], &[T]) {
        let at = c * self.max_atoms;
        let len = self.counts[c] as usize;
        (&self.atoms[at..at + len], &self.coefs[at..at + len])
    }
}

/// How an operation the CPU leaves to the caller went: the backend ran it, or the caller
/// runs its own CPU kernel, or the observer cancelled.
#[derive(Debug, Clone, PartialEq)]
pub enum Offloaded<R> {
    /// The backend ran it.
    Done(R),
    /// The backend is the CPU, or declined (the observer was told why): run the CPU kernel.
    OnCpu,
    /// The observer cancelled part-way; nothing is returned.
    Cancelled,
}
