//! NPEFF's files: per-example Fishers (PEFs), dataset-level Fishers and decompositions, in the
//! layout of the reference implementation (Matena & Raffel, arXiv 2310.04649; `npeff_ref`),
//! so that files move both ways between it and dictum.
//!
//! Every kind saves as HDF5 (`.h5`/`.hdf5`, feature `hdf5`) or, with the same dataset and
//! attribute names, as `.npz` (see [`crate::record`]). Matrices are C-order `[rows, cols]`
//! as in the reference (`W` is `[n_examples, n_components]`); dictum keeps them row-major in
//! memory in the same shape. docs/npeff.md lists every layout.

use std::path::Path;

use crate::array::{Array, ArrayData, Order};
use crate::error::{IoError, Result};
use crate::record::{AttrValue, Record};

fn c_order(shape: Vec<usize>, data: ArrayData) -> Array {
    Array {
        shape,
        order: Order::C,
        data,
    }
}

fn layout_err(rec: &Record, problem: String) -> IoError {
    IoError::Layout {
        path: rec.source.clone(),
        problem,
    }
}

/// A 2-D (or, with `allow_1d`, 1-D as one column) dataset as `(rows, cols)`.
fn shape2(rec: &Record, name: &str, a: &Array) -> Result<(usize, usize)> {
    match (a.shape.as_slice(), a.order) {
        ([r, c], Order::C) => Ok((*r, *c)),
        ([r, c], Order::Fortran) => Ok((*c, *r)),
        (s, _) => Err(layout_err(
            rec,
            format!("dataset '{name}' has shape {s:?}; expected a 2-D array"),
        )),
    }
}

/// The elements of a dataset in C order.
fn c_elements(a: &Array) -> Array {
    match (a.shape.as_slice(), a.order) {
        ([r, c], Order::Fortran) => {
            let (r, c) = (*r, *c);
            let reorder = |n: usize| (0..n).map(move |k| (k % c) * r + k / c);
            let data = match &a.data {
                ArrayData::F32(v) => ArrayData::F32(reorder(v.len()).map(|k| v[k]).collect()),
                ArrayData::F64(v) => ArrayData::F64(reorder(v.len()).map(|k| v[k]).collect()),
                ArrayData::I32(v) => ArrayData::I32(reorder(v.len()).map(|k| v[k]).collect()),
                ArrayData::I64(v) => ArrayData::I64(reorder(v.len()).map(|k| v[k]).collect()),
                other => other.clone(),
            };
            c_order(vec![r, c], data)
        }
        _ => a.clone(),
    }
}

fn f32s(rec: &Record, name: &str) -> Result<Vec<f32>> {
    let a = c_elements(rec.get(name)?);
    a.data
        .to_real_vec::<f32>()
        .ok_or_else(|| layout_err(rec, format!("dataset '{name}' is not numeric")))
}

fn i64s(rec: &Record, name: &str) -> Result<Vec<i64>> {
    let a = c_elements(rec.get(name)?);
    a.data
        .to_i64_vec()
        .ok_or_else(|| layout_err(rec, format!("dataset '{name}' does not hold integers")))
}

fn i32s(rec: &Record, name: &str) -> Result<Vec<i32>> {
    i64s(rec, name)?
        .into_iter()
        .map(|v| {
            i32::try_from(v).map_err(|_| {
                layout_err(
                    rec,
                    format!("dataset '{name}' holds {v}, beyond 32-bit indices"),
                )
            })
        })
        .collect()
}

fn count(rec: &Record, object: &str, attr: &str) -> Result<usize> {
    let v = rec.attr_i64(object, attr)?;
    usize::try_from(v)
        .map_err(|_| layout_err(rec, format!("attribute '{attr}' on '{object}' is {v} < 0")))
}

fn check_len(rec: &Record, name: &str, len: usize, expected: usize) -> Result<()> {
    if len == expected {
        Ok(())
    } else {
        Err(layout_err(
            rec,
            format!("dataset '{name}' holds {len} values, expected {expected}"),
        ))
    }
}

