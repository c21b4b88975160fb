//! [`Record`]: named arrays and attributes, the shape of an HDF5 file, saved as HDF5 (feature
//! `hdf5`) or, with the same names, as `.npz`.
//!
//! File layouts made of groups, datasets and attributes (NPEFF's layouts, module `npeff`) are
//! written once against a `Record` and land in either container, chosen by the path's
//! extension: `.h5`/`.hdf5` is HDF5, anything else `.npz`. In an `.npz`, dataset
//! `data/fisher/values` is the member of that name, and attribute `dense_fisher_size` of
//! object `data/fisher` is the 0-d (or 1-d) member `data/fisher@dense_fisher_size`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::array::Array;
pub use crate::attr::AttrValue;
use crate::error::{IoError, Result};
use crate::npz::{self, Compression};

/// Named datasets (`group/sub/name`) and attributes of named objects: the content of an HDF5
/// file, independent of the container it is saved in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// Datasets by full name.
    pub datasets: BTreeMap<String, Array>,
    /// Attributes: object name (a group or dataset) → attribute name → value.
    pub attrs: BTreeMap<String, BTreeMap<String, AttrValue>>,
    /// Where the record was read from (for error messages); empty for a new record.
    pub source: PathBuf,
}

/// The container a path's extension selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `.h5` / `.hdf5`.
    Hdf5,
    /// Anything else: `.npz`.
    Npz,
}

impl Container {
    /// The container for `path`: HDF5 for `.h5`/`.hdf5`, `.npz` otherwise.
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("h5") || e.eq_ignore_ascii_case("hdf5") => {
                Container::Hdf5
            }
            _ => Container::Npz,
        }
    }
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds dataset `name`.
    pub fn put(&mut self, name: &str, array: Array) {
        self.datasets.insert(name.to_string(), array);
    }

    /// Sets attribute `attr` of object `object`.
    pub fn set_attr(&mut self, object: &str, attr: &str, value: AttrValue) {
        self.attrs
            .entry(object.to_string())
            .or_default()
            .insert(attr.to_string(), value);
    }

    /// Whether dataset `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.datasets.contains_key(name)
    }

    /// Dataset `name`, or a [`IoError::Layout`] error naming what the file holds.
    pub fn get(&self, name: &str) -> Result<&Array> {
        self.datasets.get(name).ok_or_else(|| IoError::Layout {
            path: self.source.clone(),
            problem: format!(
                "no dataset '{name}' (the file holds: {})",
                self.datasets.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// Attribute `attr` of `object`, or a [`IoError::Layout`] error.
    pub fn attr(&self, object: &str, attr: &str) -> Result<&AttrValue> {
        self.attrs
            .get(object)
            .and_then(|a| a.get(attr))
            .ok_or_else(|| IoError::Layout {
                path: self.source.clone(),
                problem: format!("no attribute '{attr}' on '{object}'"),
            })
    }

    /// Integer attribute `attr` of `object`.
    pub fn attr_i64(&self, object: &str, attr: &str) -> Result<i64> {
        let v = self.attr(object, attr)?;
        v.as_i64().ok_or_else(|| IoError::Layout {
            path: self.source.clone(),
            problem: format!("attribute '{attr}' on '{object}' is {v:?}, not an integer"),
        })
    }

    /// Saves the record atomically at `path`, as HDF5 for `.h5`/`.hdf5` and `.npz` otherwise.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        match Container::of(path) {
            Container::Hdf5 => self.save_hdf5(path),
            Container::Npz => {
                let attrs: Vec<(String, Array)> = self
                    .attrs
                    .iter()
                    .flat_map(|(obj, a)| {
                        a.iter()
                            .map(move |(name, v)| (format!("{obj}@{name}"), v.to_array()))
                    })
                    .collect();
                let members = self
                    .datasets
                    .iter()
                    .map(|(k, v)| (k.as_str(), v))
                    .chain(attrs.iter().map(|(k, v)| (k.as_str(), v)));
                npz::write_all(path, members, Compression::Stored)
            }
        }
    }

    /// Reads a record saved by [`save`](Self::save) (or any HDF5 file of numeric datasets
    /// and attributes, or any `.npz`).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut rec = match Container::of(path) {
            Container::Hdf5 => Self::load_hdf5(path)?,
            Container::Npz => {
                let mut rec = Record::new();
                for (name, array) in npz::read_all(path)? {
                    match name.split_once('@') {
                        Some((obj, attr)) => {
                            if let Some(v) = AttrValue::from_array(&array) {
                                rec.set_attr(obj, attr, v);
                            }
                        }
                        None => rec.put(&name, array),
                    }
                }
                rec
            }
        };
        rec.source = path.to_path_buf();
        Ok(rec)
    }

    #[cfg(feature = "hdf5")]
    fn save_hdf5(&self, path: &Path) -> Result<()> {
        let w = crate::hdf5::H5Writer::create(path)?;
        for (name, array) in &self.datasets {
            w.write(name, array)?;
        }
        for (obj, attrs) in &self.attrs {
            w.group_or_dataset(obj)?;
            for (name, v) in attrs {
                w.set_attr(obj, name, v)?;
            }
        }
        w.finish()
    }

    #[cfg(not(feature = "hdf5"))]
    fn save_hdf5(&self, path: &Path) -> Result<()> {
        Err(IoError::Hdf5Disabled {
            path: path.to_path_buf(),
        })
    }

    #[cfg(feature = "hdf5")]
    fn load_hdf5(path: &Path) -> Result<Self> {
        let r = crate::hdf5::H5Reader::open(path)?;
        let mut rec = Record::new();
        for name in r.dataset_names()? {
            let a = r.read(&name)?;
            rec.put(&name, a);
        }
        for (obj, names) in r.attribute_names()? {
            for name in names {
                // Attributes of types dictum does not model (compound, references) are
                // skipped: no layout needs them.
                if let Ok(v) = r.attr(&obj, &name) {
                    rec.set_attr(&obj, &name, v);
                }
            }
        }
        Ok(rec)
    }

    #[cfg(not(feature = "hdf5"))]
    fn load_hdf5(path: &Path) -> Result<Self> {
        Err(IoError::Hdf5Disabled {
            path: path.to_path_buf(),
        })
    }
}
