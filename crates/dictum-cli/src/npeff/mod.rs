//! `dictum npeff …`: the NPEFF workflow of the reference implementation's executables and
//! scripts, from training a classifier to reading its components.
//!
//! ```text
//! dictum npeff train-model --data digits --out model.npz
//! dictum npeff pefs --model model.npz --data digits --n-values 64 --out pefs.npz
//! dictum npeff d-npeff --pefs pefs.npz --components 20 --out decomp.npz
//! dictum npeff top-examples --decomp decomp.npz --data digits --out top/
//! ```

mod components;
mod data;
mod factorize;
mod model;

use clap::Subcommand;

use crate::error::Result;
use components::{PerturbArgs, TopArgs};
use factorize::{DNpeffArgs, ExpandArgs, FitCoeffsArgs, LrmArgs, SparsifyArgs};
use model::{DsfArgs, FilterArgs, PefsArgs, TrainArgs};

/// The NPEFF subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum NpeffCommand {
    /// Train a classifier (logistic regression, or a tanh MLP with --hidden) and save it.
    TrainModel(TrainArgs),
    /// Per-example Fishers of a classifier on a dataset (diagonal or low-rank).
    Pefs(PefsArgs),
    /// Dataset-level Fisher diagonal (the mean diagonal PEF), for the perturbation check.
    Dsf(DsfArgs),
    /// Keep a subset of the examples of a PEF file (e.g. those the model got wrong).
    Filter(FilterArgs),
    /// D-NPEFF: NMF of diagonal PEFs.
    DNpeff(DNpeffArgs),
    /// LRM-NPEFF: rank-1 PSD components of low-rank PEFs.
    LrmNpeff(LrmArgs),
    /// Coefficients W of (new) PEFs with the components fixed; writes W.npy.
    FitCoeffs(FitCoeffsArgs),
    /// Add LRM-NPEFF components to a decomposition, its own components frozen.
    Expand(ExpandArgs),
    /// Store H of a D-NPEFF decomposition sparse, keeping its largest entries.
    Sparsify(SparsifyArgs),
    /// Perturb the model along components and compare the KL change of predictions on each
    /// component's top examples with random examples.
    Perturb(PerturbArgs),
    /// Top examples of every component: CSV and markdown tables of indices and labels, and a
    /// PNG collage for image data.
    TopExamples(TopArgs),
}

pub(crate) fn run(cmd: &NpeffCommand) -> Result<()> {
    match cmd {
        NpeffCommand::TrainModel(a) => model::train(a),
        NpeffCommand::Pefs(a) => model::pefs(a),
        NpeffCommand::Dsf(a) => model::dsf(a),
        NpeffCommand::Filter(a) => model::filter(a),
        NpeffCommand::DNpeff(a) => factorize::d_npeff(a),
        NpeffCommand::LrmNpeff(a) => factorize::lrm_npeff(a),
        NpeffCommand::FitCoeffs(a) => factorize::fit_coeffs(a),
        NpeffCommand::Expand(a) => factorize::expand(a),
        NpeffCommand::Sparsify(a) => factorize::sparsify(a),
        NpeffCommand::Perturb(a) => components::perturb(a),
        NpeffCommand::TopExamples(a) => components::top(a),
    }
}