/// Labels and predicted logits, saved with every PEF file (`data/labels`,
/// `data/predicted_logits`; older files name the logits `data/logits`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Predictions {
    /// True label of each example.
    pub labels: Vec<i32>,
    /// Logits, `[n_examples, n_classes]` row-major.
    pub logits: Vec<f32>,
    /// Classes of the model (columns of `logits`).
    pub n_classes: usize,
}

impl Predictions {
    /// The predicted class of example `i` (the arg-max logit).
    pub fn predicted(&self, i: usize) -> usize {
        let row = &self.logits[i * self.n_classes..(i + 1) * self.n_classes];
        let mut best = 0;
        for (c, &v) in row.iter().enumerate() {
            if v > row[best] {
                best = c;
            }
        }
        best
    }

    /// The rows of `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        let k = self.n_classes;
        Self {
            labels: keep.iter().map(|&i| self.labels[i]).collect(),
            logits: keep
                .iter()
                .flat_map(|&i| self.logits[i * k..(i + 1) * k].iter().copied())
                .collect(),
            n_classes: k,
        }
    }

    fn put(&self, rec: &mut Record, logits_name: &str) {
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

    fn get(rec: &Record, n: usize) -> Result<Self> {
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
pub struct DPefs {
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
    pub predictions: Predictions,
}

impl DPefs {
    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        self.norms.len()
    }

    /// Indices and values of example `i`.
    pub fn example(&self, i: usize) -> (&[i32], &[f32]) {
        let r = i * self.nnz..(i + 1) * self.nnz;
        (&self.indices[r.clone()], &self.values[r])
    }

    /// The examples `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        let k = self.nnz;
        Self {
            n_parameters: self.n_parameters,
            nnz: k,
            values: keep
                .iter()
                .flat_map(|&i| self.values[i * k..(i + 1) * k].iter().copied())
                .collect(),
            indices: keep
                .iter()
                .flat_map(|&i| self.indices[i * k..(i + 1) * k].iter().copied())
                .collect(),
            norms: keep.iter().map(|&i| self.norms[i]).collect(),
            predictions: self.predictions.subset(keep),
        }
    }

    /// The file's content.
    pub fn to_record(&self) -> Record {
        let n = self.n_examples();
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
            predictions: Predictions::get(rec, n)?,
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
pub struct LrmPefs {
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
    pub predictions: Predictions,
    /// Whether to save in the variable-rank (LVRM) layout even when every rank is equal.
    pub variable_rank: bool,
}

/// One example's `S_i`, column by column.
#[derive(Debug, Clone, Copy)]
pub struct LrmExample<'a> {
    /// Parameter indices of the entries.
    pub rows: &'a [i32],
    /// The entries.
    pub values: &'a [f32],
    /// Entries per column.
    pub col_sizes: &'a [usize],
}

impl LrmExample<'_> {
    /// Column `c`: parameter indices and values.
    pub fn col(&self, c: usize) -> (&[i32], &[f32]) {
        let lo: usize = self.col_sizes[..c].iter().sum();
        let hi = lo + self.col_sizes[c];
        (&self.rows[lo..hi], &self.values[lo..hi])
    }
}

