//! Dense vector kernels of the coding inner loops, as plain slice loops.
//!
//! LLVM vectorizes these loops. The default x86-64 target only allows SSE2, so `with_simd`
//! (from `dictum_linalg::simd`) runs a whole block of work inside a function compiled for
//! AVX-512 or AVX2+FMA when the CPU has them (checked at run time); every helper here is
//! `#[inline(always)]` so that it is compiled into that function. Where hand-written AVX-512
//! forms exist (module `avx512`), module `direction` picks between them and these loops,
//! which remain the reference they are tested against.

use dictum_linalg::{MatRef, Real};

pub(crate) use dictum_linalg::simd::with_simd;

/// Index and value of the entry of largest magnitude (the first on ties; `(0, 0)` when `x`
/// is empty or all zero).
#[inline(always)]
pub(crate) fn argmax_abs<T: Real>(x: &[T]) -> (usize, T) {
    let (i, v) = arg_best(x, T::zero(), |v| v.abs(), |a, b| a > b);
    if v == T::zero() { (0, v) } else { (i, v) }
}

/// Index and value of the smallest entry (the first on ties; `(0, +inf)` when empty).
#[inline(always)]
pub(crate) fn argmin<T: Real>(x: &[T]) -> (usize, T) {
    arg_best(x, T::infinity(), |v| v, |a, b| a < b)
}

/// The first index maximizing `key` under `better`: one vectorized pass for the best value,
/// then a second branch-free pass for the first index holding it. (Tracking the index per
/// lane in the first pass vectorized badly for `f32` under AVX-512: LLVM shuffled lanes every
/// step.)
#[inline(always)]
fn arg_best<T: Real>(
    x: &[T],
    init: T,
    key: impl Fn(T) -> T,
    better: impl Fn(T, T) -> bool,
) -> (usize, T) {
    const LANES: usize = 16;
    let mut val = [init; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            let v = key(c[l]);
            val[l] = if better(v, val[l]) { v } else { val[l] };
        }
    }
    let mut best = init;
    for v in val.into_iter().chain(tail.iter().map(|&v| key(v))) {
        best = if better(v, best) { v } else { best };
    }
    if !better(best, init) {
        return (0, init);
    }
    match first_index_of(x, best, key) {
        Some(at) => (at, best),
        None => (0, init),
    }
}

/// The first `i` with `|x_i| == best`, if any.
#[inline(always)]
pub(crate) fn first_abs_equal<T: Real>(x: &[T], best: T) -> Option<usize> {
    first_index_of(x, best, |v| v.abs())
}

/// The first `i` with `key(x_i) == best`, if any.
#[inline(always)]
fn first_index_of<T: Real>(x: &[T], best: T, key: impl Fn(T) -> T) -> Option<usize> {
    const LANES: usize = 16;
    // The first index holding `best`, by a second branch-free pass (a min over float
    // indices). An early-exit scan mispredicted once per call and cost more than the max
    // pass itself. Float indices are exact below 2^24 (f32).
    if x.len() >= 1 << 24 {
        return x.iter().position(|&v| key(v) == best);
    }
    let mut first = [T::infinity(); LANES];
    let mut at = [T::zero(); LANES];
    for (l, v) in at.iter_mut().enumerate() {
        *v = T::cast_usize(l);
    }
    let step = T::cast_usize(LANES);
    for c in x.chunks_exact(LANES) {
        for l in 0..LANES {
            let hit = if key(c[l]) == best {
                at[l]
            } else {
                T::infinity()
            };
            first[l] = if hit < first[l] { hit } else { first[l] };
            at[l] += step;
        }
    }
    let tail = x.chunks_exact(LANES).remainder();
    let tail_start = x.len() - tail.len();
    let mut best_at = tail
        .iter()
        .position(|&v| key(v) == best)
        .map_or(T::infinity(), |i| T::cast_usize(tail_start + i));
    for f in first {
        best_at = if f < best_at { f } else { best_at };
    }
    best_at.is_finite().then(|| best_at.into_f64() as usize)
}

