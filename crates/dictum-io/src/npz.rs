//! NumPy `.npz` archives: a zip file of `.npy` members (`np.savez` stores them,
//! `np.savez_compressed` deflates them). Both are read; both can be written.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::array::Array;
use crate::atomic::{persist, temp_beside};
use crate::error::{IoError, Result, io_err};
use crate::npy;

fn zip_err(path: &Path) -> impl FnOnce(zip::result::ZipError) -> IoError + '_ {
    move |e| IoError::Zip {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// An open `.npz` archive. Members are read on demand.
///
/// ```no_run
/// let mut npz = dictum_io::npz::NpzReader::open("codes.npz")?;
/// println!("{:?}", npz.names());
/// let data = npz.read("data")?;
/// # Ok::<(), dictum_io::IoError>(())
/// ```
#[derive(Debug)]
pub struct NpzReader {
    path: PathBuf,
    archive: ZipArchive<BufReader<File>>,
    /// Array name (without `.npy`) → zip entry name.
    members: BTreeMap<String, String>,
}

impl NpzReader {
    /// Opens an archive and lists its members.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(io_err(&path))?;
        let archive = ZipArchive::new(BufReader::new(file)).map_err(zip_err(&path))?;
        let mut members = BTreeMap::new();
        for name in archive.file_names() {
            let name = name.map_err(zip_err(&path))?.into_owned();
            let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
            members.insert(key, name);
        }
        Ok(Self {
            path,
            archive,
            members,
        })
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of the arrays in the archive (member names without `.npy`), sorted.
    pub fn names(&self) -> Vec<String> {
        self.members.keys().cloned().collect()
    }

    /// `true` if the archive holds an array called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    /// Reads the array `name` (with or without the `.npy` suffix).
    pub fn read(&mut self, name: &str) -> Result<Array> {
        let key = name.strip_suffix(".npy").unwrap_or(name);
        let Some(entry) = self.members.get(key).cloned() else {
            return Err(IoError::MissingMember {
                path: self.path.clone(),
                member: key.to_string(),
                available: self.names(),
            });
        };
        let member_path = self.path.join(&entry);
        let mut file = self.archive.by_name(&entry).map_err(zip_err(&self.path))?;
        // The declared size is only a hint for the allocation: a corrupt archive cannot make
        // us reserve more than it actually yields.
        let mut bytes = Vec::with_capacity((file.size() as usize).min(1 << 30));
        file.read_to_end(&mut bytes).map_err(io_err(&member_path))?;
        npy::from_bytes(&bytes).map_err(|source| IoError::Format {
            path: member_path,
            source,
        })
    }
}

/// Whether members are deflated (`np.savez_compressed`) or stored (`np.savez`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Stored uncompressed, like `np.savez`.
    Stored,
    /// Deflated, like `np.savez_compressed`.
    #[default]
    Deflate,
}

/// Writes an `.npz` archive atomically: members go to a temporary file that replaces the
/// target only in [`finish`](Self::finish). Dropped unfinished, it leaves nothing behind.
#[derive(Debug)]
pub struct NpzWriter {
    path: PathBuf,
    zip: ZipWriter<tempfile::NamedTempFile>,
    options: SimpleFileOptions,
}

impl NpzWriter {
    /// Starts an archive that will be written to `path`.
    pub fn create(path: impl AsRef<Path>, compression: Compression) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let tmp = temp_beside(&path)?;
        let method = match compression {
            Compression::Stored => CompressionMethod::Stored,
            Compression::Deflate => CompressionMethod::Deflated,
        };
        Ok(Self {
            zip: ZipWriter::new(tmp),
            options: SimpleFileOptions::default().compression_method(method),
            path,
        })
    }

    /// Adds the array `name` (stored as `name.npy`).
    pub fn add(&mut self, name: &str, array: &Array) -> Result<()> {
        let bytes = npy::to_bytes(array)?;
        // Zip64 extensions are needed for members of 4 GiB and more.
        let options = self
            .options
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        self.zip
            .start_file(format!("{name}.npy"), options)
            .map_err(zip_err(&self.path))?;
        std::io::Write::write_all(&mut self.zip, &bytes).map_err(io_err(&self.path))
    }

    /// Completes the archive and moves it into place.
    pub fn finish(self) -> Result<()> {
        let tmp = self.zip.finish().map_err(zip_err(&self.path))?;
        persist(tmp, &self.path)
    }
}

/// Reads every array of an archive.
pub fn read_all(path: impl AsRef<Path>) -> Result<BTreeMap<String, Array>> {
    let mut r = NpzReader::open(path)?;
    let mut out = BTreeMap::new();
    for name in r.names() {
        let a = r.read(&name)?;
        out.insert(name, a);
    }
    Ok(out)
}

/// Writes `arrays` (name, array) to an archive atomically.
pub fn write_all<'a>(
    path: impl AsRef<Path>,
    arrays: impl IntoIterator<Item = (&'a str, &'a Array)>,
    compression: Compression,
) -> Result<()> {
    let mut w = NpzWriter::create(path, compression)?;
    for (name, a) in arrays {
        w.add(name, a)?;
    }
    w.finish()
}
