//! Attribute values of the named-array files (`record`): small scalars or 1-D arrays, as
//! HDF5 attributes are.

use crate::array::{Array, ArrayData, Order};

/// An attribute value (HDF5 attributes are small scalars or 1-D arrays).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A floating-point number.
    F64(f64),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit integer (some readers insist on 4-byte integers, e.g. NPEFF's
    /// `dense_fisher_size`).
    I32(i32),
    /// A string.
    Str(String),
    /// A 1-D array of integers.
    I64Array(Vec<i64>),
    /// A 1-D array of floats.
    F64Array(Vec<f64>),
}

impl AttrValue {
    /// The value as an integer, if it is one (a 1-element integer array counts: early NPEFF
    /// files stored some sizes that way).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            AttrValue::I64(v) => Some(*v),
            AttrValue::I32(v) => Some(i64::from(*v)),
            AttrValue::I64Array(v) if v.len() == 1 => Some(v[0]),
            AttrValue::F64(v) if v.fract() == 0.0 => Some(*v as i64),
            _ => None,
        }
    }

    /// The value as a list of integers (a scalar is a list of one).
    pub fn as_i64_vec(&self) -> Option<Vec<i64>> {
        match self {
            AttrValue::I64Array(v) => Some(v.clone()),
            other => other.as_i64().map(|v| vec![v]),
        }
    }

    pub(crate) fn to_array(&self) -> Array {
        let scalar = |data: ArrayData| Array {
            shape: vec![],
            order: Order::C,
            data,
        };
        match self {
            AttrValue::F64(v) => scalar(ArrayData::F64(vec![*v])),
            AttrValue::I64(v) => scalar(ArrayData::I64(vec![*v])),
            AttrValue::I32(v) => scalar(ArrayData::I32(vec![*v])),
            AttrValue::Str(s) => Array::scalar_str(s),
            AttrValue::I64Array(v) => Array::vector(ArrayData::I64(v.clone())),
            AttrValue::F64Array(v) => Array::vector(ArrayData::F64(v.clone())),
        }
    }

    pub(crate) fn from_array(a: &Array) -> Option<Self> {
        let scalar = a.shape.is_empty();
        Some(match &a.data {
            ArrayData::F64(v) if scalar => AttrValue::F64(*v.first()?),
            ArrayData::F32(v) if scalar => AttrValue::F64(f64::from(*v.first()?)),
            ArrayData::I64(v) if scalar => AttrValue::I64(*v.first()?),
            ArrayData::I32(v) if scalar => AttrValue::I32(*v.first()?),
            ArrayData::F64(v) => AttrValue::F64Array(v.clone()),
            ArrayData::F32(v) => AttrValue::F64Array(v.iter().map(|&x| f64::from(x)).collect()),
            ArrayData::I64(v) => AttrValue::I64Array(v.clone()),
            ArrayData::I32(v) => AttrValue::I64Array(v.iter().map(|&x| i64::from(x)).collect()),
            other => AttrValue::Str(other.first_str()?),
        })
    }
}
