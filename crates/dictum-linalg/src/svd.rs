//! Singular value decompositions: the leading singular triplet by Lanczos
//! bidiagonalisation, and the full thin SVD.
//!
//! K-SVD updates each atom with the top singular pair of a restricted residual matrix
//! (Aharon, Elad & Bruckstein, *K-SVD: An algorithm for designing overcomplete dictionaries
//! for sparse representation*, IEEE TSP 2006). A full SVD there wastes almost all of its
//! work: KSVD.jl measured a truncated solver about 100x faster than a full one. The leading
//! triplet is computed here with Golub–Kahan–Lanczos bidiagonalisation (Golub & Kahan 1965)
//! with full reorthogonalisation and explicit restarts from the current Ritz vector.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

use crate::error::{LinalgError, Result};
use crate::real::Real;
use crate::view::{check_finite, check_nonempty};

/// Options of [`leading_singular_triplet`]. Build with [`LeadingSvd::new`] and the setters;
/// the defaults suit K-SVD atom updates.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadingSvd {
    tol: Option<f64>,
    krylov_dim: usize,
    max_restarts: usize,
    seed: u64,
}

impl Default for LeadingSvd {
    fn default() -> Self {
        Self {
            tol: None,
            krylov_dim: 24,
            max_restarts: 50,
            seed: 0x5eed,
        }
    }
}

impl LeadingSvd {
    /// Default options: tolerance `sqrt(eps)` of the element type, Krylov dimension 24, up to
    /// 50 restarts, seed `0x5eed`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Relative residual at which to stop: `‖Aᵀu − σv‖ ≤ tol·σ`. Default `sqrt(eps)`.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = Some(tol);
        self
    }

    /// Largest Krylov subspace built before a restart (at least 2).
    pub fn krylov_dim(mut self, k: usize) -> Self {
        self.krylov_dim = k;
        self
    }

    /// Restarts allowed before giving up with [`LinalgError::NoConvergence`].
    pub fn max_restarts(mut self, n: usize) -> Self {
        self.max_restarts = n;
        self
    }

    /// Seed of the random start vector (the result is deterministic for a given seed).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the options; [`leading_singular_triplet`] calls it.
    pub fn validate(&self) -> Result<()> {
        if let Some(tol) = self.tol
            && !(tol.is_finite() && tol > 0.0 && tol < 1.0)
        {
            return Err(LinalgError::InvalidParameter {
                name: "tol",
                value: tol.to_string(),
                expected: "a finite number in (0, 1), e.g. 1e-6",
            });
        }
        if self.krylov_dim < 2 {
            return Err(LinalgError::InvalidParameter {
                name: "krylov_dim",
                value: self.krylov_dim.to_string(),
                expected: "at least 2",
            });
        }
        Ok(())
    }
}

/// The largest singular value of a matrix with its singular vectors: `A·v = σ·u`.
#[derive(Debug, Clone, PartialEq)]
pub struct SingularTriplet<T> {
    /// The largest singular value σ ≥ 0.
    pub sigma: T,
    /// Left singular vector (unit norm, length `nrows`). Its largest-magnitude entry is
    /// positive, which fixes the sign.
    pub u: Vec<T>,
    /// Right singular vector (unit norm, length `ncols`).
    pub v: Vec<T>,
    /// Matrix–vector products `A·x` performed.
    pub matvecs: usize,
    /// Final relative residual `‖Aᵀu − σv‖ / σ`.
    pub residual: T,
}

/// A unit vector with uniform(-1, 1) entries before scaling, from a deterministic SplitMix64
/// stream: enough for a start vector, and it keeps this crate free of a random-number
/// dependency.
fn start_vector<T: Real>(n: usize, seed: u64) -> Vec<T> {
    let mut state = seed;
    let mut v: Vec<T> = (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            T::cast_f64((z >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
        })
        .collect();
    let nv = norm(&v);
    scale(&mut v, T::one() / nv);
    v
}

fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |s, (&x, &y)| s + x * y)
}

fn norm<T: Real>(a: &[T]) -> T {
    MatRef::from_column_major_slice(a, a.len(), 1).norm_l2()
}

