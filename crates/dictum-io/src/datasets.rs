//! Small real datasets compiled into the library, like scikit-learn's `load_digits`.
//!
//! | name | shape (as NumPy shows it) | what |
//! |---|---|---|
//! | `digits` | 1797 x 64 f32 | handwritten digits, 8x8 pixels in \[0, 1\] (UCI optdigits test set) |
//! | `digits-target` | 1797 i64 | their labels 0..9 |
//! | `china`, `flower` | 427 x 640 f32 | grayscale photographs in \[0, 1\] |
//! | `china-small`, `flower-small` | 213 x 320 f32 | the same, 2x2 block means |
//! | `flower-small-noisy20` | 213 x 320 f32 | `flower-small` plus Gaussian noise σ = 20/255 (denoising demo) |
//! | `patches8-train` | 20000 x 64 f32 | random 8x8 patches of `china` |
//! | `patches8-test` | 5000 x 64 f32 | random 8x8 patches of `flower` |
//!
//! Sources and licences are in `crates/dictum-io/data/README.md`: the digits are CC BY 4.0
//! (UCI), the photographs CC BY 2.0 (Flickr users danielbuechele and vultilion) — attribute
//! them if you redistribute images. Patches and digits are flattened row-major (element `k`
//! is pixel `(k / 8, k % 8)`).
//!
//! As everywhere in dictum, an `N x d` sample table is the `d x N` matrix with one signal per
//! column:
//!
//! ```
//! let digits = dictum_io::datasets::load_digits()?;
//! assert_eq!((digits.images.nrows(), digits.images.ncols()), (64, 1797));
//! assert_eq!(digits.target.len(), 1797);
//! # Ok::<(), dictum_io::IoError>(())
//! ```

use std::io::Read;
use std::path::PathBuf;

use dictum_linalg::Mat;

use crate::array::{Array, ArrayData, Order};
use crate::error::{IoError, Result};
use crate::npy;

macro_rules! bundled {
    ($file:literal) => {
        (
            $file,
            include_bytes!(concat!("../data/", $file, ".npy.gz")).as_slice(),
        )
    };
}

const DIGITS_X: (&str, &[u8]) = bundled!("digits_X");
const DIGITS_Y: (&str, &[u8]) = bundled!("digits_y");
const CHINA: (&str, &[u8]) = bundled!("china_gray");
const FLOWER: (&str, &[u8]) = bundled!("flower_gray");
const CHINA_SMALL: (&str, &[u8]) = bundled!("china_gray_small");
const FLOWER_SMALL: (&str, &[u8]) = bundled!("flower_gray_small");
const FLOWER_NOISY: (&str, &[u8]) = bundled!("flower_gray_small_noisy20");
const TRAIN_CORNERS: (&str, &[u8]) = bundled!("patches8_train_corners");
const TEST_CORNERS: (&str, &[u8]) = bundled!("patches8_test_corners");

/// A bundled dataset's name and one-line description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetInfo {
    /// Name accepted by [`load`] and by `dictum inspect`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
}

/// Every bundled dataset.
pub const DATASETS: &[DatasetInfo] = &[
    DatasetInfo {
        name: "digits",
        description: "1797 handwritten digits, 8x8 pixels in [0,1] (UCI optdigits, CC BY 4.0)",
    },
    DatasetInfo {
        name: "digits-target",
        description: "labels 0..9 of the digits",
    },
    DatasetInfo {
        name: "china",
        description: "427x640 grayscale photograph (china.jpg, CC BY 2.0)",
    },
    DatasetInfo {
        name: "flower",
        description: "427x640 grayscale photograph (flower.jpg, CC BY 2.0)",
    },
    DatasetInfo {
        name: "china-small",
        description: "213x320 china, 2x2 block means",
    },
    DatasetInfo {
        name: "flower-small",
        description: "213x320 flower, 2x2 block means",
    },
    DatasetInfo {
        name: "flower-small-noisy20",
        description: "flower-small + Gaussian noise sigma=20/255, seed 2 (denoising)",
    },
    DatasetInfo {
        name: "patches8-train",
        description: "20000 random 8x8 patches of china (seed 0)",
    },
    DatasetInfo {
        name: "patches8-test",
        description: "5000 random 8x8 patches of flower (seed 1)",
    },
];

fn decode((name, gz): (&str, &[u8])) -> Result<Array> {
    let path = PathBuf::from(format!("<bundled>/{name}.npy.gz"));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut bytes)
        .map_err(|source| IoError::Io {
            path: path.clone(),
            source,
        })?;
    npy::from_bytes(&bytes).map_err(|source| IoError::Format { path, source })
}

