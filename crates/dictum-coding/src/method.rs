//! [`Method`]: a coder chosen at run time (the CLI's `--method`).

use dictum_linalg::{CscMatrix, MatRef, Real};

use crate::dictionary::Dictionary;
use crate::encoder::Encoder;
use crate::error::{CodingError, Result, invalid};
use crate::lasso::{Fista, Lars};
use crate::mp::MatchingPursuit;
use crate::omp::{Omp, OmpVariant, Selection};
use crate::run::RunOptions;
use crate::threshold::Threshold;

/// Any coder of this crate, chosen at run time.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Method {
    /// Matching Pursuit.
    Mp(MatchingPursuit),
    /// OMP in any of its variants (Batch, reference, non-negative).
    Omp(Omp),
    /// LARS-LASSO / elastic net.
    Lars(Lars),
    /// FISTA or ISTA.
    Fista(Fista),
    /// A thresholding rule.
    Threshold(Threshold),
}

/// The names [`Method::from_spec`] accepts, as the CLI's `--method` lists them.
pub const METHOD_NAMES: &[&str] = &[
    "mp",
    "omp",
    "batch-omp",
    "ormp",
    "batch-ormp",
    "lars",
    "fista",
    "ista",
    "threshold",
    "soft-threshold",
];

/// The knobs common to the coders, as the CLI takes them; each coder uses those it knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MethodSpec {
    /// Non-zeros per signal (`--k`): OMP/MP target, LARS `max_nonzero`, top-k threshold.
    pub k: Option<usize>,
    /// Squared residual norm at which OMP/MP stop (`--tol`).
    pub tol: Option<f64>,
    /// ℓ1 weight (`--lambda`): LARS, FISTA, soft threshold.
    pub lambda: Option<f64>,
    /// Elastic-net ridge weight (`--lambda2`).
    pub lambda2: Option<f64>,
    /// Non-negative codes (`--nonneg`).
    pub positive: bool,
    /// Relative threshold τ for `threshold` without `k` (`--threshold`).
    pub threshold: Option<f64>,
}

impl Method {
    /// Builds a coder from its CLI name (one of [`METHOD_NAMES`]) and the common knobs.
    ///
    /// `threshold` keeps the top `k` correlations when `k` is given, else those within a
    /// factor `threshold` of the best; `soft-threshold` shrinks by `lambda`.
    pub fn from_spec(name: &str, spec: &MethodSpec) -> Result<Self> {
        let need_lambda = |method: &'static str| {
            spec.lambda.ok_or(CodingError::InvalidParameter {
                method,
                name: "lambda",
                value: "unset".into(),
                hint: "this coder needs the l1 weight; pass --lambda",
            })
        };
        let m = match name {
            "omp" | "batch-omp" | "ormp" | "batch-ormp" => {
                let variant = if name.starts_with("batch-") {
                    OmpVariant::Batch
                } else {
                    OmpVariant::Reference
                };
                let selection = if name.ends_with("ormp") {
                    Selection::Ormp
                } else {
                    Selection::Omp
                };
                let mut o = Omp::new()
                    .variant(variant)
                    .selection(selection)
                    .positive(spec.positive);
                if let Some(k) = spec.k {
                    o = o.n_nonzero_coefs(k);
                }
                if let Some(t) = spec.tol {
                    o = o.tol(t);
                }
                Method::Omp(o)
            }
            "mp" => {
                let mut o = MatchingPursuit::new();
                if let Some(k) = spec.k {
                    o = o.n_nonzero_coefs(k);
                }
                if let Some(t) = spec.tol {
                    o = o.tol(t);
                }
                Method::Mp(o)
            }
            "lars" => {
                let mut o = Lars::new(need_lambda("lars")?)
                    .lambda2(spec.lambda2.unwrap_or(0.0))
                    .positive(spec.positive);
                if let Some(k) = spec.k {
                    o = o.max_nonzero(k);
                }
                Method::Lars(o)
            }
            "fista" | "ista" => {
                let l = need_lambda("fista")?;
                let o = if name == "fista" {
                    Fista::new(l)
                } else {
                    Fista::ista(l)
                };
                Method::Fista(
                    o.lambda2(spec.lambda2.unwrap_or(0.0))
                        .positive(spec.positive),
                )
            }
            "threshold" => {
                let t = match (spec.k, spec.threshold) {
                    (Some(k), _) => Threshold::top_k(k),
                    (None, Some(tau)) => Threshold::relative(tau),
                    (None, None) => {
                        return Err(invalid(
                            "threshold",
                            "k",
                            "unset",
                            "pass --k (top-k) or --threshold (relative to the best)",
                        ));
                    }
                };
                Method::Threshold(t.positive(spec.positive))
            }
            "soft-threshold" => Method::Threshold(
                Threshold::soft(need_lambda("soft-threshold")?).positive(spec.positive),
            ),
            other => {
                return Err(invalid(
                    "encode",
                    "method",
                    other,
                    "expected one of mp, omp, batch-omp, ormp, batch-ormp, lars, fista, ista, threshold, soft-threshold",
                ));
            }
        };
        Ok(m)
    }

    /// The coder's short name (`"batch-omp"`, `"lars"`, …).
    pub fn name(&self) -> &'static str {
        self.inner::<f64>().name()
    }

    fn inner<T: Real>(&self) -> &dyn Encoder<T> {
        match self {
            Method::Mp(o) => o,
            Method::Omp(o) => o,
            Method::Lars(o) => o,
            Method::Fista(o) => o,
            Method::Threshold(o) => o,
        }
    }
}

impl<T: Real> Encoder<T> for Method {
    fn name(&self) -> &'static str {
        self.inner::<T>().name()
    }

    fn encode(
        &self,
        dict: &Dictionary<'_, T>,
        signals: MatRef<'_, T>,
        opts: &RunOptions<'_>,
    ) -> Result<CscMatrix<T>> {
        self.inner::<T>().encode(dict, signals, opts)
    }
}
