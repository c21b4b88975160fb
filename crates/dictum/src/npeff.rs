//! NPEFF's files: the PEFs, dataset Fishers and decompositions of `dictum-learn` saved and
//! loaded in the reference implementation's layouts (`dictum-io`'s `npeff` module) through
//! [`NpeffFile`], and a trained classifier.
//!
//! A classifier file (`.npz`, or `.h5` with the `hdf5` feature) holds `model/params` (the
//! flat parameter vector, float64, in the layout of
//! [`Classifier`]) and attributes `n_inputs`, `hidden` (0
//! for logistic regression) and `n_classes` on `model`.

use std::path::Path;

use dictum_io::npeff::{
    DNpeffFile, DPefFile, DecompositionFile, DsfFile, HArrays, LrmNpeffFile, LrmPefFile, PefFile,
    PredictionArrays,
};
use dictum_io::record::{AttrValue, Record};
use dictum_io::{Array, ArrayData, IoError};
use dictum_learn::npeff::{
    Classifier, DNpeffDecomposition, DPefs, Decomposition, DiagonalDsf, HFactor,
    LrmNpeffDecomposition, LrmPefs, Pefs, Predictions,
};

use crate::Result;

/// NPEFF's data saved in the reference's layouts: HDF5 (`.h5`/`.hdf5`, feature `hdf5`) or
/// `.npz` with the same names, chosen by the extension; writes are atomic. Bring it into
/// scope to call `DPefs::load(path)`, `decomposition.save(path)`, ….
pub trait NpeffFile: Sized {
    /// Saves `self` to `path`.
    fn save(&self, path: impl AsRef<Path>) -> Result<()>;
    /// Loads what [`save`](Self::save) (or the reference implementation) wrote.
    fn load(path: impl AsRef<Path>) -> Result<Self>;
}

fn predictions_file(p: &Predictions) -> PredictionArrays {
    PredictionArrays {
        labels: p.labels.clone(),
        logits: p.logits.clone(),
        n_classes: p.n_classes,
    }
}

fn predictions(p: PredictionArrays) -> Predictions {
    Predictions {
        labels: p.labels,
        logits: p.logits,
        n_classes: p.n_classes,
    }
}

fn d_pef_file(p: &DPefs) -> DPefFile {
    DPefFile {
        n_parameters: p.n_parameters,
        nnz: p.nnz,
        values: p.values.clone(),
        indices: p.indices.clone(),
        norms: p.norms.clone(),
        predictions: predictions_file(&p.predictions),
    }
}

fn d_pefs(f: DPefFile) -> DPefs {
    DPefs {
        n_parameters: f.n_parameters,
        nnz: f.nnz,
        values: f.values,
        indices: f.indices,
        norms: f.norms,
        predictions: predictions(f.predictions),
    }
}

fn lrm_pef_file(p: &LrmPefs) -> LrmPefFile {
    LrmPefFile {
        n_parameters: p.n_parameters,
        nnz: p.nnz,
        values: p.values.clone(),
        row_indices: p.row_indices.clone(),
        ranks: p.ranks.clone(),
        col_sizes: p.col_sizes.clone(),
        norms: p.norms.clone(),
        predictions: predictions_file(&p.predictions),
        variable_rank: p.variable_rank,
    }
}

fn lrm_pefs(f: LrmPefFile) -> LrmPefs {
    LrmPefs {
        n_parameters: f.n_parameters,
        nnz: f.nnz,
        values: f.values,
        row_indices: f.row_indices,
        ranks: f.ranks,
        col_sizes: f.col_sizes,
        norms: f.norms,
        predictions: predictions(f.predictions),
        variable_rank: f.variable_rank,
    }
}

fn d_npeff_file(d: &DNpeffDecomposition) -> DNpeffFile {
    DNpeffFile {
        w: d.w.clone(),
        n_components: d.n_components,
        h: match &d.h {
            HFactor::Dense(h) => HArrays::Dense(h.clone()),
            HFactor::Sparse {
                values,
                row_offsets,
                column_indices,
            } => HArrays::Sparse {
                values: values.clone(),
                row_offsets: row_offsets.clone(),
                column_indices: column_indices.clone(),
            },
        },
        kept_indices: d.kept_indices.clone(),
        n_parameters: d.n_parameters,
    }
}

fn d_npeff(f: DNpeffFile) -> DNpeffDecomposition {
    DNpeffDecomposition {
        w: f.w,
        n_components: f.n_components,
        h: match f.h {
            HArrays::Dense(h) => HFactor::Dense(h),
            HArrays::Sparse {
                values,
                row_offsets,
                column_indices,
            } => HFactor::Sparse {
                values,
                row_offsets,
                column_indices,
            },
        },
        kept_indices: f.kept_indices,
        n_parameters: f.n_parameters,
    }
}