/// A new orthonormal direction and the residual correlations it leaves, in one pass over `m`:
/// `u = (base − Σ_t coef[t]·rows[t]) · inv`, then `alpha −= z·u`; returns the largest
/// `|alpha_i|` after the update. `rows` holds `coef.len()` rows of length `u.len()`.
///
/// One pass instead of three (combination, scaling, update) plus the next step's max pass:
/// each chunk of `u` stays in registers across the terms. This generic form leaves where the
/// maximum is to [`first_abs_equal`] (tracking it here doubled the time of LLVM's code);
/// `direction::new_direction_tracked`'s AVX-512 kernel tracks it.
#[inline(always)]
pub(crate) fn new_direction<T: Real>(
    u: &mut [T],
    base: &[T],
    rows: &[T],
    coef: &[T],
    inv: T,
    z: T,
    alpha: &mut [T],
) -> T {
    const LANES: usize = 16;
    let m = u.len();
    let (base, alpha) = (&base[..m], &mut alpha[..m]);
    let s = coef.len();
    let rows = &rows[..s * m];
    let mut mx = [T::zero(); LANES];
    let full = m - m % LANES;
    let mut i = 0;
    while i < full {
        let mut acc = [T::zero(); LANES];
        acc.copy_from_slice(&base[i..i + LANES]);
        for (row, &c) in rows.chunks_exact(m).zip(coef) {
            let r = &row[i..i + LANES];
            for l in 0..LANES {
                acc[l] -= c * r[l];
            }
        }
        let (uc, ac) = (&mut u[i..i + LANES], &mut alpha[i..i + LANES]);
        for l in 0..LANES {
            let v = acc[l] * inv;
            uc[l] = v;
            let a = ac[l] - z * v;
            ac[l] = a;
            let a = a.abs();
            mx[l] = if a > mx[l] { a } else { mx[l] };
        }
        i += LANES;
    }
    let mut best = T::zero();
    for v in mx {
        best = if v > best { v } else { best };
    }
    for i in full..m {
        let mut v = base[i];
        for (t, &c) in coef.iter().enumerate() {
            v -= c * rows[t * m + i];
        }
        let v = v * inv;
        u[i] = v;
        let a = alpha[i] - z * v;
        alpha[i] = a;
        let a = a.abs();
        best = if a > best { a } else { best };
    }
    best
}

/// The inputs of [`new_direction`]: `u = (base − Σ_t coef[t]·rows[t]) · inv`, then
/// `alpha −= z·u`; `rows` holds `coef.len()` rows of length `m`.
#[derive(Clone, Copy)]
pub(crate) struct Terms<'a, T> {
    pub(crate) base: &'a [T],
    pub(crate) rows: &'a [T],
    pub(crate) coef: &'a [T],
    pub(crate) inv: T,
    pub(crate) z: T,
}

/// Batch-ORMP's pass, as [`new_direction`] with `ν −= u²` beside `α −= z·u`:
/// `u = (base − Σ_t coef[t]·rows[t]) · inv`, `alpha −= z·u`, `nu −= u·u`, each entry's terms
/// subtracted in order (the order module `avx512`'s ORMP kernel keeps).
#[inline(always)]
pub(crate) fn ormp_direction<T: Real>(
    u: &mut [T],
    terms: &Terms<'_, T>,
    alpha: &mut [T],
    nu: &mut [T],
) {
    const LANES: usize = 16;
    let Terms {
        base,
        rows,
        coef,
        inv,
        z,
    } = *terms;
    let m = u.len();
    let (base, alpha, nu) = (&base[..m], &mut alpha[..m], &mut nu[..m]);
    let rows = &rows[..coef.len() * m];
    let mut i = 0;
    while i < m {
        let w = LANES.min(m - i);
        let mut acc = [T::zero(); LANES];
        acc[..w].copy_from_slice(&base[i..i + w]);
        for (row, &c) in rows.chunks_exact(m).zip(coef) {
            let r = &row[i..i + w];
            for l in 0..w {
                acc[l] -= c * r[l];
            }
        }
        for l in 0..w {
            let v = acc[l] * inv;
            u[i + l] = v;
            nu[i + l] -= v * v;
            alpha[i + l] -= z * v;
        }
        i += w;
    }
}

/// ORMP's selection scores: `α_i² / ν_i` where `ν_i > floor`, else 0.
#[inline(always)]
pub(crate) fn ormp_scores<T: Real>(score: &mut [T], alpha: &[T], nu: &[T], floor: T) {
    for ((sc, &a), &n) in score.iter_mut().zip(alpha).zip(nu) {
        *sc = if n > floor { a * a / n } else { T::zero() };
    }
}

/// Asks the CPU to bring `x` into the first-level cache. A step's Gram column is picked from
/// a matrix that lives in the second level; fetched while the step's scalar work runs, it is
/// there when the pass reads it.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let bytes = std::mem::size_of_val(x);
        let p = x.as_ptr().cast::<i8>();
        for off in (0..bytes).step_by(64) {
            // SAFETY: a prefetch reads nothing and cannot fault; the address is inside `x`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Largest `|x_i|` (0 for an empty slice).
#[inline(always)]
pub(crate) fn max_abs<T: Real>(x: &[T]) -> T {
    const LANES: usize = 8;
    let mut acc = [T::zero(); LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            let a = c[l].abs();
            acc[l] = if a > acc[l] { a } else { acc[l] };
        }
    }
    let mut best = T::zero();
    for &a in acc.iter() {
        best = if a > best { a } else { best };
    }
    for &v in tail {
        let a = v.abs();
        best = if a > best { a } else { best };
    }
    best
}

