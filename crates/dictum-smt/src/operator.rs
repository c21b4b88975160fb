//! The SMT's differential operator `D`: which combinations of codes should be small (slow).
//!
//! For a sequence (video frames, a trajectory) the first derivative pairs consecutive codes,
//! `α_t − α_{t−1}`, and the second `α_{t−1} − 2α_t + α_{t+1}` (Chen, Paiton & Olshausen 2018).
//! For the patches of an image, spatial neighbours play the part of time (Chen et al. 2023):
//! the first derivative pairs each patch with the patches within `radius` grid steps
//! (each pair once), the second compares each patch with the mean of those neighbours.
//! The operator is applied per group (one sequence or one image), never as one global matrix.

use crate::error::{Result, invalid};

/// Order of the derivative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Derivative {
    /// Differences of neighbours.
    First,
    /// A code against the mean of its neighbours (the discrete Laplacian).
    #[default]
    Second,
}

/// Who neighbours whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Neighbourhood {
    /// Consecutive codes of a sequence.
    Temporal,
    /// Patches of a `rows x cols` grid (raster order) within `radius` steps (Chebyshev
    /// distance) of each other.
    Spatial {
        /// Grid rows.
        rows: usize,
        /// Grid columns.
        cols: usize,
        /// Neighbourhood radius in grid steps.
        radius: usize,
    },
}

/// The differential operator of one group of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DifferentialOperator {
    /// Derivative order.
    pub derivative: Derivative,
    /// Neighbourhood.
    pub neighbourhood: Neighbourhood,
}

/// One column of `D`: a sparse combination `Σ coef·α_index` of the group's codes, by index.
pub type Term = Vec<(usize, f64)>;

impl DifferentialOperator {
    /// The temporal operator of the given order.
    pub fn temporal(derivative: Derivative) -> Self {
        Self {
            derivative,
            neighbourhood: Neighbourhood::Temporal,
        }
    }

    /// The spatial operator over a `rows x cols` patch grid.
    pub fn spatial(
        derivative: Derivative,
        rows: usize,
        cols: usize,
        radius: usize,
    ) -> Result<Self> {
        if radius == 0 {
            return Err(invalid("radius", 0, "at least 1 grid step"));
        }
        Ok(Self {
            derivative,
            neighbourhood: Neighbourhood::Spatial { rows, cols, radius },
        })
    }

    /// Codes per group the operator expects (`None`: any length, temporal).
    pub fn group_len(&self) -> Option<usize> {
        match self.neighbourhood {
            Neighbourhood::Temporal => None,
            Neighbourhood::Spatial { rows, cols, .. } => Some(rows * cols),
        }
    }

    /// The columns of `D` for a group of `n` codes.
    pub fn terms(&self, n: usize) -> Vec<Term> {
        match (self.neighbourhood, self.derivative) {
            (Neighbourhood::Temporal, Derivative::First) => {
                (1..n).map(|t| vec![(t - 1, -1.0), (t, 1.0)]).collect()
            }
            (Neighbourhood::Temporal, Derivative::Second) => (1..n.saturating_sub(1))
                .map(|t| vec![(t - 1, 1.0), (t, -2.0), (t + 1, 1.0)])
                .collect(),
            (Neighbourhood::Spatial { rows, cols, radius }, d) => {
                let r = radius as isize;
                let mut out = Vec::new();
                for y in 0..rows as isize {
                    for x in 0..cols as isize {
                        let p = (y as usize) * cols + x as usize;
                        let mut nb = Vec::new();
                        for dy in -r..=r {
                            for dx in -r..=r {
                                let (yy, xx) = (y + dy, x + dx);
                                if (dy, dx) == (0, 0)
                                    || yy < 0
                                    || xx < 0
                                    || yy >= rows as isize
                                    || xx >= cols as isize
                                {
                                    continue;
                                }
                                nb.push((yy as usize) * cols + xx as usize);
                            }
                        }
                        match d {
                            Derivative::First => {
                                for q in nb.into_iter().filter(|&q| q > p) {
                                    out.push(vec![(p, 1.0), (q, -1.0)]);
                                }
                            }
                            Derivative::Second => {
                                if nb.is_empty() {
                                    continue;
                                }
                                let w = -1.0 / nb.len() as f64;
                                let mut t: Term = nb.into_iter().map(|q| (q, w)).collect();
                                t.push((p, 1.0));
                                t.sort_by_key(|e| e.0);
                                out.push(t);
                            }
                        }
                    }
                }
                out
            }
        }
    }
}
