//! Errors of the file layer. Every variant names the file it is about.

use std::path::PathBuf;

use crate::npy::header::NpyFormatError;

/// What went wrong reading or writing a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The operating system refused (missing file, permissions, disk full…).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A `.npy` file (or npz member) is malformed or of an unsupported kind.
    #[error("{}: {source}", path.display())]
    Format {
        /// The file (for npz members: `archive.npz/member`).
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: NpyFormatError,
    },
    /// The array's element type is not the one asked for.
    #[error(
        "{}: array has dtype {found}, expected {wanted}; use a converting reader (to_mat) \
         or convert the file with arr.astype(...)", path.display()
    )]
    DTypeMismatch {
        /// The file.
        path: PathBuf,
        /// The dtype in the file.
        found: String,
        /// The dtype requested.
        wanted: String,
    },
    /// The array has the wrong number of dimensions or the wrong shape.
    #[error("{}: array of shape {shape:?} {problem}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// The array's shape.
        shape: Vec<usize>,
        /// What was expected instead.
        problem: String,
    },
    /// The data cannot be viewed in place (it does not start on an element boundary).
    #[error(
        "{}: data offset {offset} is not aligned to {align} bytes, so it cannot be viewed \
         without copying; use to_mat, or re-save the file with numpy", path.display()
    )]
    Misaligned {
        /// The file.
        path: PathBuf,
        /// Byte offset of the data.
        offset: usize,
        /// Required alignment.
        align: usize,
    },
    /// An `.npz` archive lacks a member.
    #[error("{}: no array named '{member}' (the archive holds: {})", path.display(), available.join(", "))]
    MissingMember {
        /// The archive.
        path: PathBuf,
        /// The requested member.
        member: String,
        /// Members that exist.
        available: Vec<String>,
    },
    /// The zip container of an `.npz` is corrupt or uses an unsupported compression.
    #[error("{}: bad .npz archive: {message}; npz files must be zip archives (stored or deflate)", path.display())]
    Zip {
        /// The archive.
        path: PathBuf,
        /// The zip library's message.
        message: String,
    },
    /// A sparse-matrix file is inconsistent.
    #[error("{}: invalid sparse matrix: {reason}", path.display())]
    Sparse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An HDF5 operation failed.
    #[error("{}: HDF5: {message}", path.display())]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The HDF5 library's message.
        message: String,
    },
    /// The file's extension is not one dictum reads.
    #[error("{}: unknown file type; dictum reads .npy, .npz and (with the hdf5 feature) .h5/.hdf5", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// An HDF5 file was asked for, but this build has no HDF5 support.
    #[error(
        "{}: this build of dictum has no HDF5 support; rebuild with `--features hdf5` \
         (needs libhdf5-dev) or use a .npz path, which holds the same arrays", path.display()
    )]
    Hdf5Disabled {
        /// The file.
        path: PathBuf,
    },
    /// A file does not hold what its layout requires (a missing array or attribute, or
    /// arrays whose shapes disagree).
    #[error("{}: {problem}", path.display())]
    Layout {
        /// The file.
        path: PathBuf,
        /// What is missing or inconsistent.
        problem: String,
    },
    /// A bundled dataset name is unknown.
    #[error("no bundled dataset named '{name}' (available: {})", available.join(", "))]
    UnknownDataset {
        /// The requested name.
        name: String,
        /// The bundled names.
        available: Vec<String>,
    },
    /// A linear-algebra check failed on loaded data.
    #[error(transparent)]
    Linalg(#[from] dictum_linalg::LinalgError),
}

/// `Result` with [`IoError`].
pub type Result<T, E = IoError> = core::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IoError {
    let path = path.into();
    move |source| IoError::Io { path, source }
}
