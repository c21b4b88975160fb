//! HDF5 files (cargo feature `hdf5`, system libhdf5): 2-D and 1-D numeric datasets, groups
//! and scalar attributes.
//!
//! HDF5 stores arrays in C order, so a dataset of shape `(N, d)` reads as the `d x N`
//! matrix with one signal per column, exactly as a C-order `.npy` does. NPEFF's files
//! (`data/W`, `data/H`, attributes such as `n_classes`) are plain groups, datasets and
//! attributes of this kind.
//!
//! HDF5's file locking is turned off for the files dictum opens. libhdf5 opens files without
//! close-on-exec, so a child process forked meanwhile (any `Command::spawn` in another thread)
//! inherits the lock and keeps it after dictum closes the file; the next open of the same file
//! then fails with "unable to lock file". Locking also fails outright on many network file
//! systems. dictum's readers only read, and its writer writes a private temporary file that is
//! renamed into place, so the locks protect nothing here.

use std::path::{Path, PathBuf};

use dictum_linalg::{Mat, MatRef, Real};
use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenUnicode};

use crate::array::{Array, ArrayData, Order};
use crate::atomic::{persist, temp_beside};
use crate::error::{IoError, Result};

fn h5_err(path: &Path) -> impl FnOnce(hdf5::Error) -> IoError + '_ {
    move |e| IoError::Hdf5 {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

pub use crate::attr::AttrValue;

/// An HDF5 file opened for reading.
#[derive(Debug)]
pub struct H5Reader {
    path: PathBuf,
    file: hdf5::File,
}

impl H5Reader {
    /// Opens `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(IoError::Io {
                path,
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .open(&path)
            .map_err(h5_err(&path))?;
        Ok(Self { path, file })
    }

    /// Full names (`group/sub/name`) of every dataset in the file, depth first, sorted.
    pub fn dataset_names(&self) -> Result<Vec<String>> {
        fn walk(g: &hdf5::Group, prefix: &str, out: &mut Vec<String>, path: &Path) -> Result<()> {
            let mut names = g.member_names().map_err(h5_err(path))?;
            names.sort();
            for name in names {
                let full = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                if let Ok(sub) = g.group(&name) {
                    walk(&sub, &full, out, path)?;
                } else if g.dataset(&name).is_ok() {
                    out.push(full);
                }
            }
            Ok(())
        }
        let mut out = Vec::new();
        walk(&self.file, "", &mut out, &self.path)?;
        Ok(out)
    }

    /// Every group and dataset that has attributes, with their names: `("/", …)` for the
    /// root, then full names depth first, sorted.
    pub fn attribute_names(&self) -> Result<Vec<(String, Vec<String>)>> {
        fn names(loc: &hdf5::Location, path: &Path) -> Result<Vec<String>> {
            let mut v = loc.attr_names().map_err(h5_err(path))?;
            v.sort();
            Ok(v)
        }
        fn walk(
            g: &hdf5::Group,
            prefix: &str,
            out: &mut Vec<(String, Vec<String>)>,
            path: &Path,
        ) -> Result<()> {
            let mut members = g.member_names().map_err(h5_err(path))?;
            members.sort();
            for name in members {
                let full = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                if let Ok(sub) = g.group(&name) {
                    let a = names(&sub, path)?;
                    if !a.is_empty() {
                        out.push((full.clone(), a));
                    }
                    walk(&sub, &full, out, path)?;
                } else if let Ok(d) = g.dataset(&name) {
                    let a = names(&d, path)?;
                    if !a.is_empty() {
                        out.push((full, a));
                    }
                }
            }
            Ok(())
        }
        let mut out = Vec::new();
        let root = names(&self.file, &self.path)?;
        if !root.is_empty() {
            out.push(("/".to_string(), root));
        }
        walk(&self.file, "", &mut out, &self.path)?;
        Ok(out)
    }

    fn dataset(&self, name: &str) -> Result<hdf5::Dataset> {
        self.file.dataset(name).map_err(|_| IoError::MissingMember {
            path: self.path.clone(),
            member: name.to_string(),
            available: self.dataset_names().unwrap_or_default(),
        })
    }

    /// Reads dataset `name` (numeric or boolean) into an [`Array`] (C order).
    pub fn read(&self, name: &str) -> Result<Array> {
        let ds = self.dataset(name)?;
        let err = h5_err(&self.path);
        let desc = ds.dtype().and_then(|t| t.to_descriptor()).map_err(err)?;
        let raw = |e| IoError::Hdf5 {
            path: self.path.join(name),
            message: format!("{e}"),
        };
        let data = match desc {
            TypeDescriptor::Float(FloatSize::U4) => ArrayData::F32(ds.read_raw().map_err(raw)?),
            TypeDescriptor::Float(FloatSize::U8) => ArrayData::F64(ds.read_raw().map_err(raw)?),
            TypeDescriptor::Integer(IntSize::U8) => ArrayData::I64(ds.read_raw().map_err(raw)?),
            TypeDescriptor::Integer(IntSize::U4) => ArrayData::I32(ds.read_raw().map_err(raw)?),
            TypeDescriptor::Integer(IntSize::U2 | IntSize::U1) => {
                ArrayData::I32(ds.read_raw().map_err(raw)?)
            }
            TypeDescriptor::Unsigned(IntSize::U1) => ArrayData::U8(ds.read_raw().map_err(raw)?),
            TypeDescriptor::Unsigned(IntSize::U2) => ArrayData::I32(ds.read_raw().map_err(raw)?),
            TypeDescriptor::Unsigned(IntSize::U4) => ArrayData::I64(ds.read_raw().map_err(raw)?),
            TypeDescriptor::Boolean => ArrayData::Bool(ds.read_raw().map_err(raw)?),
            other => {
                return Err(IoError::Hdf5 {
                    path: self.path.join(name),
                    message: format!(
                        "unsupported datatype {other}; dictum reads integer, float and boolean datasets"
                    ),
                });
            }
        };
        Ok(Array {
            shape: ds.shape(),
            order: Order::C,
            data,
        })
    }

    /// Reads dataset `name` as a `d x N` matrix (a `(N, d)` dataset, one sample per row, is
    /// `d x N`), converting the element type.
    pub fn read_matrix<T: Real>(&self, name: &str) -> Result<Mat<T>> {
        let a = self.read(name)?;
        a.to_mat::<T>().ok_or_else(|| IoError::Shape {
            path: self.path.join(name),
            shape: a.shape.clone(),
            problem: "is not a numeric matrix (1-D or 2-D)".into(),
        })
    }

    /// Reads scalar attribute `attr` of the group or dataset `object` (`"/"` for the root).
    pub fn attr(&self, object: &str, attr: &str) -> Result<AttrValue> {
        let p = self.path.join(object);
        let err = |e: hdf5::Error| IoError::Hdf5 {
            path: p.clone(),
            message: format!("attribute '{attr}': {e}"),
        };
        let a = match self.file.group(object) {
            Ok(g) => g.attr(attr),
            Err(_) => self.file.dataset(object).and_then(|d| d.attr(attr)),
        }
        .map_err(err)?;
        let desc = a.dtype().and_then(|t| t.to_descriptor()).map_err(err)?;
        let is_array = !a.shape().is_empty();
        Ok(match desc {
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) if is_array => {
                AttrValue::I64Array(a.read_raw::<i64>().map_err(err)?)
            }
            TypeDescriptor::Float(_) if is_array => {
                AttrValue::F64Array(a.read_raw::<f64>().map_err(err)?)
            }
            TypeDescriptor::Float(_) => AttrValue::F64(a.read_scalar::<f64>().map_err(err)?),
            TypeDescriptor::Integer(IntSize::U4) => {
                AttrValue::I32(a.read_scalar::<i32>().map_err(err)?)
            }
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
                AttrValue::I64(a.read_scalar::<i64>().map_err(err)?)
            }
            TypeDescriptor::VarLenUnicode | TypeDescriptor::VarLenAscii => {
                AttrValue::Str(a.read_scalar::<VarLenUnicode>().map_err(err)?.to_string())
            }
            other => {
                return Err(IoError::Hdf5 {
                    path: p,
                    message: format!("attribute '{attr}' has unsupported type {other}"),
                });
            }
        })
    }
}

