//! Memory-mapped `.npy` files: zero-copy matrix views and column-chunk iteration for data
//! larger than memory.

use std::fs::File;
use std::path::{Path, PathBuf};

use dictum_linalg::{Mat, MatRef, Precision, Real};
use memmap2::Mmap;

use super::header::{NpyHeader, parse_header};
use crate::array::{Array, Order, matrix_shape};
use crate::dtype::DType;
use crate::error::{IoError, Result, io_err};

/// A `.npy` file mapped into memory. Pages are read from disk only when touched, so opening
/// a file of any size is cheap, and iterating it in column chunks keeps only the working set
/// resident.
///
/// ```no_run
/// use dictum_io::npy::MappedNpy;
/// let file = MappedNpy::open("patches8_train.npy")?; // C-order 20000 x 64, f32
/// let y = file.matrix::<f32>()?;                     // 64 x 20000 view, no copy
/// assert_eq!((y.nrows(), y.ncols()), (64, 20000));
/// for block in file.column_chunks::<f32>(4096)? {     // out-of-core: 4096 signals at a time
///     let _first_signal = block.col(0);
/// }
/// # Ok::<(), dictum_io::IoError>(())
/// ```
#[derive(Debug)]
pub struct MappedNpy {
    path: PathBuf,
    mmap: Mmap,
    header: NpyHeader,
}

impl MappedNpy {
    /// Maps `path` and checks its header and length.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(io_err(&path))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(IoError::Io {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory, not a .npy file",
                ),
            });
        }
        // SAFETY: the map is read-only. As with any mmap, a file truncated by another process
        // while mapped can fault on access; dictum never writes files in place (writes are
        // temp-then-rename), so its own writers cannot cause that.
        let mmap = unsafe { Mmap::map(&file) }.map_err(io_err(&path))?;
        let fmt = |source| IoError::Format {
            path: path.clone(),
            source,
        };
        let header = parse_header(&mmap).map_err(fmt)?;
        let need = header.data_offset + header.data_len();
        if mmap.len() < need {
            return Err(fmt(super::NpyFormatError::Truncated {
                expected: need,
                actual: mmap.len(),
            }));
        }
        Ok(Self { path, mmap, header })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parsed header.
    pub fn header(&self) -> &NpyHeader {
        &self.header
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.header.dtype
    }

    /// Shape as stored.
    pub fn shape(&self) -> &[usize] {
        &self.header.shape
    }

    /// Element order as stored.
    pub fn order(&self) -> Order {
        if self.header.fortran_order {
            Order::Fortran
        } else {
            Order::C
        }
    }

    /// The raw element bytes.
    pub fn data_bytes(&self) -> &[u8] {
        &self.mmap[self.header.data_offset..self.header.data_offset + self.header.data_len()]
    }

    /// Shape `(d, N)` of the column-major matrix this file reads as (see
    /// [`Array::matrix_shape`]); an error above two dimensions.
    pub fn matrix_shape(&self) -> Result<(usize, usize)> {
        matrix_shape(&self.header.shape, self.order()).ok_or_else(|| IoError::Shape {
            path: self.path.clone(),
            shape: self.header.shape.clone(),
            problem: "is not a matrix (more than 2 dimensions); reshape it to 2-D first".into(),
        })
    }

    /// The elements as a `&[T]`, in storage order, without copying.
    pub fn as_slice<T: Real>(&self) -> Result<&[T]> {
        let wanted = match T::PRECISION {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        };
        if self.header.dtype != wanted {
            return Err(IoError::DTypeMismatch {
                path: self.path.clone(),
                found: self.header.dtype.name(),
                wanted: wanted.name(),
            });
        }
        bytemuck::try_cast_slice(self.data_bytes()).map_err(|_| IoError::Misaligned {
            path: self.path.clone(),
            offset: self.header.data_offset,
            align: core::mem::align_of::<T>(),
        })
    }

    /// The file as a `d x N` column-major matrix view, **without copying**: a C-order `N x d`
    /// file is viewed as `d x N`, a Fortran-order `d x N` file as itself.
    ///
    /// The file's element type must be `T` ([`IoError::DTypeMismatch`] otherwise; use
    /// [`to_mat`](Self::to_mat) to convert).
    pub fn matrix<T: Real>(&self) -> Result<MatRef<'_, T>> {
        let (r, c) = self.matrix_shape()?;
        Ok(MatRef::from_column_major_slice(self.as_slice::<T>()?, r, c))
    }

    /// The file as an owned `d x N` matrix of `T`, converting the element type (f32, f64
    /// and integers).
    pub fn to_mat<T: Real>(&self) -> Result<Mat<T>> {
        if let Ok(m) = self.matrix::<T>() {
            return Ok(m.to_owned());
        }
        self.to_array()?
            .to_mat::<T>()
            .ok_or_else(|| IoError::DTypeMismatch {
                path: self.path.clone(),
                found: self.header.dtype.name(),
                wanted: format!("a numeric type convertible to {}", T::NAME),
            })
    }

    /// Copies the whole file into an [`Array`].
    pub fn to_array(&self) -> Result<Array> {
        Ok(Array {
            shape: self.header.shape.clone(),
            order: self.order(),
            data: super::decode(self.header.dtype, self.data_bytes()),
        })
    }

    /// Iterates over the matrix in blocks of at most `chunk` columns (signals), each a
    /// zero-copy view. Only the pages of the current block need to be in memory.
    pub fn column_chunks<T: Real>(&self, chunk: usize) -> Result<ColumnChunks<'_, T>> {
        if chunk == 0 {
            return Err(IoError::Shape {
                path: self.path.clone(),
                shape: self.header.shape.clone(),
                problem:
                    "cannot be iterated in chunks of 0 columns; use a chunk size of at least 1"
                        .into(),
            });
        }
        Ok(ColumnChunks {
            mat: self.matrix::<T>()?,
            chunk,
            next: 0,
        })
    }
}

/// Iterator over column blocks of a matrix; see [`MappedNpy::column_chunks`].
#[derive(Debug, Clone)]
pub struct ColumnChunks<'a, T> {
    mat: MatRef<'a, T>,
    chunk: usize,
    next: usize,
}

impl<'a, T: Real> ColumnChunks<'a, T> {
    /// Index of the first column of the next block.
    pub fn position(&self) -> usize {
        self.next
    }
}

impl<'a, T: Real> Iterator for ColumnChunks<'a, T> {
    type Item = MatRef<'a, T>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.mat.ncols() {
            return None;
        }
        let width = self.chunk.min(self.mat.ncols() - self.next);
        let block = self.mat.subcols(self.next, width);
        self.next += width;
        Some(block)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.mat.ncols() - self.next).div_ceil(self.chunk);
        (n, Some(n))
    }
}

impl<T: Real> ExactSizeIterator for ColumnChunks<'_, T> {}
