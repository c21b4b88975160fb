//! Batch-OMP's and Batch-ORMP's fused passes with where the best atom is: the AVX-512
//! kernels of [`crate::avx512`] where the CPU has them, else the generic loops of
//! [`crate::vector`] composed to the same results (bit for bit; tested).

use dictum_linalg::{Precision, Real};

use crate::vector::{
    Terms, argmax_abs, first_abs_equal, new_direction, ormp_direction, ormp_scores,
};

/// Whether [`new_direction_tracked`] runs its fast kernel here for `m` atoms of `T` (AVX-512F;
/// float indices of the tracked maximum are exact below 2^24).
#[inline(always)]
pub(crate) fn tracked_is_fast<T: Real>(m: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::avx512::available()
            && m < 1 << 24
            && matches!(T::PRECISION, Precision::F64 | Precision::F32)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = m;
        false
    }
}

/// [`new_direction`] that also says where the maximum is, and reads the correlations from
/// `from` when given (else from `alpha`). Returns `(max |alpha_i|, the first i holding it)`,
/// `(0, 0)` when all are zero.
///
/// It runs [`crate::avx512`]'s kernels where [`tracked_is_fast`]; elsewhere it composes the
/// generic passes (the reference the kernels are tested against).
#[inline(always)]
pub(crate) fn new_direction_tracked<T: Real>(
    u: &mut [T],
    terms: &Terms<'_, T>,
    from: Option<&[T]>,
    alpha: &mut [T],
) -> (T, usize) {
    let m = u.len();
    #[cfg(target_arch = "x86_64")]
    if tracked_is_fast::<T>(m) {
        use bytemuck::{cast_slice, cast_slice_mut};
        // Each arm casts to the type it names, which `T` is (a cast to another type would
        // fail on the element size, never reinterpret).
        if T::PRECISION == Precision::F64 {
            let cast = as_type::<T, f64>(terms);
            // SAFETY: `tracked_is_fast` detected AVX-512F.
            let (mx, at) = unsafe {
                crate::avx512::direction_f64(
                    cast_slice_mut(u),
                    &cast,
                    from.map(cast_slice),
                    cast_slice_mut(alpha),
                )
            };
            return (T::cast_f64(mx), at);
        }
        let cast = as_type::<T, f32>(terms);
        // SAFETY: `tracked_is_fast` detected AVX-512F.
        let (mx, at) = unsafe {
            crate::avx512::direction_f32(
                cast_slice_mut(u),
                &cast,
                from.map(cast_slice),
                cast_slice_mut(alpha),
            )
        };
        return (T::cast_f64(f64::from(mx)), at);
    }
    if let Some(f) = from {
        alpha[..m].copy_from_slice(&f[..m]);
    }
    let Terms {
        base,
        rows,
        coef,
        inv,
        z,
    } = *terms;
    let mx = new_direction(u, base, rows, coef, inv, z, alpha);
    match first_abs_equal(&alpha[..m], mx) {
        Some(at) if mx > T::zero() => (mx, at),
        _ => (T::zero(), 0),
    }
}

/// [`ormp_direction`] that also scores every atom for the next step ([`ormp_scores`] with
/// `floor`) and says where the best is: returns `(best score, the first i holding it)`,
/// `(0, 0)` when all are zero. `α` and `ν` are read from `from` when given (`α0` and the
/// Gram diagonal at the first step), else from `alpha` and `nu`; `score` is scratch.
///
/// It runs [`crate::avx512`]'s kernels where [`tracked_is_fast`]; elsewhere it composes the
/// generic passes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn ormp_direction_tracked<T: Real>(
    u: &mut [T],
    terms: &Terms<'_, T>,
    from: Option<(&[T], &[T])>,
    alpha: &mut [T],
    nu: &mut [T],
    floor: T,
    score: &mut [T],
) -> (T, usize) {
    let m = u.len();
    #[cfg(target_arch = "x86_64")]
    if tracked_is_fast::<T>(m) {
        use bytemuck::{cast_slice, cast_slice_mut};
        // Each arm casts to the type it names, which `T` is.
        if T::PRECISION == Precision::F64 {
            let cast = as_type::<T, f64>(terms);
            // SAFETY: `tracked_is_fast` detected AVX-512F.
            let (best, at) = unsafe {
                crate::avx512::ormp_direction_f64(
                    cast_slice_mut(u),
                    &cast,
                    from.map(|(a, n)| (cast_slice(a), cast_slice(n))),
                    cast_slice_mut(alpha),
                    cast_slice_mut(nu),
                    floor.into_f64(),
                )
            };
            return (T::cast_f64(best), at);
        }
        let cast = as_type::<T, f32>(terms);
        // SAFETY: `tracked_is_fast` detected AVX-512F.
        let (best, at) = unsafe {
            crate::avx512::ormp_direction_f32(
                cast_slice_mut(u),
                &cast,
                from.map(|(a, n)| (cast_slice(a), cast_slice(n))),
                cast_slice_mut(alpha),
                cast_slice_mut(nu),
                floor.into_f64() as f32,
            )
        };
        return (T::cast_f64(f64::from(best)), at);
    }
    if let Some((a, n)) = from {
        alpha[..m].copy_from_slice(&a[..m]);
        nu[..m].copy_from_slice(&n[..m]);
    }
    ormp_direction(u, terms, alpha, nu);
    ormp_scores(&mut score[..m], &alpha[..m], &nu[..m], floor);
    let (at, best) = argmax_abs(&score[..m]);
    (best, at)
}

/// The same terms seen as `U`, which must be `T` itself (the kernels of [`crate::avx512`] take
/// concrete types): a cast to another type fails on the element size rather than
/// reinterpreting.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn as_type<'a, T: Real, U: Real>(terms: &Terms<'a, T>) -> Terms<'a, U> {
    use bytemuck::cast_slice;
    Terms {
        base: cast_slice(terms.base),
        rows: cast_slice(terms.rows),
        coef: cast_slice(terms.coef),
        inv: U::cast_f64(terms.inv.into_f64()),
        z: U::cast_f64(terms.z.into_f64()),
    }
}
