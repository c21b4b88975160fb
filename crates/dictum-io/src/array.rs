//! [`Array`]: an n-dimensional array of any supported element type, held in memory.

use dictum_linalg::{Mat, Precision, Real};

use crate::dtype::DType;

/// Element order of a multi-dimensional array in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Row-major (C order): the last index varies fastest. NumPy's default.
    C,
    /// Column-major (Fortran order): the first index varies fastest.
    Fortran,
}

/// The elements of an [`Array`], by type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ArrayData {
    /// `float32` elements.
    F32(Vec<f32>),
    /// `float64` elements.
    F64(Vec<f64>),
    /// `int64` elements.
    I64(Vec<i64>),
    /// `int32` elements.
    I32(Vec<i32>),
    /// `uint8` elements.
    U8(Vec<u8>),
    /// `bool` elements.
    Bool(Vec<bool>),
    /// Fixed-width byte strings of `width` bytes (trailing NULs removed).
    Bytes {
        /// Width of the dtype in bytes.
        width: usize,
        /// The strings.
        values: Vec<Vec<u8>>,
    },
    /// Fixed-width strings of `width` code points (trailing NULs removed).
    Unicode {
        /// Width of the dtype in code points.
        width: usize,
        /// The strings.
        values: Vec<String>,
    },
}

impl ArrayData {
    /// `F32` or `F64` data holding a copy of `v`.
    pub fn from_reals<T: Real>(v: &[T]) -> Self {
        // `T` is sealed to f32/f64: dispatch on its precision, and let bytemuck check the cast.
        match T::PRECISION {
            Precision::F32 => ArrayData::F32(bytemuck::cast_slice(v).to_vec()),
            Precision::F64 => ArrayData::F64(bytemuck::cast_slice(v).to_vec()),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::I32(v) => v.len(),
            ArrayData::U8(v) => v.len(),
            ArrayData::Bool(v) => v.len(),
            ArrayData::Bytes { values, .. } => values.len(),
            ArrayData::Unicode { values, .. } => values.len(),
        }
    }

    /// `true` with no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            ArrayData::F32(_) => DType::F32,
            ArrayData::F64(_) => DType::F64,
            ArrayData::I64(_) => DType::I64,
            ArrayData::I32(_) => DType::I32,
            ArrayData::U8(_) => DType::U8,
            ArrayData::Bool(_) => DType::Bool,
            ArrayData::Bytes { width, .. } => DType::Bytes(*width),
            ArrayData::Unicode { width, .. } => DType::Unicode(*width),
        }
    }

    /// The elements converted to `T`, in storage order; `None` for strings.
    pub fn to_real_vec<T: Real>(&self) -> Option<Vec<T>> {
        fn conv<S: Copy, T: Real>(v: &[S], f: impl Fn(S) -> f64) -> Vec<T> {
            v.iter().map(|&x| T::cast_f64(f(x))).collect()
        }
        Some(match self {
            ArrayData::F32(v) => conv(v, f64::from),
            ArrayData::F64(v) => conv(v, |x| x),
            ArrayData::I64(v) => conv(v, |x| x as f64),
            ArrayData::I32(v) => conv(v, f64::from),
            ArrayData::U8(v) => conv(v, f64::from),
            ArrayData::Bool(v) => conv(v, |b| if b { 1.0 } else { 0.0 }),
            ArrayData::Bytes { .. } | ArrayData::Unicode { .. } => return None,
        })
    }

    /// The first element as text, for string arrays (`Bytes` decoded as UTF-8, lossily).
    pub fn first_str(&self) -> Option<String> {
        match self {
            ArrayData::Bytes { values, .. } => values
                .first()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            ArrayData::Unicode { values, .. } => values.first().cloned(),
            _ => None,
        }
    }

    /// The elements as `i64` when they are integers (or booleans).
    pub fn to_i64_vec(&self) -> Option<Vec<i64>> {
        Some(match self {
            ArrayData::I64(v) => v.clone(),
            ArrayData::I32(v) => v.iter().map(|&x| i64::from(x)).collect(),
            ArrayData::U8(v) => v.iter().map(|&x| i64::from(x)).collect(),
            ArrayData::Bool(v) => v.iter().map(|&x| i64::from(x)).collect(),
            _ => return None,
        })
    }
}

