//! NPEFF files the algorithms do not define: a trained classifier.
//!
//! A classifier file (`.npz`, or `.h5` with the `hdf5` feature) holds `model/params` (the
//! flat parameter vector, float64, in the layout of
//! [`Classifier`](dictum_learn::npeff::Classifier)) and attributes `n_inputs`, `hidden` (0
//! for logistic regression) and `n_classes` on `model`.

use std::path::Path;

use dictum_io::record::{AttrValue, Record};
use dictum_io::{Array, ArrayData, IoError};
use dictum_learn::npeff::Classifier;

use crate::Result;

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
