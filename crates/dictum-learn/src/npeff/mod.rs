//! NPEFF: non-negative per-example Fisher factorization (Matena & Raffel, *NPEFF:
//! Non-Negative Per-Example Fisher Factorization*, arXiv 2310.04649).
//!
//! A classifier's per-example Fisher information (PEF) says which parameters an example's
//! prediction leans on. NPEFF factorizes many PEFs into a few non-negative components, each
//! a direction in parameter space that a group of examples shares: a "processing strategy".
//!
//! - [`classifier`]: logistic regression and a one-hidden-layer perceptron, trained here, with
//!   exact per-class gradients;
//! - [`pef`]: diagonal and low-rank PEFs, and the dataset-level Fisher diagonal;
//! - [`dnpeff`]: D-NPEFF (NMF of diagonal PEFs), coefficient fitting, sparsified `H`;
//! - [`lrm`]: LRM-NPEFF (rank-1 PSD components of low-rank PEFs), expansion, coefficients;
//! - [`analysis`]: top examples of a component, label purity, and the perturbation check.
//!
//! - [`data`]: the PEFs and decompositions themselves (the reference's file layouts for them
//!   are in `dictum-io`, and the `dictum` facade reads and writes them).
//!
//! Everything runs under an execution context: examples in parallel under its threads, every
//! iteration reported to its observer, random choices from its seed.

pub mod analysis;
pub mod classifier;
pub mod data;
pub mod dnpeff;
pub mod lrm;
pub mod pef;

pub use classifier::{Classifier, EpochStats, TrainClassifier};
pub use data::{
    DNpeffDecomposition, DPefs, Decomposition, DiagonalDsf, HFactor, LrmExample,
    LrmNpeffDecomposition, LrmPefs, Pefs, Predictions,
};
pub use dnpeff::{DNpeff, PefMatrix, SparsifyH, fit_coefficients, sparsify_h};
pub use lrm::{LrmNpeff, fit_lrm_coefficients};
pub use pef::{DiagonalPefParams, LowRankPefParams, dataset_fisher, dense_diagonal_pef};
