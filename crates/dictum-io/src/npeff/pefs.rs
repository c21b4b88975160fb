//! The PEF files: sparse diagonal PEFs (D-PEFs), sparse low-rank PEFs (LRM- and LVRM-PEFs)
//! and the dataset-level Fisher diagonal.

use std::path::Path;

use super::layout::{c_order, check_len, count, f32s, i32s, i64s, layout_err, shape2};
use crate::array::ArrayData;
use crate::error::Result;
use crate::record::{AttrValue, Record};

/// Labels and predicted logits, saved with every PEF file (`data/labels`,
/// `data/predicted_logits`; older files name the logits `data/logits`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PredictionArrays {
    /// True label of each example.
    pub labels: Vec<i32>,
    /// Logits, `[n_examples, n_classes]` row-major.
    pub logits: Vec<f32>,
    /// Classes of the model (columns of `logits`).
    pub n_classes: usize,
}

impl PredictionArrays {
    pub(super) fn put(&self, rec: &mut Record, logits_name: &str) {
        let n = self.labels.len();
        rec.put(
            "data/labels",
            c_order(vec![n], ArrayData::I32(self.labels.clone())),
        );
        rec.put(
            logits_name,
            c_order(vec![n, self.n_classes], ArrayData::F32(self.logits.clone())),
        );
    }

    pub(super) fn get(rec: &Record, n: usize) -> Result<Self> {
        let labels = i32s(rec, "data/labels")?;
        check_len(rec, "data/labels", labels.len(), n)?;
        let name = if rec.has("data/predicted_logits") {
            "data/predicted_logits"
        } else {
            "data/logits"
        };
        let (rows, n_classes) = shape2(rec, name, rec.get(name)?)?;
        check_len(rec, name, rows, n)?;
        Ok(Self {
            labels,
            logits: f32s(rec, name)?,
            n_classes,
        })
    }
}

/// Sparse diagonal PEFs (D-PEFs): for each example the `nnz` largest entries of
/// `f_i = Σ_c p(c|x_i)·(∇_θ log p(c|x_i))²`, and the dense norm `‖f_i‖₂`.
///
/// Layout: `data/fisher/values` and `data/fisher/indices` `[n_examples, nnz]` (f32, i32),
/// attribute `dense_fisher_size` (4-byte integer) on group `data/fisher`,
/// `data/dense_fisher_norms` `[n_examples]`, `data/labels`, `data/predicted_logits`.
#[derive(Debug, Clone, PartialEq)]
pub struct DPefFile {
    /// Number of model parameters (the dense length of each PEF).
    pub n_parameters: usize,
    /// Kept entries per example.
    pub nnz: usize,
    /// Values, `[n_examples, nnz]` row-major.
    pub values: Vec<f32>,
    /// Parameter indices of `values`.
    pub indices: Vec<i32>,
    /// `‖f_i‖₂` of the dense PEF of each example.
    pub norms: Vec<f32>,
    /// Labels and logits.
    pub predictions: PredictionArrays,
}

impl DPefFile {
    /// The file's content.
    pub fn to_record(&self) -> Record {
        let n = self.norms.len();
        let mut rec = Record::new();
        rec.put(
            "data/fisher/values",
            c_order(vec![n, self.nnz], ArrayData::F32(self.values.clone())),
        );
        rec.put(
            "data/fisher/indices",
            c_order(vec![n, self.nnz], ArrayData::I32(self.indices.clone())),
        );
        rec.set_attr(
            "data/fisher",
            "dense_fisher_size",
            AttrValue::I32(self.n_parameters as i32),
        );
        rec.put(
            "data/dense_fisher_norms",
            c_order(vec![n], ArrayData::F32(self.norms.clone())),
        );
        self.predictions.put(&mut rec, "data/predicted_logits");
        rec
    }