fn scale<T: Real>(a: &mut [T], s: T) {
    a.iter_mut().for_each(|x| *x *= s);
}

/// `dst = op(A)·x`, `op` = identity or transpose.
fn matvec<T: Real>(dst: &mut [T], a: MatRef<'_, T>, x: &[T], transpose: bool, par: Par) {
    let n = dst.len();
    let d = MatMut::from_column_major_slice_mut(dst, n, 1);
    let x = MatRef::from_column_major_slice(x, x.len(), 1);
    if transpose {
        matmul(d, Accum::Replace, a.transpose(), x, T::one(), par);
    } else {
        matmul(d, Accum::Replace, a, x, T::one(), par);
    }
}

/// Classical Gram–Schmidt applied twice ("twice is enough", Giraud et al. 2005): removes the
/// components of `w` along the orthonormal `basis`.
fn reorthogonalize<T: Real>(w: &mut [T], basis: &[Vec<T>]) {
    for _ in 0..2 {
        for b in basis {
            let c = dot(w, b);
            w.iter_mut().zip(b).for_each(|(x, &y)| *x -= c * y);
        }
    }
}

fn fix_sign<T: Real>(u: &mut [T], v: &mut [T]) {
    let mut best = T::zero();
    let mut flip = false;
    for &x in u.iter() {
        let ax = num_traits::Float::abs(x);
        if ax > best {
            best = ax;
            flip = x < T::zero();
        }
    }
    if flip {
        scale(u, -T::one());
        scale(v, -T::one());
    }
}

/// A Ritz approximation of the top singular triplet from the bidiagonal factor.
struct Ritz<T> {
    sigma: T,
    /// Coefficients of `u` in the left Lanczos basis.
    p: Vec<T>,
    /// Coefficients of `v` in the right Lanczos basis (one more than `p` when augmented).
    q: Vec<T>,
    /// Relative residual `‖Aᵀu − σv‖ / σ`.
    rel: T,
    /// `true` when the Krylov space is invariant, so the pair is exact up to rounding.
    exact: bool,
}

impl<T: Real> Ritz<T> {
    fn exact((sigma, p, q): (T, Vec<T>, Vec<T>)) -> Self {
        Self {
            sigma,
            p,
            q,
            rel: T::zero(),
            exact: true,
        }
    }
}

fn zero_triplet<T: Real>(m: usize, n: usize) -> SingularTriplet<T> {
    let mut u = vec![T::zero(); m];
    u[0] = T::one();
    let mut v = vec![T::zero(); n];
    v[0] = T::one();
    SingularTriplet {
        sigma: T::zero(),
        u,
        v,
        matvecs: 0,
        residual: T::zero(),
    }
}

/// Top singular triplet of the upper bidiagonal matrix with diagonal `alphas` (k entries) and
/// superdiagonal `betas`: square `k x k` with `betas[..k-1]`, or, with `augmented`, the
/// `k x (k+1)` matrix whose last column holds `betas[k-1]`.
fn small_svd<T: Real>(
    alphas: &[T],
    betas: &[T],
    augmented: bool,
    matvecs: usize,
) -> Result<(T, Vec<T>, Vec<T>)> {
    let k = alphas.len();
    let cols = if augmented { k + 1 } else { k };
    let mut b = Mat::<T>::zeros(k, cols);
    for i in 0..k {
        b[(i, i)] = alphas[i];
        if i + 1 < cols {
            b[(i, i + 1)] = betas[i];
        }
    }
    // The bidiagonal factor is tiny (at most krylov_dim wide): no threads.
    let svd = thin_svd(b.as_ref(), Par::Seq).map_err(|_| LinalgError::NoConvergence {
        op: "leading_singular_triplet (bidiagonal SVD)",
        iterations: matvecs,
        residual: f64::NAN,
    })?;
    let sigma = svd.s[0];
    let p = (0..k).map(|i| svd.u[(i, 0)]).collect();
    let q = (0..cols).map(|i| svd.v[(i, 0)]).collect();
    Ok((sigma, p, q))
}

