//! The coders `--method` (encode) and `--coder` (learn) name, and the flags that set them:
//! the command line's vocabulary for `dictum-coding`'s [`Method`].

use dictum::coding::{Fista, Lars, MatchingPursuit, Method, Omp, OmpVariant, Selection, Threshold};

use crate::error::{CliError, Result};

/// A sparse coder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CoderArg {
    /// Matching Pursuit.
    Mp,
    /// OMP, the textbook implementation (residual formed at every step).
    Omp,
    /// Batch-OMP (Gram matrix, progressive Cholesky): fast OMP.
    BatchOmp,
    /// Order-recursive MP (SPAMS' omp), textbook implementation.
    Ormp,
    /// Batch-ORMP.
    BatchOrmp,
    /// LARS-LASSO / elastic net (needs --lambda).
    // scikit-learn's `transform_algorithm` spells it `lasso_lars`.
    #[value(alias = "lasso", alias = "lasso-lars", alias = "lasso_lars")]
    Lars,
    /// FISTA for LASSO / elastic net (needs --lambda).
    Fista,
    /// ISTA (needs --lambda).
    Ista,
    /// Hard thresholding: top --k, or within --threshold of the best.
    Threshold,
    /// Soft thresholding by --lambda.
    SoftThreshold,
}

/// The knobs the coders share; each coder uses those it knows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CoderFlags {
    /// `--k`: non-zeros per signal.
    pub(crate) k: Option<usize>,
    /// `--tol`: squared residual norm at which OMP/MP stop.
    pub(crate) tol: Option<f64>,
    /// `--lambda`: ℓ1 weight.
    pub(crate) lambda: Option<f64>,
    /// `--lambda2`: elastic-net ridge weight.
    pub(crate) lambda2: Option<f64>,
    /// `--nonneg`.
    pub(crate) positive: bool,
    /// `--threshold`: relative threshold τ.
    pub(crate) threshold: Option<f64>,
}

impl CoderArg {
    /// The coder these flags describe (checked by the library when it is used).
    pub(crate) fn method(self, f: &CoderFlags) -> Result<Method> {
        let lambda = || {
            f.lambda.ok_or(CliError::usage(
                "lambda",
                "unset",
                "this coder needs the l1 weight; pass --lambda",
            ))
        };
        Ok(match self {
            CoderArg::Omp | CoderArg::BatchOmp | CoderArg::Ormp | CoderArg::BatchOrmp => {
                let variant = match self {
                    CoderArg::BatchOmp | CoderArg::BatchOrmp => OmpVariant::Batch,
                    _ => OmpVariant::Reference,
                };
                let selection = match self {
                    CoderArg::Ormp | CoderArg::BatchOrmp => Selection::Ormp,
                    _ => Selection::Omp,
                };
                let mut o = Omp::new()
                    .variant(variant)
                    .selection(selection)
                    .positive(f.positive);
                if let Some(k) = f.k {
                    o = o.n_nonzero_coefs(k);
                }
                if let Some(t) = f.tol {
                    o = o.tol(t);
                }
                Method::Omp(o)
            }
            CoderArg::Mp => {
                let mut o = MatchingPursuit::new();
                if let Some(k) = f.k {
                    o = o.n_nonzero_coefs(k);
                }
                if let Some(t) = f.tol {
                    o = o.tol(t);
                }
                Method::Mp(o)
            }
            CoderArg::Lars => {
                let mut o = Lars::new(lambda()?)
                    .lambda2(f.lambda2.unwrap_or(0.0))
                    .positive(f.positive);
                if let Some(k) = f.k {
                    o = o.max_nonzero(k);
                }
                Method::Lars(o)
            }
            CoderArg::Fista | CoderArg::Ista => {
                let o = if self == CoderArg::Fista {
                    Fista::new(lambda()?)
                } else {
                    Fista::ista(lambda()?)
                };
                Method::Fista(o.lambda2(f.lambda2.unwrap_or(0.0)).positive(f.positive))
            }
            CoderArg::Threshold => {
                let t = match (f.k, f.threshold) {
                    (Some(k), _) => Threshold::top_k(k),
                    (None, Some(tau)) => Threshold::relative(tau),
                    (None, None) => {
                        return Err(CliError::usage(
                            "k",
                            "unset",
                            "pass --k (top-k) or --threshold (relative to the best)",
                        ));
                    }
                };
                Method::Threshold(t.positive(f.positive))
            }
            CoderArg::SoftThreshold => {
                Method::Threshold(Threshold::soft(lambda()?).positive(f.positive))
            }
        })
    }
}

/// The element type a command computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DtypeArg {
    /// 32-bit floats.
    #[value(alias = "float32")]
    F32,
    /// 64-bit floats.
    #[value(alias = "float64")]
    F64,
}