/// Loads a bundled dataset by name as the array NumPy would show (`digits` is 1797 x 64,
/// C order). See [`DATASETS`] for the names.
pub fn load(name: &str) -> Result<Array> {
    match name {
        "digits" => decode(DIGITS_X),
        "digits-target" => decode(DIGITS_Y),
        "china" => decode(CHINA),
        "flower" => decode(FLOWER),
        "china-small" => decode(CHINA_SMALL),
        "flower-small" => decode(FLOWER_SMALL),
        "flower-small-noisy20" => decode(FLOWER_NOISY),
        "patches8-train" => patches(CHINA, TRAIN_CORNERS),
        "patches8-test" => patches(FLOWER, TEST_CORNERS),
        _ => Err(IoError::UnknownDataset {
            name: name.to_string(),
            available: DATASETS.iter().map(|d| d.name.to_string()).collect(),
        }),
    }
}

fn patches(image: (&str, &[u8]), corners: (&str, &[u8])) -> Result<Array> {
    const P: usize = 8;
    let img = decode(image)?;
    let (ArrayData::F32(pixels), &[_, w]) = (&img.data, &img.shape[..]) else {
        return Err(bundle_corrupt(image.0));
    };
    let table = decode(corners)?;
    let Some(rc) = table.data.to_i64_vec() else {
        return Err(bundle_corrupt(corners.0));
    };
    let n = rc.len() / 2;
    let mut out = Vec::with_capacity(n * P * P);
    for k in 0..n {
        let (r, c) = (rc[2 * k] as usize, rc[2 * k + 1] as usize);
        for i in 0..P {
            let row = (r + i) * w + c;
            out.extend_from_slice(&pixels[row..row + P]);
        }
    }
    Ok(Array {
        shape: vec![n, P * P],
        order: Order::C,
        data: ArrayData::F32(out),
    })
}

fn bundle_corrupt(name: &str) -> IoError {
    IoError::Shape {
        path: PathBuf::from(format!("<bundled>/{name}.npy.gz")),
        shape: vec![],
        problem: "does not have the expected layout (corrupt build?)".into(),
    }
}

fn matrix(name: &str) -> Result<Mat<f32>> {
    let a = load(name)?;
    a.to_mat::<f32>().ok_or_else(|| bundle_corrupt(name))
}

/// The digits: `images` is `64 x 1797` (one 8x8 digit per column, row-major pixels in
/// \[0, 1\]), `target` the labels 0..9.
#[derive(Debug, Clone)]
pub struct Digits {
    /// `64 x 1797`, one digit per column.
    pub images: Mat<f32>,
    /// Label of each column.
    pub target: Vec<i64>,
}

/// Loads the handwritten digits (like scikit-learn's `load_digits`).
pub fn load_digits() -> Result<Digits> {
    let target = load("digits-target")?
        .data
        .to_i64_vec()
        .ok_or_else(|| bundle_corrupt("digits_y"))?;
    Ok(Digits {
        images: matrix("digits")?,
        target,
    })
}

/// Which 8x8 patch set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchSet {
    /// 20000 patches of the `china` photograph.
    Train,
    /// 5000 patches of the `flower` photograph (different statistics: a generalisation test).
    Test,
}

/// Random 8x8 patches as a `64 x N` matrix (one patch per column, row-major pixels).
pub fn load_patches8(set: PatchSet) -> Result<Mat<f32>> {
    matrix(match set {
        PatchSet::Train => "patches8-train",
        PatchSet::Test => "patches8-test",
    })
}

/// A grayscale image, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `height * width` values in \[0, 1\] (the noisy image exceeds that range), row-major.
    pub pixels: Vec<f32>,
}

impl GrayImage {
    /// The pixel at row `r`, column `c`.
    pub fn get(&self, r: usize, c: usize) -> Option<f32> {
        (r < self.height && c < self.width).then(|| self.pixels[r * self.width + c])
    }
}

/// Loads a bundled image by name: `china`, `flower`, `china-small`, `flower-small` or
/// `flower-small-noisy20`.
pub fn load_image(name: &str) -> Result<GrayImage> {
    if !matches!(
        name,
        "china" | "flower" | "china-small" | "flower-small" | "flower-small-noisy20"
    ) {
        return Err(IoError::UnknownDataset {
            name: name.to_string(),
            available: [
                "china",
                "flower",
                "china-small",
                "flower-small",
                "flower-small-noisy20",
            ]
            .map(String::from)
            .to_vec(),
        });
    }
    let a = load(name)?;
    match (a.data, &a.shape[..]) {
        (ArrayData::F32(pixels), &[height, width]) => Ok(GrayImage {
            height,
            width,
            pixels,
        }),
        _ => Err(bundle_corrupt(name)),
    }
}
