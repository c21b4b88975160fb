//! ZCA whitening `x ↦ (Σ + tol·I)^{-1/2}·(x − μ)` (Bell & Sejnowski 1997): decorrelates
//! patch pixels while staying as close to the input as possible, so whitened patches still
//! look like patches.

use dictum_linalg::backend::Trans;
use dictum_linalg::exec::Exec;
use dictum_linalg::{Mat, MatRef, Real, eigen};

use crate::error::{Result, SmtError, invalid};

/// A fitted ZCA transform.
#[derive(Debug, Clone, PartialEq)]
pub struct Zca {
    /// Mean `μ` of the fitting data.
    pub mean: Vec<f64>,
    /// `(Σ + tol·I)^{-1/2}`, `d x d`.
    pub matrix: Mat<f64>,
}

/// Accumulates the mean and covariance of columns, chunk by chunk (bounded memory).
#[derive(Debug, Clone)]
pub struct MomentAccumulator {
    n: usize,
    sum: Vec<f64>,
    /// `Σ x·xᵀ`.
    outer: Mat<f64>,
}

impl MomentAccumulator {
    /// For columns of dimension `d`.
    pub fn new(d: usize) -> Self {
        Self {
            n: 0,
            sum: vec![0.0; d],
            outer: Mat::zeros(d, d),
        }
    }

    /// Adds the columns of `x`.
    pub fn add<T: Real>(&mut self, x: MatRef<'_, T>, exec: &Exec<'_>) -> Result<()> {
        let d = self.sum.len();
        if x.nrows() != d {
            return Err(SmtError::ShapeMismatch {
                what: "columns",
                expected: format!("{d} rows"),
                found: format!("{} rows", x.nrows()),
            });
        }
        let x64 = Mat::<f64>::from_fn(d, x.ncols(), |i, j| x[(i, j)].into_f64());
        for j in 0..x64.ncols() {
            for (s, &v) in self.sum.iter_mut().zip(x64.col(j).iter()) {
                *s += v;
            }
        }
        let g = exec.product(x64.as_ref(), Trans::No, x64.as_ref(), Trans::Yes)?;
        self.outer += g;
        self.n += x.ncols();
        Ok(())
    }

    /// Columns seen.
    pub fn count(&self) -> usize {
        self.n
    }

    /// The ZCA transform of what was added, with regularizer `tol`.
    pub fn zca(&self, tol: f64, exec: &Exec<'_>) -> Result<Zca> {
        if self.n == 0 {
            return Err(SmtError::Empty {
                what: "whitening data",
            });
        }
        if !(tol >= 0.0 && tol.is_finite()) {
            return Err(invalid("whiten_tol", tol, "a number ≥ 0"));
        }
        let d = self.sum.len();
        let n = self.n as f64;
        let mean: Vec<f64> = self.sum.iter().map(|s| s / n).collect();
        let cov = Mat::<f64>::from_fn(d, d, |i, j| self.outer[(i, j)] / n - mean[i] * mean[j]);
        let e = eigen::symmetric_eigen(cov.as_ref(), exec.par())?;
        let scale: Vec<f64> = e
            .values
            .iter()
            .map(|&l| {
                let v = l.max(0.0) + tol;
                if v > 0.0 { 1.0 / v.sqrt() } else { 0.0 }
            })
            .collect();
        let u = &e.vectors;
        let matrix = Mat::from_fn(d, d, |i, j| {
            (0..d).map(|k| u[(i, k)] * scale[k] * u[(j, k)]).sum()
        });
        Ok(Zca { mean, matrix })
    }
}

impl Zca {
    /// Fits on the columns of `x`.
    pub fn fit<T: Real>(x: MatRef<'_, T>, tol: f64, exec: &Exec<'_>) -> Result<Self> {
        let mut acc = MomentAccumulator::new(x.nrows());
        acc.add(x, exec)?;
        acc.zca(tol, exec)
    }

    /// Whitens the columns of `x`.
    pub fn apply<T: Real>(&self, x: MatRef<'_, T>, exec: &Exec<'_>) -> Result<Mat<T>> {
        let d = self.mean.len();
        if x.nrows() != d {
            return Err(SmtError::ShapeMismatch {
                what: "columns to whiten",
                expected: format!("{d} rows"),
                found: format!("{} rows", x.nrows()),
            });
        }
        let centred = Mat::<T>::from_fn(d, x.ncols(), |i, j| x[(i, j)] - T::cast_f64(self.mean[i]));
        let w = Mat::<T>::from_fn(d, d, |i, j| T::cast_f64(self.matrix[(i, j)]));
        Ok(exec.product(w.as_ref(), Trans::No, centred.as_ref(), Trans::No)?)
    }
}