/// Index and value of the largest entry if it is positive, else `(0, 0)`.
#[inline(always)]
pub(crate) fn argmax_pos<T: Real>(x: &[T]) -> (usize, T) {
    let mut best = T::zero();
    let mut idx = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > best {
            best = v;
            idx = i;
        }
    }
    (idx, best)
}

/// `Σ a_i b_i`.
#[inline(always)]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    const LANES: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [T::zero(); LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = T::zero();
    for v in acc {
        s += v;
    }
    for (&x, &y) in ta.iter().zip(tb) {
        s += x * y;
    }
    s
}

/// `out = base − Σ_t coef[t] · cols[idx[t]]`.
#[inline(always)]
pub(crate) fn sub_combination<T: Real>(
    out: &mut [T],
    base: &[T],
    cols: &Columns<'_, T>,
    idx: &[u32],
    coef: &[T],
) {
    out.copy_from_slice(base);
    update_terms::<T, true>(out, coef, |t| cols.col(idx[t] as usize));
}

/// `out −= Σ_t coef[t] · col(t)` (`SUB`) or `out += Σ_t coef[t] · col(t)`, four terms per pass
/// over `out` so that `out` is loaded and stored once per four terms.
#[inline(always)]
fn update_terms<'c, T: Real + 'c, const SUB: bool>(
    out: &mut [T],
    coef: &[T],
    col: impl Fn(usize) -> &'c [T],
) {
    let n = out.len();
    let mut t = 0;
    while t + 4 <= coef.len() {
        let (c0, c1, c2, c3) = (coef[t], coef[t + 1], coef[t + 2], coef[t + 3]);
        let (g0, g1, g2, g3) = (
            &col(t)[..n],
            &col(t + 1)[..n],
            &col(t + 2)[..n],
            &col(t + 3)[..n],
        );
        for i in 0..n {
            let v = (c0 * g0[i] + c1 * g1[i]) + (c2 * g2[i] + c3 * g3[i]);
            if SUB {
                out[i] -= v;
            } else {
                out[i] += v;
            }
        }
        t += 4;
    }
    while t < coef.len() {
        let (c, g) = (coef[t], &col(t)[..n]);
        for i in 0..n {
            if SUB {
                out[i] -= c * g[i];
            } else {
                out[i] += c * g[i];
            }
        }
        t += 1;
    }
}

/// `y += a · x`.
#[inline(always)]
pub(crate) fn axpy<T: Real>(y: &mut [T], a: T, x: &[T]) {
    let n = y.len().min(x.len());
    let (y, x) = (&mut y[..n], &x[..n]);
    for i in 0..n {
        y[i] += a * x[i];
    }
}

/// Contiguous columns of a column-major matrix (a Gram matrix, a dictionary, a block of
/// correlations), borrowed one slice per column when the view's columns are contiguous,
/// else copied once.
#[derive(Debug)]
pub(crate) enum Columns<'a, T> {
    /// One slice per column, each exactly the column.
    Borrowed(Vec<&'a [T]>),
    /// A column-major copy with `nrows` rows per column.
    Owned { data: Vec<T>, nrows: usize },
}

impl<'a, T: Real> Columns<'a, T> {
    /// Borrows the columns of `a` when they are contiguous, else copies them.
    pub(crate) fn new(a: MatRef<'a, T>) -> Self {
        let cols: Option<Vec<&'a [T]>> = (0..a.ncols())
            .map(|j| a.col(j).try_as_col_major().map(|c| c.as_slice()))
            .collect();
        match cols {
            Some(cols) => Self::Borrowed(cols),
            None => {
                let nrows = a.nrows();
                let mut data = Vec::with_capacity(nrows * a.ncols());
                for j in 0..a.ncols() {
                    data.extend(a.col(j).iter().copied());
                }
                Self::Owned { data, nrows }
            }
        }
    }

    /// Column `j`.
    #[inline(always)]
    pub(crate) fn col(&self, j: usize) -> &[T] {
        match self {
            Self::Borrowed(cols) => cols[j],
            Self::Owned { data, nrows } => &data[j * nrows..(j + 1) * nrows],
        }
    }
}

/// `out = Σ_t coef[t] · cols[idx[t]]`.
#[inline(always)]
pub(crate) fn combination<T: Real>(out: &mut [T], cols: &Columns<'_, T>, idx: &[u32], coef: &[T]) {
    out.iter_mut().for_each(|v| *v = T::zero());
    update_terms::<T, false>(out, coef, |t| cols.col(idx[t] as usize));
}