impl LrmPefs {
    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        self.norms.len()
    }

    /// Offsets of each example's first column in `col_sizes` (`n_examples + 1` entries).
    pub fn col_starts(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.ranks.len() + 1);
        let mut at = 0;
        out.push(0);
        for &r in &self.ranks {
            at += r;
            out.push(at);
        }
        out
    }

    /// Example `i` (`starts` from [`col_starts`](Self::col_starts)).
    pub fn example<'a>(&'a self, i: usize, starts: &[usize]) -> LrmExample<'a> {
        let r = i * self.nnz..(i + 1) * self.nnz;
        LrmExample {
            rows: &self.row_indices[r.clone()],
            values: &self.values[r],
            col_sizes: &self.col_sizes[starts[i]..starts[i + 1]],
        }
    }

    /// The examples `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        let k = self.nnz;
        let starts = self.col_starts();
        Self {
            n_parameters: self.n_parameters,
            nnz: k,
            values: keep
                .iter()
                .flat_map(|&i| self.values[i * k..(i + 1) * k].iter().copied())
                .collect(),
            row_indices: keep
                .iter()
                .flat_map(|&i| self.row_indices[i * k..(i + 1) * k].iter().copied())
                .collect(),
            ranks: keep.iter().map(|&i| self.ranks[i]).collect(),
            col_sizes: keep
                .iter()
                .flat_map(|&i| self.col_sizes[starts[i]..starts[i + 1]].iter().copied())
                .collect(),
            norms: keep.iter().map(|&i| self.norms[i]).collect(),
            predictions: self.predictions.subset(keep),
            variable_rank: self.variable_rank,
        }
    }

    /// The file's content (LVRM layout when ranks differ or `variable_rank` is set).
    pub fn to_record(&self) -> Record {
        let n = self.n_examples();
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
            predictions: Predictions::get(rec, n)?,
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

/// Either kind of PEF file.
#[derive(Debug, Clone, PartialEq)]
pub enum Pefs {
    /// Diagonal PEFs.
    Diagonal(DPefs),
    /// Low-rank PEFs.
    LowRank(LrmPefs),
}

impl Pefs {
    /// Loads a PEF file of either kind, told apart as the reference does (`data/fisher/values`
    /// marks D-PEFs).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let rec = Record::load(path)?;
        if rec.has("data/fisher/values") {
            Ok(Pefs::Diagonal(DPefs::from_record(&rec)?))
        } else if rec.has("data/values") {
            Ok(Pefs::LowRank(LrmPefs::from_record(&rec)?))
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
            Pefs::Diagonal(p) => p.save(path),
            Pefs::LowRank(p) => p.save(path),
        }
    }

    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        match self {
            Pefs::Diagonal(p) => p.n_examples(),
            Pefs::LowRank(p) => p.n_examples(),
        }
    }

    /// Labels and logits.
    pub fn predictions(&self) -> &Predictions {
        match self {
            Pefs::Diagonal(p) => &p.predictions,
            Pefs::LowRank(p) => &p.predictions,
        }
    }

    /// The examples `keep`, in that order.
    pub fn subset(&self, keep: &[usize]) -> Self {
        match self {
            Pefs::Diagonal(p) => Pefs::Diagonal(p.subset(keep)),
            Pefs::LowRank(p) => Pefs::LowRank(p.subset(keep)),
        }
    }
}

/// A dataset-level diagonal Fisher: `data/fisher` `[n_parameters]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalDsf {
    /// The diagonal.
    pub fisher: Vec<f32>,
}

impl DiagonalDsf {
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

/// `H` of a D-NPEFF decomposition: dense, or CSR after sparsification.
#[derive(Debug, Clone, PartialEq)]
pub enum HFactor {
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
/// (or the CSR group of [`HFactor::Sparse`]), `data/reduce_kept_indices` `[n_features]` with
/// attribute `full_dense_size`.
#[derive(Debug, Clone, PartialEq)]
pub struct DNpeffDecomposition {
    /// Coefficients, `[n_examples, n_components]` row-major.
    pub w: Vec<f32>,
    /// Components.
    pub n_components: usize,
    /// `H` over the kept parameters.
    pub h: HFactor,
    /// For each column of `H`, the parameter it stands for.
    pub kept_indices: Vec<i32>,
    /// Number of model parameters.
    pub n_parameters: usize,
}

impl DNpeffDecomposition {
    /// Number of examples (rows of `W`).
    pub fn n_examples(&self) -> usize {
        self.w.len() / self.n_components.max(1)
    }

    /// Columns of `H` (kept parameters).
    pub fn n_features(&self) -> usize {
        self.kept_indices.len()
    }

