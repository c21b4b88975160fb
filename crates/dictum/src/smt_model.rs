//! Saving and loading a fitted Sparse Manifold Transform ([`SmtModel`]) in one file: `.npz`,
//! or HDF5 for `.h5` with the `hdf5` feature.
//!
//! Datasets: `dictionary` (`p² x m`), `embedding/p` (`dims x m`), `embedding/eigenvalues`,
//! and, when whitened, `zca/mean` and `zca/matrix`; matrices in Fortran order so that numpy
//! sees their own shapes. Attributes on `model`: `height`, `width`, `patch`, `mean_removal`
//! (`none`, `patch` or `context`), `context`, `threshold`, `pool`, `max_active` (0: no cap), `binary`.

use std::path::Path;

use dictum_io::record::{AttrValue, Record};
use dictum_io::{Array, ArrayData, IoError};
use dictum_linalg::{Mat, Real};
use dictum_smt::embed::Embedding;
use dictum_smt::{MeanRemoval, SmtModel, Zca};

use crate::Result;

fn matrix<T: Real>(m: &Mat<T>) -> Array {
    Array::from_mat_fortran(m.as_ref())
}

/// Saves a fitted model, atomically.
pub fn save_smt_model(path: impl AsRef<Path>, model: &SmtModel) -> Result<()> {
    let mut rec = Record::new();
    rec.put("dictionary", matrix(&model.dictionary));
    rec.put("embedding/p", matrix(&model.embedding.p));
    rec.put(
        "embedding/eigenvalues",
        Array::vector(ArrayData::F64(model.embedding.eigenvalues.clone())),
    );
    if let Some(z) = &model.zca {
        rec.put("zca/mean", Array::vector(ArrayData::F64(z.mean.clone())));
        rec.put("zca/matrix", matrix(&z.matrix));
    }
    let (mean, context) = match model.mean {
        MeanRemoval::None => ("none", 0),
        MeanRemoval::Patch => ("patch", 0),
        MeanRemoval::Context(c) => ("context", c),
    };
    let attrs = [
        ("height", AttrValue::I64(model.height as i64)),
        ("width", AttrValue::I64(model.width as i64)),
        ("patch", AttrValue::I64(model.patch as i64)),
        ("mean_removal", AttrValue::Str(mean.into())),
        ("context", AttrValue::I64(context as i64)),
        ("threshold", AttrValue::F64(model.threshold)),
        ("pool", AttrValue::I64(model.pool as i64)),
        (
            "max_active",
            AttrValue::I64(model.max_active.map_or(0, |k| k as i64)),
        ),
        ("binary", AttrValue::I64(i64::from(model.binary))),
    ];
    for (k, v) in attrs {
        rec.set_attr("model", k, v);
    }
    rec.save(path)?;
    Ok(())
}

/// Loads a model saved by [`save_smt_model`].
pub fn load_smt_model(path: impl AsRef<Path>) -> Result<SmtModel> {
    let rec = Record::load(path)?;
    let bad = |problem: String| IoError::Layout {
        path: rec.source.clone(),
        problem,
    };
    let mat = |name: &str| -> Result<Mat<f64>> {
        Ok(rec
            .get(name)?
            .to_mat::<f64>()
            .ok_or_else(|| bad(format!("{name} is not a numeric matrix")))?)
    };
    let count = |name: &str| -> Result<usize> {
        let v = rec.attr_i64("model", name)?;
        Ok(usize::try_from(v).map_err(|_| bad(format!("attribute {name} = {v} is negative")))?)
    };
    let dictionary = mat("dictionary")?;
    let dictionary = Mat::<f32>::from_fn(dictionary.nrows(), dictionary.ncols(), |i, j| {
        dictionary[(i, j)] as f32
    });
    let p = mat("embedding/p")?;
    let eigenvalues = rec
        .get("embedding/eigenvalues")?
        .data
        .to_real_vec::<f64>()
        .ok_or_else(|| bad("embedding/eigenvalues is not numeric".into()))?;
    let zca = if rec.has("zca/matrix") {
        Some(Zca {
            mean: rec
                .get("zca/mean")?
                .data
                .to_real_vec::<f64>()
                .ok_or_else(|| bad("zca/mean is not numeric".into()))?,
            matrix: mat("zca/matrix")?,
        })
    } else {
        None
    };
    let mean = match rec.attr("model", "mean_removal")? {
        AttrValue::Str(s) if s == "none" => MeanRemoval::None,
        AttrValue::Str(s) if s == "patch" => MeanRemoval::Patch,
        AttrValue::Str(s) if s == "context" => MeanRemoval::Context(count("context")?),
        other => return Err(bad(format!("unknown mean_removal {other:?}")).into()),
    };
    let threshold = match rec.attr("model", "threshold")? {
        AttrValue::F64(v) => *v,
        other => return Err(bad(format!("threshold is {other:?}, not a number")).into()),
    };
    let model = SmtModel {
        height: count("height")?,
        width: count("width")?,
        patch: count("patch")?,
        mean,
        zca,
        dictionary,
        threshold,
        max_active: match rec.attr_i64("model", "max_active") {
            Ok(k) if k > 0 => Some(k as usize),
            _ => None,
        },
        binary: rec.attr_i64("model", "binary").map_or(true, |b| b != 0),
        embedding: Embedding { p, eigenvalues },
        pool: count("pool")?,
    };
    let d = model.patch * model.patch;
    if model.dictionary.nrows() != d || model.embedding.p.ncols() != model.dictionary.ncols() {
        return Err(bad(format!(
            "dictionary {}x{} and embedding {}x{} do not fit {}x{} patches",
            model.dictionary.nrows(),
            model.dictionary.ncols(),
            model.embedding.p.nrows(),
            model.embedding.p.ncols(),
            model.patch,
            model.patch
        ))
        .into());
    }
    Ok(model)
}
