//! `dictum inspect`: what is in an array file.

use std::path::Path;

use dictum::io::array::matrix_shape;
use dictum::io::npy::MappedNpy;
use dictum::io::npz::NpzReader;
use dictum::io::{Array, ArrayStats, DType, IoError, Order};

/// Describes `target`: a bundled dataset name, or a `.npy`, `.npz` or `.h5` file.
pub(crate) fn inspect(target: &str, member: Option<&str>) -> crate::error::Result<()> {
    let path = Path::new(target);
    if !path.exists() && dictum::datasets::DATASETS.iter().any(|d| d.name == target) {
        let a = dictum::datasets::load(target)?;
        report_array(&format!("{target} (bundled dataset)"), &a);
        return Ok(());
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("npy") => {
            let f = MappedNpy::open(path)?;
            // Statistics straight from the mapped file: no copy of a large f32/f64 array.
            let s = match f.dtype() {
                DType::F32 => Some(ArrayStats::from_values(
                    f.as_slice::<f32>()?.iter().map(|&x| f64::from(x)),
                )),
                DType::F64 => Some(ArrayStats::from_values(
                    f.as_slice::<f64>()?.iter().copied(),
                )),
                _ => ArrayStats::of(&f.to_array()?.data),
            };
            report(target, f.shape(), f.order(), f.dtype(), s);
        }
        Some("npz") => {
            let mut npz = NpzReader::open(path)?;
            let names = match member {
                Some(m) => vec![m.to_string()],
                None => npz.names(),
            };
            println!("{target}: npz archive with {} arrays", npz.names().len());
            for name in names {
                let a = npz.read(&name)?;
                report_array(&format!("{target}/{name}"), &a);
            }
        }
        Some("h5" | "hdf5" | "he5") => inspect_h5(path, target, member)?,
        _ => {
            if !path.exists() {
                return Err(IoError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file, and not a bundled dataset (see `dictum datasets`)",
                    ),
                }
                .into());
            }
            return Err(IoError::UnknownFormat {
                path: path.to_path_buf(),
            }
            .into());
        }
    }
    Ok(())
}

#[cfg(feature = "hdf5")]
fn inspect_h5(path: &Path, target: &str, member: Option<&str>) -> Result<(), dictum::Error> {
    let r = dictum::io::hdf5::H5Reader::open(path)?;
    let names = match member {
        Some(m) => vec![m.to_string()],
        None => r.dataset_names()?,
    };
    println!(
        "{target}: HDF5 file with {} datasets",
        r.dataset_names()?.len()
    );
    for name in names {
        let a = r.read(&name)?;
        report_array(&format!("{target}/{name}"), &a);
    }
    Ok(())
}

#[cfg(not(feature = "hdf5"))]
fn inspect_h5(path: &Path, _target: &str, _member: Option<&str>) -> Result<(), dictum::Error> {
    Err(IoError::Hdf5 {
        path: path.to_path_buf(),
        message: "this dictum was built without HDF5 support; rebuild with \
                  `cargo build -p dictum-cli --features hdf5` (needs libhdf5-dev)"
            .into(),
    }
    .into())
}

fn report_array(name: &str, a: &Array) {
    report(name, &a.shape, a.order, a.dtype(), ArrayStats::of(&a.data));
}

fn report(name: &str, shape: &[usize], order: Order, dtype: DType, stats: Option<ArrayStats>) {
    let dims = if shape.is_empty() {
        "scalar".to_string()
    } else {
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" x ")
    };
    let order_name = match order {
        Order::C => "C",
        Order::Fortran => "Fortran",
    };
    println!("{name}");
    println!("  shape  {dims} ({order_name} order)");
    match matrix_shape(shape, order) {
        Some((d, n)) if shape.len() == 2 => {
            println!("  matrix {d} x {n} as dictum reads it ({n} signals of dimension {d})")
        }
        Some((d, n)) => println!("  matrix {d} x {n} as dictum reads it"),
        None => {}
    }
    println!("  dtype  {dtype}");
    match stats {
        Some(s) => println!(
            "  min {}  max {}  mean {}  NaN {}  Inf {}",
            fmt(s.min),
            fmt(s.max),
            fmt(s.mean),
            s.nan_count,
            s.inf_count
        ),
        None => println!("  (strings: no statistics)"),
    }
}

fn fmt(x: f64) -> String {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.6}")
    }
}
