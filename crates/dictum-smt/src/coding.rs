//! General sparse coding of the SMT (Chen, Yun, Ma, Olshausen & LeCun, ICLR 2023): a signal
//! activates every atom whose cosine similarity to it reaches a threshold, so the number of
//! active atoms adapts to how many atoms the signal resembles. With the best atom only it is
//! vector quantization (1-sparse). With a cap on active atoms, on a backend that runs the
//! fused pursuit (a GPU), the correlations and the selection stay on the device.

use dictum_linalg::backend::{Offloaded, Op, Pursuit, PursuitRule};
use dictum_linalg::csc::CscBuilder;
use dictum_linalg::exec::Exec;
use dictum_linalg::{CscMatrix, Mat, MatRef, Real};

use crate::error::{Result, SmtError, invalid};

/// General sparse coding parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneralCoding {
    threshold: f64,
    binary: bool,
    force_best: bool,
    max_active: Option<usize>,
}

impl GeneralCoding {
    /// Atoms with cosine similarity `≥ threshold` (in `(0, 1]`) are active, with value 1;
    /// the best atom is always active.
    pub fn new(threshold: f64) -> Self {
        Self {
            threshold,
            binary: true,
            force_best: true,
            max_active: None,
        }
    }

    /// Codes of 1 (`true`, the papers' choice) or of the cosine similarity itself.
    pub fn binary(mut self, b: bool) -> Self {
        self.binary = b;
        self
    }

    /// Whether the best atom is active even below the threshold (no empty codes).
    pub fn force_best(mut self, f: bool) -> Self {
        self.force_best = f;
        self
    }