/// An n-dimensional array: shape, element order and typed data.
///
/// This is what `npy::read`, npz members, HDF5 datasets and bundled datasets load
/// into. For numerical work turn it into a matrix with [`Array::to_mat`] (see there for the
/// d×N convention), or, for large `.npy` files, skip the copy with `npy::MappedNpy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Shape; empty for a 0-d array.
    pub shape: Vec<usize>,
    /// Element order of `data`.
    pub order: Order,
    /// The elements.
    pub data: ArrayData,
}

impl Array {
    /// A 1-D array.
    pub fn vector(data: ArrayData) -> Self {
        Self {
            shape: vec![data.len()],
            order: Order::C,
            data,
        }
    }

    /// A 0-d byte-string array (`|Sn`), as scipy writes a sparse matrix's `format`.
    pub fn scalar_bytes(s: &str) -> Self {
        Self {
            shape: vec![],
            order: Order::C,
            data: ArrayData::Bytes {
                width: s.len().max(1),
                values: vec![s.as_bytes().to_vec()],
            },
        }
    }

    /// A 0-d Unicode string array (`<Un`), as `np.array("text")` makes.
    pub fn scalar_str(s: &str) -> Self {
        Self {
            shape: vec![],
            order: Order::C,
            data: ArrayData::Unicode {
                width: s.chars().count().max(1),
                values: vec![s.to_string()],
            },
        }
    }

    /// A C-order `N x d` array holding the `d x N` column-major matrix `m` (one sample per
    /// row, as scikit-learn expects). Same bytes, no reordering.
    pub fn from_mat_samples_as_rows<T: Real>(m: dictum_linalg::MatRef<'_, T>) -> Self {
        Self {
            shape: vec![m.ncols(), m.nrows()],
            order: Order::C,
            data: ArrayData::from_reals(&col_major_vec(m)),
        }
    }

    /// A Fortran-order `d x N` array holding the matrix `m` with its own shape.
    pub fn from_mat_fortran<T: Real>(m: dictum_linalg::MatRef<'_, T>) -> Self {
        Self {
            shape: vec![m.nrows(), m.ncols()],
            order: Order::Fortran,
            data: ArrayData::from_reals(&col_major_vec(m)),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// `true` with no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// Shape of the column-major matrix this array reads as, or `None` above 2 dimensions.
    ///
    /// The dictum convention: a C-order `N x d` array (one sample per row) is the `d x N`
    /// matrix with one signal per column — the same bytes; a Fortran-order `r x c` array is
    /// the `r x c` matrix; a 1-D array of length `n` is an `n x 1` column; a 0-d array is
    /// `1 x 1`.
    pub fn matrix_shape(&self) -> Option<(usize, usize)> {
        matrix_shape(&self.shape, self.order)
    }

    /// The array as a `d x N` column-major matrix of `T` (see [`matrix_shape`]
    /// (Self::matrix_shape) for the convention), converting the element type.
    ///
    /// Fails for strings or more than two dimensions.
    pub fn to_mat<T: Real>(&self) -> Option<Mat<T>> {
        let (r, c) = self.matrix_shape()?;
        let v = self.data.to_real_vec::<T>()?;
        Some(Mat::from_fn(r, c, |i, j| v[i + j * r]))
    }
}

/// Shape `(d, N)` of the column-major matrix an array of `shape` and `order` reads as, or
/// `None` above two dimensions; see [`Array::matrix_shape`] for the convention.
pub fn matrix_shape(shape: &[usize], order: Order) -> Option<(usize, usize)> {
    match (shape, order) {
        ([], _) => Some((1, 1)),
        ([n], _) => Some((*n, 1)),
        ([r, c], Order::C) => Some((*c, *r)),
        ([r, c], Order::Fortran) => Some((*r, *c)),
        _ => None,
    }
}

fn col_major_vec<T: Real>(m: dictum_linalg::MatRef<'_, T>) -> Vec<T> {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for j in 0..m.ncols() {
        out.extend(m.col(j).iter().copied());
    }
    out
}
