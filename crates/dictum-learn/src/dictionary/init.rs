//! The initial dictionary.

use dictum_linalg::{Mat, MatRef, Real};

use crate::error::{LearnError, Result};
use crate::rng::Rng;

/// How a learner draws its initial dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Init {
    /// `m` distinct non-zero signals chosen at random, normalized (KSVD-Box, SPAMS). Needs at
    /// least `m` non-zero signals.
    #[default]
    DataColumns,
    /// Entries uniform in `(−0.5, 0.5)`, columns normalized, as KSVD.jl's `init_dictionary`.
    Random,
    /// Standard normal entries, columns normalized: directions uniform on the sphere.
    Gaussian,
}

/// Draws an initial `d x m` dictionary with unit-norm columns for the signals `y` (`d x N`).
pub fn initial_dictionary<T: Real>(
    method: &'static str,
    y: MatRef<'_, T>,
    m: usize,
    init: Init,
    rng: &mut Rng,
) -> Result<Mat<T>> {
    let d = y.nrows();
    match init {
        Init::DataColumns => {
            let nonzero: Vec<usize> = (0..y.ncols())
                .filter(|&j| y.col(j).iter().any(|&v| v != T::zero()))
                .collect();
            if nonzero.len() < m {
                return Err(LearnError::TooFewSignals {
                    method,
                    atoms: m,
                    signals: nonzero.len(),
                });
            }
            let pick = rng.sample_indices(nonzero.len(), m);
            let mut dict = Mat::zeros(d, m);
            for (k, &p) in pick.iter().enumerate() {
                let src = y.col(nonzero[p]);
                let nrm = src.norm_l2();
                for i in 0..d {
                    dict[(i, k)] = src[i] / nrm;
                }
            }
            Ok(dict)
        }
        Init::Random | Init::Gaussian => {
            let mut dict = Mat::zeros(d, m);
            for k in 0..m {
                let mut nrm2 = 0.0;
                let col: Vec<f64> = (0..d)
                    .map(|_| {
                        let v = if init == Init::Gaussian {
                            rng.normal()
                        } else {
                            rng.uniform() - 0.5
                        };
                        nrm2 += v * v;
                        v
                    })
                    .collect();
                // An all-zero draw has probability ~0; a unit vector keeps the atom valid.
                let nrm = nrm2.sqrt();
                for (i, v) in col.into_iter().enumerate() {
                    dict[(i, k)] = if nrm > 0.0 {
                        T::cast_f64(v / nrm)
                    } else {
                        T::cast_f64(if i == 0 { 1.0 } else { 0.0 })
                    };
                }
            }
            Ok(dict)
        }
    }
}
