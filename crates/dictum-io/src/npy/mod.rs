//! NumPy `.npy` files: read, write, and memory-map.
//!
//! Supported: format versions 1.0–3.0; element types `f4`, `f8`, `i8`, `i4`, `u1`, `b1` and
//! fixed-width Unicode; little-endian; C and Fortran order; 0-d to n-d arrays (matrices are
//! 1-D or 2-D). Big-endian data and structured dtypes get a typed error saying how to convert.
//!
//! A C-order `N x d` file — one sample per row, the layout of scikit-learn and of
//! `../shared/data` — is the `d x N` matrix with one signal per column: [`MappedNpy::matrix`]
//! views it in place, without copying, straight from the memory-mapped file.

pub(crate) mod header;
mod mapped;

pub use header::{MAGIC, NpyFormatError, NpyHeader, encode_header, parse_header};
pub use mapped::{ColumnChunks, MappedNpy};

use std::io::Write;
use std::path::Path;

use dictum_linalg::{MatRef, Real};

use crate::array::{Array, ArrayData, Order};
use crate::atomic::write_atomic;
use crate::dtype::DType;
use crate::error::{IoError, Result, io_err};

/// Reads a whole `.npy` file into memory. For large files prefer [`MappedNpy::open`].
pub fn read(path: impl AsRef<Path>) -> Result<Array> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    from_bytes(&bytes).map_err(|source| IoError::Format {
        path: path.to_path_buf(),
        source,
    })
}

/// Decodes an in-memory `.npy` image (an npz member, a bundled dataset).
pub fn from_bytes(bytes: &[u8]) -> Result<Array, NpyFormatError> {
    let h = parse_header(bytes)?;
    let need = h.data_offset + h.data_len();
    if bytes.len() < need {
        return Err(NpyFormatError::Truncated {
            expected: need,
            actual: bytes.len(),
        });
    }
    let raw = &bytes[h.data_offset..need];
    let data = decode(h.dtype, raw);
    Ok(Array {
        shape: h.shape,
        order: if h.fortran_order {
            Order::Fortran
        } else {
            Order::C
        },
        data,
    })
}

fn le_chunks<const N: usize>(raw: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    raw.chunks_exact(N).map(|c| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        a
    })
}

/// Decodes little-endian element bytes (the caller checked the length).
pub(crate) fn decode(dtype: DType, raw: &[u8]) -> ArrayData {
    match dtype {
        DType::F32 => ArrayData::F32(le_chunks::<4>(raw).map(f32::from_le_bytes).collect()),
        DType::F64 => ArrayData::F64(le_chunks::<8>(raw).map(f64::from_le_bytes).collect()),
        DType::I64 => ArrayData::I64(le_chunks::<8>(raw).map(i64::from_le_bytes).collect()),
        DType::I32 => ArrayData::I32(le_chunks::<4>(raw).map(i32::from_le_bytes).collect()),
        DType::U8 => ArrayData::U8(raw.to_vec()),
        DType::Bool => ArrayData::Bool(raw.iter().map(|&b| b != 0).collect()),
        DType::Bytes(width) => ArrayData::Bytes {
            width,
            values: raw
                .chunks_exact(width)
                .map(|s| {
                    let end = s.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    s[..end].to_vec()
                })
                .collect(),
        },
        DType::Unicode(width) => ArrayData::Unicode {
            width,
            values: raw
                .chunks_exact(4 * width)
                .map(|s| {
                    le_chunks::<4>(s)
                        .map(u32::from_le_bytes)
                        .take_while(|&c| c != 0)
                        .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
                        .collect()
                })
                .collect(),
        },
    }
}

/// Encodes `array` as a complete `.npy` image (header and data).
///
/// Fails with [`IoError::Shape`] when the shape does not match the number of elements, or a
/// string is longer than the array's Unicode width.
pub fn to_bytes(array: &Array) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(&mut out, array, Path::new("<memory>"))?;
    Ok(out)
}

