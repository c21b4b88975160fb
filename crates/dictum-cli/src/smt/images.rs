//! Loading image sets for `dictum smt` (`--images`, `--shape`) and splitting them.

use std::path::{Path, PathBuf};

use clap::Args;

use dictum::Mat;
use dictum::io::npy;

use crate::error::{CliError, Result};

/// Images from a file or the bundled digits.
#[derive(Debug, Args)]
pub(crate) struct ImagesArgs {
    /// Images: .npy of N x H x W, or N x (H·W) with --shape (C order, as numpy writes it).
    #[arg(long, conflicts_with = "data")]
    images: Option<PathBuf>,
    /// A bundled dataset instead (`digits`, 8x8).
    #[arg(long)]
    data: Option<String>,
    /// Image shape HxW (needed for N x (H·W) files).
    #[arg(long)]
    shape: Option<String>,
    /// With --data: use only this seeded share of the images (the training part of
    /// `smt knn --data … --split` with the same --split-seed).
    #[arg(long)]
    split: Option<f64>,
    /// Seed of --split.
    #[arg(long, default_value_t = 7)]
    split_seed: u64,
}

/// A set of `height x width` images, one per column, with their labels when known.
pub(super) struct Images {
    /// `pixels x N`.
    pub(super) x: Mat<f32>,
    pub(super) height: usize,
    pub(super) width: usize,
    pub(super) labels: Option<Vec<usize>>,
}

pub(super) fn bad(flag: &'static str, value: String, hint: &'static str) -> CliError {
    CliError::usage(flag, value, hint)
}

/// `HxW` (e.g. `28x28`) as `(height, width)`; `None` when it is not that.
pub(crate) fn image_shape(s: &str) -> Option<(usize, usize)> {
    s.split_once('x')
        .and_then(|(h, w)| Some((h.parse().ok()?, w.parse().ok()?)))
}

fn parse_shape(s: &str) -> Result<(usize, usize)> {
    image_shape(s).ok_or_else(|| bad("shape", s.into(), "HEIGHTxWIDTH, e.g. 28x28"))
}

impl ImagesArgs {
    /// All images of the bundled dataset `name`.
    pub(super) fn bundled(name: &str, split_seed: u64) -> Self {
        Self {
            images: None,
            data: Some(name.to_string()),
            shape: None,
            split: None,
            split_seed,
        }
    }

    pub(super) fn load(&self) -> Result<Images> {
        if let Some(name) = &self.data {
            if name != "digits" {
                return Err(bad(
                    "data",
                    name.clone(),
                    "the bundled image set is `digits`",
                ));
            }
            let d = dictum::datasets::load_digits()?;
            let all = Images {
                x: d.images,
                height: 8,
                width: 8,
                labels: Some(d.target.iter().map(|&t| t.max(0) as usize).collect()),
            };
            return Ok(match self.split {
                Some(share) => split(&all, share, self.split_seed).0,
                None => all,
            });
        }
        let path = self.images.as_ref().ok_or_else(|| {
            bad(
                "images",
                "none".into(),
                "pass --images X.npy or --data digits",
            )
        })?;
        load_images(path, self.shape.as_deref())
    }
}

/// A seeded split of labelled images into (first `share`, rest).
pub(super) fn split(all: &Images, share: f64, seed: u64) -> (Images, Images) {
    let n = all.x.ncols();
    let mut order: Vec<usize> = (0..n).collect();
    dictum::learn::rng::Rng::new(seed).shuffle(&mut order);
    let cut = ((n as f64) * share.clamp(0.0, 1.0)).round() as usize;
    let labels = all.labels.clone().unwrap_or_default();
    let part = |idx: &[usize]| Images {
        x: Mat::<f32>::from_fn(all.x.nrows(), idx.len(), |i, j| all.x[(i, idx[j])]),
        height: all.height,
        width: all.width,
        labels: Some(
            idx.iter()
                .map(|&i| labels.get(i).copied().unwrap_or(0))
                .collect(),
        ),
    };
    (part(&order[..cut]), part(&order[cut..]))
}

pub(super) fn load_images(path: &Path, shape: Option<&str>) -> Result<Images> {
    let a = npy::read(path)?;
    let data = a
        .data
        .to_real_vec::<f32>()
        .ok_or_else(|| bad("images", path.display().to_string(), "a numeric .npy"))?;
    let (n, h, w) = match (a.shape.as_slice(), shape) {
        ([n, h, w], _) => (*n, *h, *w),
        ([n, _], Some(s)) => {
            let (h, w) = parse_shape(s)?;
            (*n, h, w)
        }
        ([_, _], None) => {
            return Err(bad(
                "shape",
                "missing".into(),
                "an N x (H·W) file needs --shape HxW",
            ));
        }
        (s, _) => {
            return Err(bad(
                "images",
                format!("shape {s:?}"),
                "N x H x W or N x (H·W)",
            ));
        }
    };
    if a.order != dictum::io::Order::C || h * w * n != data.len() {
        return Err(bad(
            "images",
            format!("shape {:?}", a.shape),
            "C-order images whose size matches --shape",
        ));
    }
    // C-order N x (H·W) is the column-major (H·W) x N matrix: same bytes.
    let x = dictum::MatRef::from_column_major_slice(&data, h * w, n).to_owned();
    Ok(Images {
        x,
        height: h,
        width: w,
        labels: None,
    })
}
