//! The K-SVD atom update: the best rank-1 approximation `d·xᵀ` of the residual restricted to
//! the signals that use the atom (their supports stay fixed).

use dictum_linalg::svd::{LeadingSvd, leading_singular_triplet_from};
use dictum_linalg::{CscMatrix, Mat, MatRef, Par, Real};

use crate::error::Result;

/// How K-SVD refits an atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AtomUpdate {
    /// The top singular pair of the restricted residual, by Lanczos bidiagonalisation
    /// warm-started from the current coefficients (never a full SVD).
    #[default]
    Exact,
    /// One power-iteration step (approximate K-SVD): cheaper, slightly less progress per
    /// iteration.
    Approximate,
}

/// Row access to CSC codes: for atom `k`, the signals using it and where their coefficients
/// live in the CSC value array.
pub(crate) struct RowIndex {
    ptr: Vec<usize>,
    signal: Vec<u32>,
    pos: Vec<usize>,
}

impl RowIndex {
    pub(crate) fn new<T: Real>(x: &CscMatrix<T>) -> Self {
        let m = x.nrows();
        let mut ptr = vec![0usize; m + 1];
        for &r in x.row_indices() {
            ptr[r as usize + 1] += 1;
        }
        for k in 0..m {
            ptr[k + 1] += ptr[k];
        }
        let mut fill = ptr.clone();
        let mut signal = vec![0u32; x.nnz()];
        let mut pos = vec![0usize; x.nnz()];
        for j in 0..x.ncols() {
            for p in x.col_ptr()[j]..x.col_ptr()[j + 1] {
                let k = x.row_indices()[p] as usize;
                signal[fill[k]] = j as u32;
                pos[fill[k]] = p;
                fill[k] += 1;
            }
        }
        Self { ptr, signal, pos }
    }

    /// Signals using atom `k` (increasing) and the positions of their coefficients.
    pub(crate) fn row(&self, k: usize) -> (&[u32], &[usize]) {
        let r = self.ptr[k]..self.ptr[k + 1];
        (&self.signal[r.clone()], &self.pos[r])
    }
}

/// Where the restricted residual `E_ω = Y_ω − D·X_ω + d_k·x_k,ω` comes from.
pub(crate) enum Residual<'a, T> {
    /// `R = Y − D·X`, kept up to date: `E_ω = R_ω + d_k·x_k,ω`, `O(d·|ω|)`.
    Kept(MatRef<'a, T>),
    /// Recomputed from the signals and codes: `O(d·nnz(X_ω))`, no `d x N` buffer.
    OnTheFly(MatRef<'a, T>, &'a CscMatrix<T>),
}

/// The new atom and the new coefficients of its users.
pub(crate) struct AtomFit<T> {
    pub(crate) atom: Vec<T>,
    pub(crate) coefs: Vec<T>,
}

/// Refits atom `k` of `dict` given its users (`signals`, `pos` into `values`). `None` when
/// the atom has no users.
pub(crate) fn fit_atom<T: Real>(
    k: usize,
    signals: &[u32],
    pos: &[usize],
    values: &[T],
    dict: MatRef<'_, T>,
    source: &Residual<'_, T>,
    method: AtomUpdate,
) -> Result<Option<AtomFit<T>>> {
    if signals.is_empty() {
        return Ok(None);
    }
    let d = dict.nrows();
    let dk = dict.col(k);
    let xk: Vec<T> = pos.iter().map(|&p| values[p]).collect();
    let mut e = Mat::<T>::zeros(d, signals.len());
    for (c, (&j, &xkj)) in signals.iter().zip(&xk).enumerate() {
        let mut col = e.col_mut(c);
        match source {
            Residual::Kept(r) => {
                let rj = r.col(j as usize);
                for i in 0..d {
                    col[i] = rj[i] + dk[i] * xkj;
                }
            }
            Residual::OnTheFly(y, x) => {
                let yj = y.col(j as usize);
                for i in 0..d {
                    col[i] = yj[i];
                }
                let (rows, vals) = x.col(j as usize);
                for (&a, &v) in rows.iter().zip(vals) {
                    if a as usize != k {
                        let da = dict.col(a as usize);
                        for i in 0..d {
                            col[i] -= v * da[i];
                        }
                    }
                }
            }
        }
    }
    let (mut atom, mut coefs) = match method {
        AtomUpdate::Exact => {
            // Warm start from the current coefficients: E ≈ d_k·x_kᵀ already, so Lanczos
            // converges in a few products.
            let t =
                leading_singular_triplet_from(e.as_ref(), Some(&xk), &LeadingSvd::new(), Par::Seq)?;
            if t.sigma == T::zero() {
                return Ok(Some(AtomFit {
                    atom: dk.iter().copied().collect(),
                    coefs: vec![T::zero(); signals.len()],
                }));
            }
            let coefs: Vec<T> = t.v.iter().map(|&v| v * t.sigma).collect();
            (t.u, coefs)
        }
        AtomUpdate::Approximate => {
            // One power-iteration step from x_k (Rubinstein et al. 2008): d = E·x/‖E·x‖,
            // x = Eᵀ·d.
            let mut g = vec![T::zero(); d];
            for (c, &x) in xk.iter().enumerate() {
                let col = e.col(c);
                for i in 0..d {
                    g[i] += x * col[i];
                }
            }
            let nrm = g.iter().fold(T::zero(), |s, &v| s + v * v).sqrt();
            if nrm.is_nan() || nrm <= T::zero() {
                return Ok(Some(AtomFit {
                    atom: dk.iter().copied().collect(),
                    coefs: vec![T::zero(); signals.len()],
                }));
            }
            g.iter_mut().for_each(|v| *v /= nrm);
            let coefs = (0..signals.len())
                .map(|c| {
                    let col = e.col(c);
                    (0..d).fold(T::zero(), |s, i| s + col[i] * g[i])
                })
                .collect();
            (g, coefs)
        }
    };
    // The pair (d, x) and (−d, −x) fit equally; keep the atom's orientation so dictionaries
    // stay comparable across iterations.
    let dot = (0..d).fold(T::zero(), |s, i| s + atom[i] * dk[i]);
    if dot < T::zero() {
        atom.iter_mut().for_each(|v| *v = -*v);
        coefs.iter_mut().for_each(|v| *v = -*v);
    }
    Ok(Some(AtomFit { atom, coefs }))
}
