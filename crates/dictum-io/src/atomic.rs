//! Atomic file writes: write a temporary file beside the target, flush it to disk, then
//! rename it over the target. A crash or error at any point leaves either the old file or
//! the complete new one, never half a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{IoError, Result, io_err};

/// Writes `path` atomically with `write`, which receives a buffered writer.
///
/// The temporary file lives in the target's directory (a rename across file systems would
/// not be atomic) and is removed if `write` fails.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<()>,
) -> Result<()> {
    let tmp = temp_beside(path)?;
    {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        write(&mut w)?;
        w.flush().map_err(io_err(path))?;
    }
    persist(tmp, path)
}

/// A new temporary file in the directory of `path`, for writers that need a real file
/// (zip, HDF5); finish with [`persist`].
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".dictum-tmp-")
        .tempfile_in(dir)
        .map_err(io_err(path))
}

/// Flushes `tmp` to disk and renames it to `path`.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| IoError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}