/// Writes an HDF5 file atomically: everything goes to a temporary file that replaces the
/// target in [`finish`](Self::finish).
#[derive(Debug)]
pub struct H5Writer {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    file: hdf5::File,
}

impl H5Writer {
    /// Starts a new file to be written at `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let tmp = temp_beside(&path)?;
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .create(tmp.path())
            .map_err(h5_err(&path))?;
        Ok(Self { path, tmp, file })
    }

    /// The group holding `name`'s parent, created (with its ancestors) if missing.
    fn parent_group(&self, name: &str) -> Result<(hdf5::Group, String)> {
        let mut parts: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
        let leaf = parts.pop().unwrap_or_default().to_string();
        let mut g: hdf5::Group = (*self.file).clone();
        for p in parts {
            g = match g.group(p) {
                Ok(sub) => sub,
                Err(_) => g.create_group(p).map_err(h5_err(&self.path))?,
            };
        }
        Ok((g, leaf))
    }

    /// Creates group `name` (and its ancestors) if it does not exist.
    pub fn group(&self, name: &str) -> Result<()> {
        let (g, leaf) = self.parent_group(name)?;
        if !leaf.is_empty() && g.group(&leaf).is_err() {
            g.create_group(&leaf).map_err(h5_err(&self.path))?;
        }
        Ok(())
    }

    /// Creates group `name` unless a dataset or group of that name exists (so that attributes
    /// can be set on it).
    pub fn group_or_dataset(&self, name: &str) -> Result<()> {
        if name == "/" || self.file.dataset(name).is_ok() {
            return Ok(());
        }
        self.group(name)
    }

    /// Writes `array` as dataset `name` (intermediate groups are created). Fortran-order
    /// arrays are stored with their shape reversed (HDF5 is C order), which keeps the bytes.
    pub fn write(&self, name: &str, array: &Array) -> Result<()> {
        let (g, leaf) = self.parent_group(name)?;
        let mut shape = array.shape.clone();
        if array.order == Order::Fortran {
            shape.reverse();
        }
        let err = h5_err(&self.path);
        macro_rules! put {
            ($t:ty, $v:expr) => {{
                let ds = g
                    .new_dataset::<$t>()
                    .shape(shape)
                    .create(leaf.as_str())
                    .map_err(err)?;
                ds.write_raw($v.as_slice()).map_err(h5_err(&self.path))
            }};
        }
        match &array.data {
            ArrayData::F32(v) => put!(f32, v),
            ArrayData::F64(v) => put!(f64, v),
            ArrayData::I64(v) => put!(i64, v),
            ArrayData::I32(v) => put!(i32, v),
            ArrayData::U8(v) => put!(u8, v),
            ArrayData::Bool(v) => put!(bool, v),
            ArrayData::Bytes { .. } | ArrayData::Unicode { .. } => Err(IoError::Hdf5 {
                path: self.path.join(name),
                message: "string datasets are not supported; store strings as attributes".into(),
            }),
        }
    }

    /// Writes the `d x N` matrix `m` as dataset `name` of shape `(N, d)` (one sample per
    /// row, HDF5's C order), which [`H5Reader::read_matrix`] reads back as `d x N`.
    pub fn write_matrix<T: Real>(&self, name: &str, m: MatRef<'_, T>) -> Result<()> {
        self.write(name, &Array::from_mat_samples_as_rows(m))
    }

    /// Sets scalar attribute `attr` on the group or dataset `object` (`"/"` for the root).
    pub fn set_attr(&self, object: &str, attr: &str, value: &AttrValue) -> Result<()> {
        let loc: hdf5::Location = match self.file.group(object) {
            Ok(g) => (*g).clone(),
            Err(_) => {
                let d = self.file.dataset(object).map_err(h5_err(&self.path))?;
                (**d).clone()
            }
        };
        let err = h5_err(&self.path);
        match value {
            AttrValue::F64(v) => loc
                .new_attr::<f64>()
                .create(attr)
                .and_then(|a| a.write_scalar(v)),
            AttrValue::I64(v) => loc
                .new_attr::<i64>()
                .create(attr)
                .and_then(|a| a.write_scalar(v)),
            AttrValue::I32(v) => loc
                .new_attr::<i32>()
                .create(attr)
                .and_then(|a| a.write_scalar(v)),
            AttrValue::I64Array(v) => loc
                .new_attr::<i64>()
                .shape(v.len())
                .create(attr)
                .and_then(|a| a.write_raw(v)),
            AttrValue::F64Array(v) => loc
                .new_attr::<f64>()
                .shape(v.len())
                .create(attr)
                .and_then(|a| a.write_raw(v)),
            AttrValue::Str(s) => {
                let v: VarLenUnicode = s.parse().map_err(|e| IoError::Hdf5 {
                    path: self.path.clone(),
                    message: format!("attribute '{attr}': {e}"),
                })?;
                loc.new_attr::<VarLenUnicode>()
                    .create(attr)
                    .and_then(|a| a.write_scalar(&v))
            }
        }
        .map_err(err)
    }

    /// Closes the file and moves it into place.
    pub fn finish(self) -> Result<()> {
        self.file.close().map_err(h5_err(&self.path))?;
        persist(self.tmp, &self.path)
    }
}
