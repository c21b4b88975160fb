//! Summary statistics of an array, as `dictum inspect` prints them.

use crate::array::ArrayData;

/// Count, NaN count, range and mean of an array's numeric elements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArrayStats {
    /// Number of elements.
    pub count: usize,
    /// Number of NaN elements.
    pub nan_count: usize,
    /// Number of infinite elements.
    pub inf_count: usize,
    /// Smallest non-NaN element (`NaN` if there is none).
    pub min: f64,
    /// Largest non-NaN element (`NaN` if there is none).
    pub max: f64,
    /// Mean of the non-NaN elements (`NaN` if there is none), accumulated in `f64`.
    pub mean: f64,
}

impl ArrayStats {
    /// Statistics of a stream of values.
    pub fn from_values(values: impl IntoIterator<Item = f64>) -> Self {
        let (mut count, mut nan_count, mut inf_count, mut n) = (0usize, 0usize, 0usize, 0usize);
        let (mut min, mut max, mut sum, mut comp) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0);
        for x in values {
            count += 1;
            if x.is_nan() {
                nan_count += 1;
                continue;
            }
            if x.is_infinite() {
                inf_count += 1;
            }
            n += 1;
            min = min.min(x);
            max = max.max(x);
            // Kahan summation: millions of f32 pixels summed naively lose digits of the mean.
            let y = x - comp;
            let t = sum + y;
            comp = (t - sum) - y;
            sum = t;
        }
        if n == 0 {
            (min, max) = (f64::NAN, f64::NAN);
        }
        Self {
            count,
            nan_count,
            inf_count,
            min,
            max,
            mean: if n == 0 { f64::NAN } else { sum / n as f64 },
        }
    }

    /// Statistics of typed data; `None` for strings.
    pub fn of(data: &ArrayData) -> Option<Self> {
        Some(match data {
            ArrayData::F32(v) => Self::from_values(v.iter().map(|&x| f64::from(x))),
            ArrayData::F64(v) => Self::from_values(v.iter().copied()),
            ArrayData::I64(v) => Self::from_values(v.iter().map(|&x| x as f64)),
            ArrayData::I32(v) => Self::from_values(v.iter().map(|&x| f64::from(x))),
            ArrayData::U8(v) => Self::from_values(v.iter().map(|&x| f64::from(x))),
            ArrayData::Bool(v) => Self::from_values(v.iter().map(|&x| f64::from(u8::from(x)))),
            ArrayData::Bytes { .. } | ArrayData::Unicode { .. } => return None,
        })
    }
}