    /// Keep at most this many active atoms (the most similar).
    pub fn max_active(mut self, k: Option<usize>) -> Self {
        self.max_active = k;
        self
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(invalid(
                "threshold",
                self.threshold,
                "a cosine similarity in (0, 1]",
            ));
        }
        if self.max_active == Some(0) {
            return Err(invalid("max_active", 0, "at least 1"));
        }
        Ok(())
    }

    /// Codes (`m x N`, CSC) of the columns of `x` (`d x N`) over the unit-norm atoms of `dict`
    /// (`d x m`). Zero columns get empty codes.
    pub fn encode<T: Real>(
        &self,
        dict: MatRef<'_, T>,
        x: MatRef<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<CscMatrix<T>> {
        self.validate()?;
        if dict.nrows() != x.nrows() {
            return Err(SmtError::ShapeMismatch {
                what: "signals",
                expected: format!("{} rows (the dictionary's)", dict.nrows()),
                found: format!("{} rows", x.nrows()),
            });
        }
        let m = dict.ncols();
        if let Some(codes) = self.on_device(dict, x, exec)? {
            return Ok(codes);
        }
        let mut b = CscBuilder::with_capacity(m, x.ncols(), x.ncols() * 4);
        // Columns per GEMM: with 16 384 atoms a block's correlations are 32 MiB in f32;
        // larger blocks spent their time in page faults.
        const BLOCK: usize = 512;
        let mut start = 0;
        // One buffer for every block: fresh 32 MiB allocations cost page faults each time.
        let mut buf: Mat<T> = Mat::zeros(m, BLOCK.min(x.ncols()));
        let dict = exec.resident(dict);
        while start < x.ncols() {
            let len = BLOCK.min(x.ncols() - start);
            let xb = x.subcols(start, len);
            exec.gemm_tn(buf.as_mut().subcols_mut(0, len), &dict, xb)?;
            let corr = buf.as_ref().subcols(0, len);
            let active_of = |j: usize| -> Vec<(usize, f64)> {
                let norm = xb
                    .col(j)
                    .iter()
                    .map(|v| v.into_f64().powi(2))
                    .sum::<f64>()
                    .sqrt();
                if norm == 0.0 {
                    return Vec::new();
                }
                let owned: Vec<T>;
                let c: &[T] = match corr.col(j).try_as_col_major() {
                    Some(s) => s.as_slice(),
                    None => {
                        owned = (0..m).map(|i| corr[(i, j)]).collect();
                        &owned
                    }
                };
                // Most atoms are far below the threshold: skip blocks whose maximum is, by
                // a vectorized max before any per-atom work.
                let mut bar = T::cast_f64(self.threshold * norm);
                let mut active: Vec<(usize, f64)> = Vec::new();
                const W: usize = 32;
                let by_sim =
                    |a: &(usize, f64), b: &(usize, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
                for (b, chunk) in c.chunks(W).enumerate() {
                    let mx = chunk
                        .iter()
                        .fold(T::neg_infinity(), |a, &v| if v > a { v } else { a });
                    if mx < bar {
                        continue;
                    }
                    for (k, &v) in chunk.iter().enumerate() {
                        if v >= bar {
                            active.push((b * W + k, v.into_f64() / norm));
                        }
                    }
                    // With a cap, keep the best k so far and raise the bar to the k-th: later
                    // blocks then mostly fail the cheap max test. What is dropped here can
                    // never make the final k.
                    if let Some(k) = self.max_active
                        && active.len() >= 8 * k
                    {
                        active.select_nth_unstable_by(k - 1, by_sim);
                        active.truncate(k);
                        let kth = active.iter().fold(f64::INFINITY, |a, e| a.min(e.1));
                        // A hair below the k-th, so rounding to T never skips a tie.
                        let raised = T::cast_f64(kth * norm * (1.0 - 1e-6));
                        if raised > bar {
                            bar = raised;
                        }
                    }
                }
                if active.is_empty() && self.force_best {
                    let best = (0..m)
                        .max_by(|&a, &b| {
                            c[a].into_f64().total_cmp(&c[b].into_f64()).then(b.cmp(&a))
                        })
                        .unwrap_or(0);
                    active.push((best, c[best].into_f64() / norm));
                }
                if let Some(k) = self.max_active
                    && active.len() > k
                {
                    // The k most similar (ties: lower index), by selection, not a full sort.
                    active.select_nth_unstable_by(k - 1, by_sim);
                    active.truncate(k);
                    active.sort_unstable_by_key(|a| a.0);
                }
                active
            };
            // Columns are independent: scan them in parallel, push in order.
            let actives: Vec<Vec<(usize, f64)>> = exec.map(len, 1, active_of);
            let binary = self.binary;
            for active in actives {
                b.push_column(
                    active
                        .into_iter()
                        .map(|(i, s)| (i, if binary { T::one() } else { T::cast_f64(s) })),
                )?;
            }
            start += len;
        }
        Ok(b.finish())
    }

    /// The codes from a backend that runs the fused pursuit (a GPU) with its cosine rule,
    /// when the number of active atoms is capped (a device returns at most a fixed number
    /// per signal); `None` when the blocks are to run here.
    fn on_device<T: Real>(
        &self,
        dict: MatRef<'_, T>,
        x: MatRef<'_, T>,
        exec: &Exec<'_>,
    ) -> Result<Option<CscMatrix<T>>> {
        let Some(k) = self.max_active else {
            return Ok(None);
        };
        if x.ncols() == 0 || !exec.offers::<T>(Op::Pursuit) {
            return Ok(None);
        }
        let m = dict.ncols();
        let atoms = exec.resident(dict);
        let job = Pursuit {
            atoms: (&atoms).into(),
            gram: None,
            signals: x,
            max_atoms: k.min(m),
            tol: None,
            rule: PursuitRule::Cosine {
                threshold: self.threshold,
                force_best: self.force_best,
            },
            offsets: None,
        };
        let codes = match exec.pursuit(&job)? {
            Offloaded::Done(codes) => codes,
            Offloaded::OnCpu => return Ok(None),
            Offloaded::Cancelled => return Err(SmtError::Cancelled),
        };
        let mut b = CscBuilder::with_capacity(m, x.ncols(), codes.atoms.len());
        let mut active: Vec<(usize, T)> = Vec::with_capacity(k);
        for c in 0..x.ncols() {
            let (rows, cosines) = codes.code(c);
            active.clear();
            active.extend(
                rows.iter()
                    .zip(cosines)
                    .map(|(&i, &s)| (i as usize, if self.binary { T::one() } else { s })),
            );
            active.sort_unstable_by_key(|a| a.0);
            b.push_column(active.iter().copied())?;
        }
        Ok(Some(b.finish()))
    }
}
