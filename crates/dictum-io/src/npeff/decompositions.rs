//! The decomposition files: D-NPEFF (dense or sparsified `H`) and LRM-NPEFF.

use std::path::Path;

use super::layout::{c_order, count, f32s, i32s, i64s, layout_err, shape2};
use crate::array::ArrayData;
use crate::error::Result;
use crate::record::{AttrValue, Record};

/// `H` of a D-NPEFF decomposition: dense, or CSR after sparsification.
#[derive(Debug, Clone, PartialEq)]
pub enum HArrays {
    /// `[n_components, n_features]` row-major.
    Dense(Vec<f32>),
    /// CSR (`data/H` is then a group with `values`, `row_indices` (the row pointers,
    /// `n_components + 1`), `column_indices` and attribute `shape`).
    Sparse {
        /// Non-zero values, row after row.
        values: Vec<f32>,
        /// Row pointers (`n_components + 1`).
        row_offsets: Vec<i64>,
        /// Column of each value.
        column_indices: Vec<i32>,
    },
}

/// A D-NPEFF decomposition: `A ≈ W·H` over the kept parameters.
///
/// Layout: `data/W` `[n_examples, n_components]`, `data/H` `[n_components, n_features]`
/// (or the CSR group of [`HArrays::Sparse`]), `data/reduce_kept_indices` `[n_features]` with
/// attribute `full_dense_size`.
#[derive(Debug, Clone, PartialEq)]
pub struct DNpeffFile {
    /// Coefficients, `[n_examples, n_components]` row-major.
    pub w: Vec<f32>,
    /// Components.
    pub n_components: usize,
    /// `H` over the kept parameters.
    pub h: HArrays,
    /// For each column of `H`, the parameter it stands for.
    pub kept_indices: Vec<i32>,
    /// Number of model parameters.
    pub n_parameters: usize,
}

impl DNpeffFile {
    /// The file's content.
    pub fn to_record(&self) -> Record {
        let (r, f) = (self.n_components, self.kept_indices.len());
        let n = self.w.len() / r.max(1);
        let mut rec = Record::new();
        rec.put(
            "data/W",
            c_order(vec![n, r], ArrayData::F32(self.w.clone())),
        );
        match &self.h {
            HArrays::Dense(h) => rec.put("data/H", c_order(vec![r, f], ArrayData::F32(h.clone()))),
            HArrays::Sparse {
                values,
                row_offsets,
                column_indices,
            } => {
                rec.put(
                    "data/H/values",
                    c_order(vec![values.len()], ArrayData::F32(values.clone())),
                );
                rec.put(
                    "data/H/row_indices",
                    c_order(vec![row_offsets.len()], ArrayData::I64(row_offsets.clone())),
                );
                rec.put(
                    "data/H/column_indices",
                    c_order(
                        vec![column_indices.len()],
                        ArrayData::I32(column_indices.clone()),
                    ),
                );
                rec.set_attr(
                    "data/H",
                    "shape",
                    AttrValue::I64Array(vec![r as i64, f as i64]),
                );
            }
        }
        rec.put(
            "data/reduce_kept_indices",
            c_order(vec![f], ArrayData::I32(self.kept_indices.clone())),
        );
        rec.set_attr(
            "data/reduce_kept_indices",
            "full_dense_size",
            AttrValue::I64(self.n_parameters as i64),
        );
        rec
    }

    /// Reads the content of a D-NPEFF file (dense or sparse `H`).
    pub fn from_record(rec: &Record) -> Result<Self> {
        let (n, r) = shape2(rec, "data/W", rec.get("data/W")?)?;
        let w = f32s(rec, "data/W")?;
        let kept_indices = i32s(rec, "data/reduce_kept_indices")?;
        let n_parameters = count(rec, "data/reduce_kept_indices", "full_dense_size")?;
        let f = kept_indices.len();
        if let Some(&bad) = kept_indices
            .iter()
            .find(|&&i| i < 0 || i as usize >= n_parameters)
        {
            return Err(layout_err(
                rec,
                format!("kept index {bad} outside 0..{n_parameters} (full_dense_size)"),
            ));
        }
        let h = if rec.has("data/H") {
            let (hr, hf) = shape2(rec, "data/H", rec.get("data/H")?)?;
            if (hr, hf) != (r, f) {
                return Err(layout_err(
                    rec,
                    format!("data/H is {hr}x{hf}; W and reduce_kept_indices need {r}x{f}"),
                ));
            }
            HArrays::Dense(f32s(rec, "data/H")?)
        } else {
            let values = f32s(rec, "data/H/values")?;
            let row_offsets = i64s(rec, "data/H/row_indices")?;
            let column_indices = i32s(rec, "data/H/column_indices")?;
            let shape = rec
                .attr("data/H", "shape")?
                .as_i64_vec()
                .unwrap_or_default();
            let ok = shape == [r as i64, f as i64]
                && row_offsets.len() == r + 1
                && row_offsets.first() == Some(&0)
                && row_offsets.windows(2).all(|w| w[0] <= w[1])
                && row_offsets.last().copied() == Some(values.len() as i64)
                && column_indices.len() == values.len()
                && column_indices.iter().all(|&c| c >= 0 && (c as usize) < f);
            if !ok {
                return Err(layout_err(
                    rec,
                    format!("sparse data/H (shape {shape:?}) is not a valid {r}x{f} CSR matrix"),
                ));
            }
            HArrays::Sparse {
                values,
                row_offsets,
                column_indices,
            }
        };
        let _ = n;
        Ok(Self {
            w,
            n_components: r,
            h,
            kept_indices,
            n_parameters,
        })
    }

