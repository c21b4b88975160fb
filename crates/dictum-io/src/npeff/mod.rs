//! NPEFF's file layouts: per-example Fishers (PEFs), dataset-level Fishers and decompositions
//! as the reference implementation (Matena & Raffel, arXiv 2310.04649; `npeff_ref`) stores
//! them, so that files move both ways between it and dictum. Each `*File` type is a file's
//! content as plain arrays, checked against the layout when read; the algorithms' own types
//! are `dictum-learn`'s, and the `dictum` facade converts between the two.
//!
//! Every kind saves as HDF5 (`.h5`/`.hdf5`, feature `hdf5`) or, with the same dataset and
//! attribute names, as `.npz` (see [`crate::record`]). Matrices are C-order `[rows, cols]`
//! as in the reference (`W` is `[n_examples, n_components]`); dictum keeps them row-major in
//! memory in the same shape. docs/npeff.md lists every layout.

mod decompositions;
mod layout;
mod pefs;

use std::path::Path;

pub use decompositions::{DNpeffFile, HArrays, LrmNpeffFile};
pub use pefs::{DPefFile, DsfFile, LrmPefFile, PredictionArrays};

use crate::error::Result;
use crate::record::Record;
use layout::layout_err;

/// Either kind of PEF file.
#[derive(Debug, Clone, PartialEq)]
pub enum PefFile {
    /// Diagonal PEFs.
    Diagonal(DPefFile),
    /// Low-rank PEFs.
    LowRank(LrmPefFile),
}

impl PefFile {
    /// Loads a PEF file of either kind, told apart as the reference does (`data/fisher/values`
    /// marks D-PEFs).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let rec = Record::load(path)?;
        if rec.has("data/fisher/values") {
            Ok(PefFile::Diagonal(DPefFile::from_record(&rec)?))
        } else if rec.has("data/values") {
            Ok(PefFile::LowRank(LrmPefFile::from_record(&rec)?))
        } else {
            Err(layout_err(
                &rec,
                "not a PEF file: neither data/fisher/values (D-PEFs) nor data/values (LRM-PEFs)"
                    .into(),
            ))
        }
    }

    /// Saves either kind.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        match self {
            PefFile::Diagonal(p) => p.save(path),
            PefFile::LowRank(p) => p.save(path),
        }
    }
}

/// Either kind of decomposition.
#[derive(Debug, Clone, PartialEq)]
pub enum DecompositionFile {
    /// D-NPEFF.
    Diagonal(DNpeffFile),
    /// LRM-NPEFF.
    LowRank(LrmNpeffFile),
}

impl DecompositionFile {
    /// Loads a decomposition file of either kind (`data/G` marks LRM-NPEFF).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let rec = Record::load(path)?;
        if rec.has("data/G") {
            Ok(DecompositionFile::LowRank(LrmNpeffFile::from_record(&rec)?))
        } else if rec.has("data/H") || rec.has("data/H/values") {
            Ok(DecompositionFile::Diagonal(DNpeffFile::from_record(&rec)?))
        } else {
            Err(layout_err(
                &rec,
                "not an NPEFF decomposition: neither data/H (D-NPEFF) nor data/G (LRM-NPEFF)"
                    .into(),
            ))
        }
    }

    /// Saves either kind.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        match self {
            DecompositionFile::Diagonal(d) => d.save(path),
            DecompositionFile::LowRank(d) => d.save(path),
        }
    }
}