fn encode_into(out: &mut impl Write, array: &Array, path: &Path) -> Result<()> {
    let expected: usize = array.shape.iter().product();
    if expected != array.len() {
        return Err(IoError::Shape {
            path: path.to_path_buf(),
            shape: array.shape.clone(),
            problem: format!("does not hold {} elements", array.len()),
        });
    }
    let header = encode_header(&array.dtype(), array.order == Order::Fortran, &array.shape);
    let w = |r: std::io::Result<()>| r.map_err(io_err(path));
    w(out.write_all(&header))?;
    match &array.data {
        ArrayData::F32(v) => w(write_le(out, v, |x| x.to_le_bytes()))?,
        ArrayData::F64(v) => w(write_le(out, v, |x| x.to_le_bytes()))?,
        ArrayData::I64(v) => w(write_le(out, v, |x| x.to_le_bytes()))?,
        ArrayData::I32(v) => w(write_le(out, v, |x| x.to_le_bytes()))?,
        ArrayData::U8(v) => w(out.write_all(v))?,
        ArrayData::Bool(v) => {
            let bytes: Vec<u8> = v.iter().map(|&b| u8::from(b)).collect();
            w(out.write_all(&bytes))?
        }
        ArrayData::Bytes { width, values } => {
            for s in values {
                if s.len() > *width {
                    return Err(IoError::Shape {
                        path: path.to_path_buf(),
                        shape: array.shape.clone(),
                        problem: format!("has a string of {} bytes in a |S{width} array", s.len()),
                    });
                }
                w(out.write_all(s))?;
                w(out.write_all(&vec![0u8; width - s.len()]))?;
            }
        }
        ArrayData::Unicode { width, values } => {
            for s in values {
                let n = s.chars().count();
                if n > *width {
                    return Err(IoError::Shape {
                        path: path.to_path_buf(),
                        shape: array.shape.clone(),
                        problem: format!("has a string of {n} characters in a <U{width} array"),
                    });
                }
                for c in s.chars().chain(std::iter::repeat('\0')).take(*width) {
                    w(out.write_all(&(c as u32).to_le_bytes()))?;
                }
            }
        }
    }
    Ok(())
}

fn write_le<T: bytemuck::Pod, const N: usize>(
    out: &mut impl Write,
    v: &[T],
    f: impl Fn(&T) -> [u8; N],
) -> std::io::Result<()> {
    if cfg!(target_endian = "little") {
        // In-memory bytes already are the file's bytes: one write, no per-element calls.
        return out.write_all(bytemuck::cast_slice(v));
    }
    for x in v {
        out.write_all(&f(x))?;
    }
    Ok(())
}

/// Writes `array` to `path` atomically.
pub fn write(path: impl AsRef<Path>, array: &Array) -> Result<()> {
    let path = path.as_ref();
    write_atomic(path, |w| encode_into(w, array, path))
}

/// How a `d x N` matrix is laid out in a `.npy` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatrixLayout {
    /// C-order array of shape `(N, d)`: one sample per row, what scikit-learn expects.
    #[default]
    SamplesAsRows,
    /// Fortran-order array of shape `(d, N)`: the matrix's own shape, what SPAMS and
    /// KSVD.jl users expect.
    Fortran,
}

/// Writes the column-major matrix `m` (`d x N`) atomically. Both layouts store the same
/// bytes and both read back as the same `d x N` matrix; they differ only in what NumPy shows.
pub fn write_matrix<T: Real>(
    path: impl AsRef<Path>,
    m: MatRef<'_, T>,
    layout: MatrixLayout,
) -> Result<()> {
    let array = match layout {
        MatrixLayout::SamplesAsRows => Array::from_mat_samples_as_rows(m),
        MatrixLayout::Fortran => Array::from_mat_fortran(m),
    };
    write(path, &array)
}