/// Computes the largest singular value of `a` (`nrows x ncols`) and its singular vectors.
///
/// Uses Lanczos bidiagonalisation: each step costs one product with `A` and one with `Aᵀ`,
/// so this is far cheaper than a full SVD when only the top pair is needed. A zero matrix
/// gives `σ = 0` with `u = e₀` and `v = e₀`.
///
/// Errors: empty or non-finite input, invalid options, or no convergence within
/// `max_restarts` restarts (only for matrices whose top two singular values are equal to
/// within the tolerance, where the top pair is not unique anyway).
pub fn leading_singular_triplet<T: Real>(
    a: MatRef<'_, T>,
    params: &LeadingSvd,
    par: Par,
) -> Result<SingularTriplet<T>> {
    leading_singular_triplet_from(a, None, params, par)
}

/// [`leading_singular_triplet`] started from a guess `v0` of the right singular vector
/// (length `ncols`; need not be normalized). A good guess, such as an atom's current
/// coefficients in K-SVD, converges in a few products; a zero or non-finite guess falls back
/// to the seeded random start.
pub fn leading_singular_triplet_from<T: Real>(
    a: MatRef<'_, T>,
    v0: Option<&[T]>,
    params: &LeadingSvd,
    par: Par,
) -> Result<SingularTriplet<T>> {
    params.validate()?;
    if let Some(v0) = v0
        && v0.len() != a.ncols()
    {
        return Err(LinalgError::InvalidParameter {
            name: "v0",
            value: format!("a vector of length {}", v0.len()),
            expected: "the start vector has one entry per column of the matrix",
        });
    }
    check_nonempty("leading_singular_triplet", a)?;
    check_finite("leading_singular_triplet", a)?;
    let (m, n) = (a.nrows(), a.ncols());
    let tol = params
        .tol
        .map(T::cast_f64)
        .unwrap_or_else(|| num_traits::Float::sqrt(T::epsilon()));
    let kmax = params.krylov_dim.min(m.min(n)).max(1);
    let fro = a.norm_l2();
    if fro == T::zero() {
        return Ok(zero_triplet(m, n));
    }
    // Lanczos coefficients below this are rounding noise of a matrix this size: the
    // threshold scales with ‖A‖, so tiny-valued matrices are handled like any other.
    let negligible = T::epsilon() * fro;

    let mut v = match v0 {
        Some(g) => {
            let nrm = norm(g);
            if nrm.is_finite() && nrm > T::zero() {
                g.iter().map(|&x| x / nrm).collect()
            } else {
                start_vector::<T>(n, params.seed)
            }
        }
        None => start_vector::<T>(n, params.seed),
    };
    let mut matvecs = 0;
    let mut last_residual = T::infinity();

    for restart in 0..=params.max_restarts {
        let mut vs: Vec<Vec<T>> = vec![v.clone()];
        let mut us: Vec<Vec<T>> = Vec::with_capacity(kmax);
        let mut alphas: Vec<T> = Vec::with_capacity(kmax);
        let mut betas: Vec<T> = Vec::with_capacity(kmax);
        let mut ritz: Option<Ritz<T>> = None;

        for j in 0..kmax {
            let mut u = vec![T::zero(); m];
            matvec(&mut u, a, &vs[j], false, par);
            matvecs += 1;
            if let (Some(up), Some(&b)) = (us.last(), betas.last()) {
                u.iter_mut().zip(up).for_each(|(x, &y)| *x -= b * y);
            }
            reorthogonalize(&mut u, &us);
            let alpha = norm(&u);
            if alpha <= negligible {
                if j == 0 {
                    // The start vector lies in A's null space (A is non-zero): try another.
                    break;
                }
                // A·v_{j+1} lies in span(U_j): Uᵀ·A·V = [B_j | β_j·e_j] holds exactly.
                ritz = Some(Ritz::exact(small_svd(&alphas, &betas, true, matvecs)?));
                break;
            }
            scale(&mut u, T::one() / alpha);
            alphas.push(alpha);

            let mut w = vec![T::zero(); n];
            matvec(&mut w, a, &u, true, par);
            w.iter_mut().zip(&vs[j]).for_each(|(x, &y)| *x -= alpha * y);
            us.push(u);
            reorthogonalize(&mut w, &vs);
            let beta = norm(&w);

            // A·V_k = U_k·B_k and Aᵀ·U_k = V_k·B_kᵀ + β·v_{k+1}·e_kᵀ, so the Ritz pair of the
            // square bidiagonal B_k has residual |β·p_k|.
            let k = j + 1;
            let (sigma, p, q) = small_svd(&alphas, &betas, false, matvecs)?;
            let rel = if sigma > T::zero() {
                num_traits::Float::abs(beta * p[k - 1]) / sigma
            } else {
                T::zero()
            };
            last_residual = rel;
            let beta_zero = beta <= negligible;
            if rel <= tol || beta_zero {
                ritz = Some(Ritz {
                    sigma,
                    p,
                    q,
                    rel,
                    exact: beta_zero,
                });
                break;
            }
            betas.push(beta);
            scale(&mut w, T::one() / beta);
            vs.push(w);
            if k == m {
                // U_k spans all of R^m, so A·v_{k+1} ∈ span(U_k): [B_k | β_k·e_k] is exact.
                ritz = Some(Ritz::exact(small_svd(&alphas, &betas, true, matvecs)?));
                break;
            }
            if k == kmax {
                ritz = Some(Ritz {
                    sigma,
                    p,
                    q,
                    rel,
                    exact: false,
                });
            }
        }

        let Some(Ritz {
            sigma,
            p,
            q,
            rel,
            exact,
        }) = ritz
        else {
            v = start_vector::<T>(n, params.seed.wrapping_add(restart as u64 + 1));
            continue;
        };
        let mut u = vec![T::zero(); m];
        for (pi, ui) in p.iter().zip(&us) {
            u.iter_mut().zip(ui).for_each(|(x, &y)| *x += *pi * y);
        }
        let mut vv = vec![T::zero(); n];
        for (qi, vi) in q.iter().zip(&vs) {
            vv.iter_mut().zip(vi).for_each(|(x, &y)| *x += *qi * y);
        }
        let nvv = norm(&vv);
        scale(&mut vv, T::one() / nvv);
        if rel <= tol || exact {
            let nu = norm(&u);
            scale(&mut u, T::one() / nu);
            fix_sign(&mut u, &mut vv);
            return Ok(SingularTriplet {
                sigma,
                u,
                v: vv,
                matvecs,
                residual: rel,
            });
        }
        // Restart from the best right Ritz vector: it already carries most of the answer.
        v = vv;
    }
    Err(LinalgError::NoConvergence {
        op: "leading_singular_triplet",
        iterations: matvecs,
        residual: last_residual.into_f64(),
    })
}