    /// Saves as HDF5 or `.npz`, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_record().save(path)
    }

    /// Loads a D-NPEFF file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_record(&Record::load(path)?)
    }
}

/// An LRM-NPEFF decomposition: `S_i·S_iᵀ ≈ Σ_j W_ij·g_j·g_jᵀ` over the kept parameters.
///
/// Layout: group `data` with attributes `n_parameters` and `n_classes`; `data/W`
/// `[n_examples, n_components]`, `data/G` `[n_components, n_features]`,
/// `data/new_to_old_col_indices` `[n_features]`; group `losses` with attribute
/// `log_loss_frequency` and datasets `G_only` and `joint`.
#[derive(Debug, Clone, PartialEq)]
pub struct LrmNpeffFile {
    /// Coefficients, `[n_examples, n_components]` row-major.
    pub w: Vec<f32>,
    /// Components.
    pub n_components: usize,
    /// Component vectors `g_j`, `[n_components, n_features]` row-major.
    pub g: Vec<f32>,
    /// For each column of `G`, the parameter it stands for.
    pub kept_indices: Vec<i32>,
    /// Number of model parameters.
    pub n_parameters: usize,
    /// Columns per PEF (classes) of the factorized PEFs.
    pub n_classes: usize,
    /// Iterations between two recorded losses.
    pub log_loss_frequency: usize,
    /// Losses of the G-only warm-up.
    pub losses_g_only: Vec<f32>,
    /// Losses of the joint iterations.
    pub losses_joint: Vec<f32>,
}

impl LrmNpeffFile {
    /// The file's content.
    pub fn to_record(&self) -> Record {
        let (r, f) = (self.n_components, self.kept_indices.len());
        let n = self.w.len() / r.max(1);
        let mut rec = Record::new();
        rec.set_attr(
            "data",
            "n_parameters",
            AttrValue::I64(self.n_parameters as i64),
        );
        rec.set_attr("data", "n_classes", AttrValue::I64(self.n_classes as i64));
        rec.put(
            "data/W",
            c_order(vec![n, r], ArrayData::F32(self.w.clone())),
        );
        rec.put(
            "data/G",
            c_order(vec![r, f], ArrayData::F32(self.g.clone())),
        );
        rec.put(
            "data/new_to_old_col_indices",
            c_order(vec![f], ArrayData::I32(self.kept_indices.clone())),
        );
        rec.set_attr(
            "losses",
            "log_loss_frequency",
            AttrValue::I64(self.log_loss_frequency as i64),
        );
        rec.put(
            "losses/G_only",
            c_order(
                vec![self.losses_g_only.len()],
                ArrayData::F32(self.losses_g_only.clone()),
            ),
        );
        rec.put(
            "losses/joint",
            c_order(
                vec![self.losses_joint.len()],
                ArrayData::F32(self.losses_joint.clone()),
            ),
        );
        rec
    }

    /// Reads the content of an LRM-NPEFF file.
    pub fn from_record(rec: &Record) -> Result<Self> {
        let (_, r) = shape2(rec, "data/W", rec.get("data/W")?)?;
        let (gr, f) = shape2(rec, "data/G", rec.get("data/G")?)?;
        let kept_indices = i32s(rec, "data/new_to_old_col_indices")?;
        if gr != r || kept_indices.len() != f {
            return Err(layout_err(
                rec,
                format!(
                    "data/G is {gr}x{f}, but W has {r} components and new_to_old_col_indices \
                     {} entries",
                    kept_indices.len()
                ),
            ));
        }
        let n_parameters = count(rec, "data", "n_parameters")?;
        if let Some(&bad) = kept_indices
            .iter()
            .find(|&&i| i < 0 || i as usize >= n_parameters)
        {
            return Err(layout_err(
                rec,
                format!("column index {bad} outside 0..{n_parameters} (n_parameters)"),
            ));
        }
        let losses = |name: &str| {
            if rec.has(name) {
                f32s(rec, name)
            } else {
                Ok(Vec::new())
            }
        };
        Ok(Self {
            w: f32s(rec, "data/W")?,
            n_components: r,
            g: f32s(rec, "data/G")?,
            kept_indices,
            n_parameters,
            n_classes: count(rec, "data", "n_classes")?,
            log_loss_frequency: rec
                .attr_i64("losses", "log_loss_frequency")
                .map_or(0, |v| v.max(0) as usize),
            losses_g_only: losses("losses/G_only")?,
            losses_joint: losses("losses/joint")?,
        })
    }

    /// Saves as HDF5 or `.npz`, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_record().save(path)
    }

    /// Loads an LRM-NPEFF file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_record(&Record::load(path)?)
    }
}