    /// Reads the content of a D-PEF file.
    pub fn from_record(rec: &Record) -> Result<Self> {
        let (n, nnz) = shape2(rec, "data/fisher/values", rec.get("data/fisher/values")?)?;
        let values = f32s(rec, "data/fisher/values")?;
        let indices = i32s(rec, "data/fisher/indices")?;
        check_len(rec, "data/fisher/indices", indices.len(), n * nnz)?;
        let n_parameters = count(rec, "data/fisher", "dense_fisher_size")?;
        if let Some(&bad) = indices
            .iter()
            .find(|&&i| i < 0 || i as usize >= n_parameters)
        {
            return Err(layout_err(
                rec,
                format!("parameter index {bad} outside 0..{n_parameters} (dense_fisher_size)"),
            ));
        }
        let norms = f32s(rec, "data/dense_fisher_norms")?;
        check_len(rec, "data/dense_fisher_norms", norms.len(), n)?;
        Ok(Self {
            n_parameters,
            nnz,
            values,
            indices,
            norms,
            predictions: PredictionArrays::get(rec, n)?,
        })
    }

    /// Saves as HDF5 (`.h5`/`.hdf5`) or `.npz`, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_record().save(path)
    }

    /// Loads a D-PEF file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_record(&Record::load(path)?)
    }
}

/// Sparse low-rank PEFs (LRM-PEFs): `F_i ≈ S_i·S_iᵀ`, column `c` of `S_i` being
/// `√p(c|x_i)·∇_θ log p(c|x_i)`, sparsified per example to its `nnz` largest entries and
/// stored column by column (CSC).
///
/// Fixed rank (LRM): group `data` with attributes `n_classes` (columns per example) and
/// `n_parameters`; `data/values`, `data/row_indices` `[n_examples, nnz]`,
/// `data/col_offsets` `[n_examples, n_classes + 1]`, `data/pef_frobenius_norms`,
/// `data/labels`, `data/logits`. Variable rank (LVRM) has `data/ranks` `[n_examples]` and
/// `data/col_sizes` `[Σ ranks]` instead of `col_offsets`.
#[derive(Debug, Clone, PartialEq)]
pub struct LrmPefFile {
    /// Number of model parameters (rows of each `S_i`).
    pub n_parameters: usize,
    /// Stored entries per example.
    pub nnz: usize,
    /// Values, `[n_examples, nnz]` row-major, column after column of `S_i`.
    pub values: Vec<f32>,
    /// Parameter index of each value.
    pub row_indices: Vec<i32>,
    /// Columns of each `S_i`.
    pub ranks: Vec<usize>,
    /// Entries in each column, all examples' columns one after the other (`Σ ranks`).
    pub col_sizes: Vec<usize>,
    /// `‖S_i·S_iᵀ‖_F` of the dense PEF.
    pub norms: Vec<f32>,
    /// Labels and logits.
    pub predictions: PredictionArrays,
    /// Whether to save in the variable-rank (LVRM) layout even when every rank is equal.
    pub variable_rank: bool,
}

impl LrmPefFile {
    /// The file's content (LVRM layout when ranks differ or `variable_rank` is set).
    pub fn to_record(&self) -> Record {
        let n = self.norms.len();
        let mut rec = Record::new();
        let fixed = !self.variable_rank && self.ranks.windows(2).all(|w| w[0] == w[1]);
        let rank = self.ranks.first().copied().unwrap_or(0);
        rec.set_attr(
            "data",
            "n_parameters",
            AttrValue::I64(self.n_parameters as i64),
        );
        rec.put(
            "data/values",
            c_order(vec![n, self.nnz], ArrayData::F32(self.values.clone())),
        );
        rec.put(
            "data/row_indices",
            c_order(vec![n, self.nnz], ArrayData::I32(self.row_indices.clone())),
        );
        if fixed {
            rec.set_attr("data", "n_classes", AttrValue::I64(rank as i64));
            let mut offsets = Vec::with_capacity(n * (rank + 1));
            for sizes in self.col_sizes.chunks(rank.max(1)).take(n) {
                let mut at = 0i32;
                offsets.push(0);
                for &s in sizes.iter().take(rank) {
                    at += s as i32;
                    offsets.push(at);
                }
            }
            offsets.resize(n * (rank + 1), 0);
            rec.put(
                "data/col_offsets",
                c_order(vec![n, rank + 1], ArrayData::I32(offsets)),
            );
        } else {
            rec.set_attr(
                "data",
                "n_classes",
                AttrValue::I64(self.predictions.n_classes as i64),
            );
            rec.put(
                "data/ranks",
                c_order(
                    vec![n],
                    ArrayData::I32(self.ranks.iter().map(|&r| r as i32).collect()),
                ),
            );
            rec.put(
                "data/col_sizes",
                c_order(
                    vec![self.col_sizes.len()],
                    ArrayData::I32(self.col_sizes.iter().map(|&s| s as i32).collect()),
                ),
            );
        }
        rec.put(
            "data/pef_frobenius_norms",
            c_order(vec![n], ArrayData::F32(self.norms.clone())),
        );
        self.predictions.put(&mut rec, "data/logits");
        rec
    }