/// A thin SVD `A = U·diag(s)·Vᵀ` with `U` of shape `m x r`, `V` of shape `n x r`,
/// `r = min(m, n)`, and `s` sorted in non-increasing order.
#[derive(Debug, Clone)]
pub struct ThinSvd<T> {
    /// Left singular vectors, one per column.
    pub u: Mat<T>,
    /// Singular values, non-increasing.
    pub s: Vec<T>,
    /// Right singular vectors, one per column.
    pub v: Mat<T>,
}

/// Thin SVD of `a` through faer's divide-and-conquer SVD, using `par` for its threads.
pub fn thin_svd<T: Real>(a: MatRef<'_, T>, par: Par) -> Result<ThinSvd<T>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};

    check_nonempty("thin_svd", a)?;
    check_finite("thin_svd", a)?;
    let (m, n) = (a.nrows(), a.ncols());
    let r = m.min(n);
    let mut u = Mat::zeros(m, r);
    let mut v = Mat::zeros(n, r);
    let mut s = faer::diag::Diag::zeros(r);
    let thin = ComputeSvdVectors::Thin;
    let mut buf = MemBuffer::new(svd_scratch::<T>(m, n, thin, thin, par, Default::default()));
    svd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|_| LinalgError::NoConvergence {
        op: "thin_svd",
        iterations: 0,
        residual: f64::NAN,
    })?;
    Ok(ThinSvd {
        u,
        s: s.column_vector().iter().copied().collect(),
        v,
    })
}