    /// Row `j` of `H` spread over all parameters (zero where a parameter was not kept).
    pub fn full_component(&self, j: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.n_parameters];
        let f = self.n_features();
        match &self.h {
            HFactor::Dense(h) => {
                for (c, &p) in self.kept_indices.iter().enumerate() {
                    out[p as usize] = h[j * f + c];
                }
            }
            HFactor::Sparse {
                values,
                row_offsets,
                column_indices,
            } => {
                for k in row_offsets[j] as usize..row_offsets[j + 1] as usize {
                    out[self.kept_indices[column_indices[k] as usize] as usize] = values[k];
                }
            }
        }
        out
    }

    /// The file's content.
    pub fn to_record(&self) -> Record {
        let (n, r, f) = (self.n_examples(), self.n_components, self.n_features());
        let mut rec = Record::new();
        rec.put(
            "data/W",
            c_order(vec![n, r], ArrayData::F32(self.w.clone())),
        );
        match &self.h {
            HFactor::Dense(h) => rec.put("data/H", c_order(vec![r, f], ArrayData::F32(h.clone()))),
            HFactor::Sparse {
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
            HFactor::Dense(f32s(rec, "data/H")?)
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
            HFactor::Sparse {
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
pub struct LrmNpeffDecomposition {
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

impl LrmNpeffDecomposition {
    /// Number of examples.
    pub fn n_examples(&self) -> usize {
        self.w.len() / self.n_components.max(1)
    }

    /// Columns of `G` (kept parameters).
    pub fn n_features(&self) -> usize {
        self.kept_indices.len()
    }

    /// `g_j` spread over all parameters.
    pub fn full_component(&self, j: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.n_parameters];
        let f = self.n_features();
        for (c, &p) in self.kept_indices.iter().enumerate() {
            out[p as usize] = self.g[j * f + c];
        }
        out
    }

    /// The file's content.
    pub fn to_record(&self) -> Record {
        let (n, r, f) = (self.n_examples(), self.n_components, self.n_features());
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

/// Either kind of decomposition.
#[derive(Debug, Clone, PartialEq)]
pub enum Decomposition {
    /// D-NPEFF.
    Diagonal(DNpeffDecomposition),
    /// LRM-NPEFF.
    LowRank(LrmNpeffDecomposition),
}

impl Decomposition {
    /// Loads a decomposition file of either kind (`data/G` marks LRM-NPEFF).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let rec = Record::load(path)?;
        if rec.has("data/G") {
            Ok(Decomposition::LowRank(LrmNpeffDecomposition::from_record(
                &rec,
            )?))
        } else if rec.has("data/H") || rec.has("data/H/values") {
            Ok(Decomposition::Diagonal(DNpeffDecomposition::from_record(
                &rec,
            )?))
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
            Decomposition::Diagonal(d) => d.save(path),
            Decomposition::LowRank(d) => d.save(path),
        }
    }

    /// Coefficients `[n_examples, n_components]` row-major.
    pub fn w(&self) -> &[f32] {
        match self {
            Decomposition::Diagonal(d) => &d.w,
            Decomposition::LowRank(d) => &d.w,
        }
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        match self {
            Decomposition::Diagonal(d) => d.n_components,
            Decomposition::LowRank(d) => d.n_components,
        }
    }

    /// Number of model parameters.
    pub fn n_parameters(&self) -> usize {
        match self {
            Decomposition::Diagonal(d) => d.n_parameters,
            Decomposition::LowRank(d) => d.n_parameters,
        }
    }

    /// How much component `j` weighs each model parameter (≥ 0): `H_j` for D-NPEFF, `g_j²`
    /// (the diagonal of `g_j·g_jᵀ`) for LRM-NPEFF.
    pub fn importance(&self, j: usize) -> Vec<f32> {
        match self {
            Decomposition::Diagonal(d) => d.full_component(j),
            Decomposition::LowRank(d) => d.full_component(j).iter().map(|g| g * g).collect(),
        }
    }
}
