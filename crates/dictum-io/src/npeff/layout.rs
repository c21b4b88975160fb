//! The pieces every NPEFF layout is read and written with: C-order arrays, typed datasets,
//! counts in attributes, and errors that name the file and the dataset.

use crate::array::{Array, ArrayData, Order};
use crate::error::{IoError, Result};
use crate::record::Record;

pub(super) fn c_order(shape: Vec<usize>, data: ArrayData) -> Array {
    Array {
        shape,
        order: Order::C,
        data,
    }
}

pub(super) fn layout_err(rec: &Record, problem: String) -> IoError {
    IoError::Layout {
        path: rec.source.clone(),
        problem,
    }
}

/// A 2-D (or, with `allow_1d`, 1-D as one column) dataset as `(rows, cols)`.
pub(super) fn shape2(rec: &Record, name: &str, a: &Array) -> Result<(usize, usize)> {
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
pub(super) fn c_elements(a: &Array) -> Array {
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

pub(super) fn f32s(rec: &Record, name: &str) -> Result<Vec<f32>> {
    let a = c_elements(rec.get(name)?);
    a.data
        .to_real_vec::<f32>()
        .ok_or_else(|| layout_err(rec, format!("dataset '{name}' is not numeric")))
}

pub(super) fn i64s(rec: &Record, name: &str) -> Result<Vec<i64>> {
    let a = c_elements(rec.get(name)?);
    a.data
        .to_i64_vec()
        .ok_or_else(|| layout_err(rec, format!("dataset '{name}' does not hold integers")))
}

pub(super) fn i32s(rec: &Record, name: &str) -> Result<Vec<i32>> {
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

pub(super) fn count(rec: &Record, object: &str, attr: &str) -> Result<usize> {
    let v = rec.attr_i64(object, attr)?;
    usize::try_from(v)
        .map_err(|_| layout_err(rec, format!("attribute '{attr}' on '{object}' is {v} < 0")))
}

pub(super) fn check_len(rec: &Record, name: &str, len: usize, expected: usize) -> Result<()> {
    if len == expected {
        Ok(())
    } else {
        Err(layout_err(
            rec,
            format!("dataset '{name}' holds {len} values, expected {expected}"),
        ))
    }
}