    /// Reads the content of an LRM- or LVRM-PEF file.
    pub fn from_record(rec: &Record) -> Result<Self> {
        let (n, nnz) = shape2(rec, "data/values", rec.get("data/values")?)?;
        let values = f32s(rec, "data/values")?;
        let row_indices = i32s(rec, "data/row_indices")?;
        check_len(rec, "data/row_indices", row_indices.len(), n * nnz)?;
        let n_parameters = count(rec, "data", "n_parameters")?;
        if let Some(&bad) = row_indices
            .iter()
            .find(|&&i| i < 0 || i as usize >= n_parameters)
        {
            return Err(layout_err(
                rec,
                format!("row index {bad} outside 0..{n_parameters} (n_parameters)"),
            ));
        }
        let bad_size = |what: &str| layout_err(rec, format!("{what}: negative or inconsistent"));
        let variable_rank = rec.has("data/ranks");
        let (ranks, col_sizes) = if variable_rank {
            let ranks: Vec<usize> = i64s(rec, "data/ranks")?
                .into_iter()
                .map(|r| usize::try_from(r).map_err(|_| bad_size("data/ranks")))
                .collect::<Result<_>>()?;
            check_len(rec, "data/ranks", ranks.len(), n)?;
            let sizes: Vec<usize> = i64s(rec, "data/col_sizes")?
                .into_iter()
                .map(|r| usize::try_from(r).map_err(|_| bad_size("data/col_sizes")))
                .collect::<Result<_>>()?;
            check_len(rec, "data/col_sizes", sizes.len(), ranks.iter().sum())?;
            (ranks, sizes)
        } else {
            let (rows, width) = shape2(rec, "data/col_offsets", rec.get("data/col_offsets")?)?;
            check_len(rec, "data/col_offsets", rows, n)?;
            let offsets = i64s(rec, "data/col_offsets")?;
            let rank = width.saturating_sub(1);
            let mut sizes = Vec::with_capacity(n * rank);
            for row in offsets.chunks(width.max(1)) {
                for w in row.windows(2) {
                    let s =
                        usize::try_from(w[1] - w[0]).map_err(|_| bad_size("data/col_offsets"))?;
                    sizes.push(s);
                }
            }
            (vec![rank; n], sizes)
        };
        let starts_ok = {
            let mut at = 0;
            ranks.iter().all(|&r| {
                let total: usize = col_sizes[at..at + r].iter().sum();
                at += r;
                total <= nnz
            })
        };
        if !starts_ok {
            return Err(bad_size(
                "column sizes exceed the stored entries per example",
            ));
        }
        let norms = f32s(rec, "data/pef_frobenius_norms")?;
        check_len(rec, "data/pef_frobenius_norms", norms.len(), n)?;
        Ok(Self {
            n_parameters,
            nnz,
            values,
            row_indices,
            ranks,
            col_sizes,
            norms,
            predictions: PredictionArrays::get(rec, n)?,
            variable_rank,
        })
    }

    /// Saves as HDF5 (`.h5`/`.hdf5`) or `.npz`, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_record().save(path)
    }

    /// Loads an LRM- or LVRM-PEF file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_record(&Record::load(path)?)
    }
}

/// A dataset-level diagonal Fisher: `data/fisher` `[n_parameters]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DsfFile {
    /// The diagonal.
    pub fisher: Vec<f32>,
}

impl DsfFile {
    /// Saves as HDF5 or `.npz`, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut rec = Record::new();
        rec.put(
            "data/fisher",
            c_order(vec![self.fisher.len()], ArrayData::F32(self.fisher.clone())),
        );
        rec.save(path)
    }

    /// Loads a dataset-level Fisher file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let rec = Record::load(path)?;
        Ok(Self {
            fisher: f32s(&rec, "data/fisher")?,
        })
    }
}
