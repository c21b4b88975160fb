//! File formats for dictum: NumPy `.npy`/`.npz`, scipy sparse codes, HDF5 (feature `hdf5`),
//! and small bundled datasets.
//!
//! Algorithms never see file paths: this crate turns files into matrices and back. The
//! convention throughout is **one signal per column**: a C-order `N x d` array (one sample
//! per row, as NumPy and scikit-learn store it) is the `d x N` matrix `Y`, with the same bytes
//! — [`npy::MappedNpy::matrix`] views it straight from a memory-mapped file without copying.
//!
//! Every write is atomic (temporary file, then rename; see [`atomic`]) and every error names
//! the file and says what is wrong ([`IoError`]).
//!
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("y.npy");
//! use dictum_io::npy::{self, MappedNpy, MatrixLayout};
//! let y = dictum_linalg::Mat::<f32>::from_fn(3, 5, |i, j| (i + 10 * j) as f32); // d=3, N=5
//! npy::write_matrix(&path, y.as_ref(), MatrixLayout::SamplesAsRows)?; // numpy sees 5 x 3
//! let file = MappedNpy::open(&path)?;
//! assert_eq!(file.shape(), &[5, 3]);
//! assert_eq!(file.matrix::<f32>()?, y.as_ref()); // and dictum reads 3 x 5 again, no copy
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod array;
pub mod atomic;
mod attr;
pub mod datasets;
pub mod dtype;
pub mod error;
#[cfg(feature = "hdf5")]
pub mod hdf5;
pub mod npeff;
pub mod npy;
pub mod npz;
pub mod png;
pub mod record;
pub mod sparse;
pub mod stats;

pub use array::{Array, ArrayData, Order};
pub use dtype::DType;
pub use error::{IoError, Result};
pub use stats::ArrayStats;