fn lrm_npeff_file(d: &LrmNpeffDecomposition) -> LrmNpeffFile {
    LrmNpeffFile {
        w: d.w.clone(),
        n_components: d.n_components,
        g: d.g.clone(),
        kept_indices: d.kept_indices.clone(),
        n_parameters: d.n_parameters,
        n_classes: d.n_classes,
        log_loss_frequency: d.log_loss_frequency,
        losses_g_only: d.losses_g_only.clone(),
        losses_joint: d.losses_joint.clone(),
    }
}

fn lrm_npeff(f: LrmNpeffFile) -> LrmNpeffDecomposition {
    LrmNpeffDecomposition {
        w: f.w,
        n_components: f.n_components,
        g: f.g,
        kept_indices: f.kept_indices,
        n_parameters: f.n_parameters,
        n_classes: f.n_classes,
        log_loss_frequency: f.log_loss_frequency,
        losses_g_only: f.losses_g_only,
        losses_joint: f.losses_joint,
    }
}

impl NpeffFile for DPefs {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        Ok(d_pef_file(self).save(path)?)
    }

    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(d_pefs(DPefFile::load(path)?))
    }
}

impl NpeffFile for LrmPefs {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        Ok(lrm_pef_file(self).save(path)?)
    }

    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(lrm_pefs(LrmPefFile::load(path)?))
    }
}

impl NpeffFile for Pefs {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        match self {
            Pefs::Diagonal(p) => p.save(path),
            Pefs::LowRank(p) => p.save(path),
        }
    }

    /// Either kind, told apart as the reference does.
    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(match PefFile::load(path)? {
            PefFile::Diagonal(f) => Pefs::Diagonal(d_pefs(f)),
            PefFile::LowRank(f) => Pefs::LowRank(lrm_pefs(f)),
        })
    }
}

impl NpeffFile for DiagonalDsf {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let file = DsfFile {
            fisher: self.fisher.clone(),
        };
        Ok(file.save(path)?)
    }

    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(DiagonalDsf {
            fisher: DsfFile::load(path)?.fisher,
        })
    }
}

impl NpeffFile for DNpeffDecomposition {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        Ok(d_npeff_file(self).save(path)?)
    }

    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(d_npeff(DNpeffFile::load(path)?))
    }
}

impl NpeffFile for LrmNpeffDecomposition {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        Ok(lrm_npeff_file(self).save(path)?)
    }

    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(lrm_npeff(LrmNpeffFile::load(path)?))
    }
}

impl NpeffFile for Decomposition {
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        match self {
            Decomposition::Diagonal(d) => d.save(path),
            Decomposition::LowRank(d) => d.save(path),
        }
    }

    /// Either kind (`data/G` marks LRM-NPEFF).
    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Ok(match DecompositionFile::load(path)? {
            DecompositionFile::Diagonal(f) => Decomposition::Diagonal(d_npeff(f)),
            DecompositionFile::LowRank(f) => Decomposition::LowRank(lrm_npeff(f)),
        })
    }
}

/// Saves a classifier, atomically.
pub fn save_classifier(path: impl AsRef<Path>, model: &Classifier) -> Result<()> {
    let mut rec = Record::new();
    rec.put(
        "model/params",
        Array::vector(ArrayData::F64(model.params().to_vec())),
    );
    rec.set_attr("model", "n_inputs", AttrValue::I64(model.n_inputs() as i64));
    rec.set_attr(
        "model",
        "hidden",
        AttrValue::I64(model.hidden().unwrap_or(0) as i64),
    );
    rec.set_attr(
        "model",
        "n_classes",
        AttrValue::I64(model.n_classes() as i64),
    );
    rec.save(path)?;
    Ok(())
}

/// Loads a classifier saved by [`save_classifier`].
pub fn load_classifier(path: impl AsRef<Path>) -> Result<Classifier> {
    let rec = Record::load(path)?;
    let bad = |problem: String| IoError::Layout {
        path: rec.source.clone(),
        problem,
    };
    let count = |name: &str| -> Result<usize> {
        let v = rec.attr_i64("model", name)?;
        Ok(usize::try_from(v).map_err(|_| bad(format!("attribute {name} = {v} is negative")))?)
    };
    let params = rec
        .get("model/params")?
        .data
        .to_real_vec::<f64>()
        .ok_or_else(|| bad("model/params is not numeric".into()))?;
    let hidden = count("hidden")?;
    Ok(Classifier::from_params(
        count("n_inputs")?,
        (hidden > 0).then_some(hidden),
        count("n_classes")?,
        params,
    )?)
}
