//! Where NPEFF's commands get their examples, and the errors they share.

use std::path::{Path, PathBuf};

use clap::Args;
use dictum::Mat;
use dictum::io::npy;

use crate::error::{CliError, Result};

/// Where examples come from.
#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    /// A bundled dataset (`digits`), instead of --inputs/--labels.
    #[arg(long, conflicts_with = "inputs")]
    data: Option<String>,
    /// Inputs, a .npy of examples x features (C order, as numpy writes it).
    #[arg(long, requires = "labels")]
    inputs: Option<PathBuf>,
    /// Integer labels, a .npy of length examples.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Height x width of each input as an image (for collages), e.g. 8x8; digits are 8x8.
    #[arg(long)]
    image_shape: Option<String>,
}

pub(crate) struct Examples {
    /// `inputs x N`.
    pub(crate) x: Mat<f64>,
    pub(crate) labels: Vec<usize>,
    pub(crate) image: Option<(usize, usize)>,
}

impl DataArgs {
    pub(crate) fn load(&self) -> Result<Examples> {
        let bad = |value: String, hint: &'static str| CliError::usage("data", value, hint);
        let mut ex = match (&self.data, &self.inputs) {
            (Some(name), _) if name == "digits" => {
                let d = dictum::datasets::load_digits()?;
                Examples {
                    x: Mat::from_fn(d.images.nrows(), d.images.ncols(), |i, j| {
                        f64::from(d.images[(i, j)])
                    }),
                    labels: d.target.iter().map(|&t| t.max(0) as usize).collect(),
                    image: Some((8, 8)),
                }
            }
            (Some(name), _) => {
                return Err(bad(
                    name.clone(),
                    "the bundled dataset for NPEFF is `digits`; or pass --inputs and --labels",
                ));
            }
            (None, Some(inputs)) => {
                let x = npy::read(inputs)?.to_mat::<f64>().ok_or_else(|| {
                    bad(
                        inputs.display().to_string(),
                        "inputs must be a 2-D numeric .npy",
                    )
                })?;
                let labels_path = self.labels.as_ref().ok_or_else(|| {
                    bad(
                        "no --labels".into(),
                        "--inputs needs --labels (a .npy of class indices)",
                    )
                })?;
                let labels = npy::read(labels_path)?.data.to_i64_vec().ok_or_else(|| {
                    bad(labels_path.display().to_string(), "labels must be integers")
                })?;
                if labels.iter().any(|&l| l < 0) {
                    return Err(bad(
                        labels_path.display().to_string(),
                        "labels must be class indices ≥ 0",
                    ));
                }
                Examples {
                    x,
                    labels: labels.iter().map(|&l| l as usize).collect(),
                    image: None,
                }
            }
            (None, None) => {
                return Err(bad(
                    "nothing".into(),
                    "pass --data digits, or --inputs X.npy --labels y.npy",
                ));
            }
        };
        if let Some(s) = &self.image_shape {
            ex.image =
                Some(crate::smt::image_shape(s).ok_or_else(|| {
                    bad(s.to_string(), "an image shape is HEIGHTxWIDTH, e.g. 8x8")
                })?);
        }
        Ok(ex)
    }
}

pub(crate) fn first_n(ex: Examples, n: Option<usize>) -> Examples {
    match n {
        Some(n) if n < ex.labels.len() => Examples {
            x: ex.x.as_ref().subcols(0, n).to_owned(),
            labels: ex.labels[..n].to_vec(),
            image: ex.image,
        },
        _ => ex,
    }
}

pub(crate) fn wrong_kind(path: &Path, want: &str) -> CliError {
    dictum::io::IoError::Layout {
        path: path.to_path_buf(),
        problem: format!("this command needs {want}"),
    }
    .into()
}
