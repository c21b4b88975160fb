//! AVX-512 forms of Batch-OMP's and Batch-ORMP's passes ([`crate::vector::new_direction`],
//! [`crate::vector::ormp_direction`]), written with intrinsics.
//!
//! The generic loops are left to LLVM's vectorizer, whose register allocation for them
//! changed from build to build (row pointers spilled, bounds checks per chunk, the lane
//! maxima folded one by one at the end of the pass, on the critical path of every step).
//! Here a chunk of the new direction stays in registers across the terms, the best score
//! (`|α|`, or ORMP's `α²/ν`) and where it is are tracked per lane on the way, so the next
//! step needs no search, and the lanes are folded as a tree.
//!
//! The arithmetic is the generic loops', operation for operation (multiply then subtract, in
//! the same order, no fused multiply-add), so both give bit-identical results; tests check
//! it.

use crate::vector::Terms;
use std::arch::x86_64::{
    __m512, __m512d, _CMP_EQ_OQ, _CMP_GT_OQ, _mm512_abs_pd, _mm512_abs_ps, _mm512_add_pd,
    _mm512_add_ps, _mm512_cmp_pd_mask, _mm512_cmp_ps_mask, _mm512_div_pd, _mm512_div_ps,
    _mm512_loadu_pd, _mm512_loadu_ps, _mm512_mask_mov_pd, _mm512_mask_mov_ps, _mm512_max_pd,
    _mm512_max_ps, _mm512_min_pd, _mm512_min_ps, _mm512_mul_pd, _mm512_mul_ps,
    _mm512_reduce_max_pd, _mm512_reduce_max_ps, _mm512_reduce_min_pd, _mm512_reduce_min_ps,
    _mm512_set1_pd, _mm512_set1_ps, _mm512_setr_pd, _mm512_setr_ps, _mm512_setzero_pd,
    _mm512_setzero_ps, _mm512_storeu_pd, _mm512_storeu_ps, _mm512_sub_pd, _mm512_sub_ps,
};

/// Whether this CPU runs the kernels of this module.
#[inline(always)]
pub(crate) fn available() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

/// Checks the slice lengths the kernels rely on and returns `m`, the atom count.
fn lengths<T>(
    u: &[T],
    base: &[T],
    rows: &[T],
    coef: &[T],
    from: Option<&[T]>,
    alpha: &[T],
) -> usize {
    let m = u.len();
    assert!(
        base.len() >= m
            && alpha.len() >= m
            && from.is_none_or(|f| f.len() >= m)
            && rows.len() >= coef.len() * m
    );
    m
}

macro_rules! direction_kernel {
    (
        $name:ident, $t:ty, $v:ty, $lanes:literal,
        load = $load:ident, store = $store:ident, set1 = $set1:ident, zero = $zero:ident,
        setr = $setr:ident, iota = [$($iota:literal),*],
        mul = $mul:ident, sub = $sub:ident, add = $add:ident, abs = $abs:ident,
        max = $max:ident, min = $min:ident, cmp = $cmp:ident, mov = $mov:ident,
        rmax = $rmax:ident, rmin = $rmin:ident
    ) => {
        /// [`crate::vector::new_direction`] for this type (its inputs in `terms`), with where
        /// the maximum is: returns
        /// `(max |α_i|, the first i holding it)`, `(0, 0)` when every `α_i` is zero.
        ///
        /// The correlations are read from `from` when given (the first step reads `Dᵀy` in
        /// place instead of copying it), else from `alpha`; they are written to `alpha`.
        ///
        /// # Safety
        /// The CPU must support AVX-512F ([`available`]).
        #[target_feature(enable = "avx512f")]
        pub(crate) unsafe fn $name(
            u: &mut [$t],
            terms: &Terms<'_, $t>,
            from: Option<&[$t]>,
            alpha: &mut [$t],
        ) -> ($t, usize) {
            let Terms { base, rows, coef, inv, z } = *terms;
            // Four vectors per chunk, four slots of maxima: eight measured the same for f64
            // and slower for f32, whose passes are short enough for the final fold of the
            // slots to count.
            const NV: usize = 4;
            const CHUNK: usize = NV * $lanes;
            let m = lengths(u, base, rows, coef, from, alpha);
            let s = coef.len();
            let full = m - m % CHUNK;
            let whole = m - m % $lanes;
            let (up, bp, rp, ap) = (u.as_mut_ptr(), base.as_ptr(), rows.as_ptr(), alpha.as_mut_ptr());
            let fp = from.map_or(ap.cast_const(), |f| f.as_ptr());
            let (vinv, vz) = ($set1(inv), $set1(z));
            let lane: $v = $setr($($iota),*);
            // Slot q of chunk c holds atoms c·CHUNK + q·lanes + lane: per slot the chunk of
            // its maximum is enough, one shared register per chunk.
            let mut mx = [$zero(); NV];
            let mut at = [$zero(); NV];
            // Vectors after the last whole chunk: one more slot, with full indices.
            let (mut mx_tail, mut at_tail) = ($zero(), $zero());
            // SAFETY (every pointer read and write below): the vectors touched start at
            // `i + q·lanes` with `i + (q + 1)·lanes <= whole <= m`, and `lengths` checked that
            // `base`, `alpha` (and `from`) hold `m` entries and `rows` holds `s` rows of `m`.
            macro_rules! pass {
                ($nv:expr, $i:expr, $track:expr) => {{
                    let i = $i;
                    let mut track = $track;
                    let mut acc: [$v; $nv] =
                        std::array::from_fn(|q| unsafe { $load(bp.add(i + q * $lanes)) });
                    for t in 0..s {
                        let c = $set1(coef[t]);
                        let r = unsafe { rp.add(t * m + i) };
                        for q in 0..$nv {
                            acc[q] = $sub(acc[q], $mul(c, unsafe { $load(r.add(q * $lanes)) }));
                        }
                    }
                    for q in 0..$nv {
                        let at_i = i + q * $lanes;
                        let v = $mul(acc[q], vinv);
                        unsafe { $store(up.add(at_i), v) };
                        let a = $sub(unsafe { $load(fp.add(at_i)) }, $mul(vz, v));
                        unsafe { $store(ap.add(at_i), a) };
                        track(q, $abs(a));
                    }
                }};
            }
            let mut i = 0;
            while i < full {
                let chunk = $set1((i / CHUNK) as $t);
                // A slot sees its atoms in increasing order, so the strict comparison keeps
                // the first of equal maxima.
                pass!(NV, i, |q: usize, a: $v| {
                    let gt = $cmp::<_CMP_GT_OQ>(a, mx[q]);
                    mx[q] = $mov(mx[q], gt, a);
                    at[q] = $mov(at[q], gt, chunk);
                });
                i += CHUNK;
            }
            while i < whole {
                let index = $add(lane, $set1(i as $t));
                pass!(1, i, |_: usize, a: $v| {
                    let gt = $cmp::<_CMP_GT_OQ>(a, mx_tail);
                    mx_tail = $mov(mx_tail, gt, a);
                    at_tail = $mov(at_tail, gt, index);
                });
                i += $lanes;
            }
            // The overall maximum, then the first index holding it: the smallest over the
            // slots whose maximum it is.
            let mut top = mx_tail;
            for q in 0..NV {
                top = $max(top, mx[q]);
            }
            let best = $rmax(top);
            let vbest = $set1(best);
            let none = $set1(<$t>::INFINITY);
            let mut first = none;
            for q in 0..NV {
                let index = $add($mul(at[q], $set1(CHUNK as $t)), $add(lane, $set1((q * $lanes) as $t)));
                first = $min(first, $mov(none, $cmp::<_CMP_EQ_OQ>(mx[q], vbest), index));
            }
            first = $min(first, $mov(none, $cmp::<_CMP_EQ_OQ>(mx_tail, vbest), at_tail));
            let first = $rmin(first);
            let (mut best, mut best_at) = if first.is_finite() { (best, first as usize) } else { (0.0, 0) };
            for i in whole..m {
                let mut v = base[i];
                for t in 0..s {
                    v -= coef[t] * rows[t * m + i];
                }
                let v = v * inv;
                u[i] = v;
                let a = from.map_or(alpha[i], |f| f[i]) - z * v;
                alpha[i] = a;
                let a = a.abs();
                if a > best {
                    (best, best_at) = (a, i);
                }
            }
            (best, best_at)
        }
    };
}

direction_kernel!(
    direction_f64,
    f64,
    __m512d,
    8,
    load = _mm512_loadu_pd,
    store = _mm512_storeu_pd,
    set1 = _mm512_set1_pd,
    zero = _mm512_setzero_pd,
    setr = _mm512_setr_pd,
    iota = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    mul = _mm512_mul_pd,
    sub = _mm512_sub_pd,
    add = _mm512_add_pd,
    abs = _mm512_abs_pd,
    max = _mm512_max_pd,
    min = _mm512_min_pd,
    cmp = _mm512_cmp_pd_mask,
    mov = _mm512_mask_mov_pd,
    rmax = _mm512_reduce_max_pd,
    rmin = _mm512_reduce_min_pd
);

direction_kernel!(
    direction_f32,
    f32,
    __m512,
    16,
    load = _mm512_loadu_ps,
    store = _mm512_storeu_ps,
    set1 = _mm512_set1_ps,
    zero = _mm512_setzero_ps,
    setr = _mm512_setr_ps,
    iota = [
        0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0
    ],
    mul = _mm512_mul_ps,
    sub = _mm512_sub_ps,
    add = _mm512_add_ps,
    abs = _mm512_abs_ps,
    max = _mm512_max_ps,
    min = _mm512_min_ps,
    cmp = _mm512_cmp_ps_mask,
    mov = _mm512_mask_mov_ps,
    rmax = _mm512_reduce_max_ps,
    rmin = _mm512_reduce_min_ps
);

macro_rules! ormp_kernel {
    (
        $name:ident, $t:ty, $v:ty, $lanes:literal,
        load = $load:ident, store = $store:ident, set1 = $set1:ident, zero = $zero:ident,
        setr = $setr:ident, iota = [$($iota:literal),*],
        mul = $mul:ident, sub = $sub:ident, add = $add:ident, div = $div:ident,
        max = $max:ident, min = $min:ident, cmp = $cmp:ident, mov = $mov:ident,
        rmax = $rmax:ident, rmin = $rmin:ident
    ) => {
        /// `direction::ormp_direction_tracked` for this type: the ORMP pass (`u`,
        /// `α −= z·u`, `ν −= u²`) with the next step's scores `α²/ν` (0 where `ν <= floor`)
        /// and where the best is: returns `(best score, the first i holding it)`, `(0, 0)`
        /// when all are zero. `α` and `ν` are read from `from` when given.
        ///
        /// # Safety
        /// The CPU must support AVX-512F ([`available`]).
        #[target_feature(enable = "avx512f")]
        pub(crate) unsafe fn $name(
            u: &mut [$t],
            terms: &Terms<'_, $t>,
            from: Option<(&[$t], &[$t])>,
            alpha: &mut [$t],
            nu: &mut [$t],
            floor: $t,
        ) -> ($t, usize) {
            let Terms { base, rows, coef, inv, z } = *terms;
            const NV: usize = 8;
            const CHUNK: usize = NV * $lanes;
            let m = lengths(u, base, rows, coef, from.map(|f| f.0), alpha);
            assert!(nu.len() >= m && from.is_none_or(|f| f.1.len() >= m));
            let s = coef.len();
            let full = m - m % CHUNK;
            let whole = m - m % $lanes;
            let (up, bp, rp, ap, np) =
                (u.as_mut_ptr(), base.as_ptr(), rows.as_ptr(), alpha.as_mut_ptr(), nu.as_mut_ptr());
            let (fa, fnu) = from.map_or((ap.cast_const(), np.cast_const()), |(a, n)| (a.as_ptr(), n.as_ptr()));
            let (vinv, vz, vfloor) = ($set1(inv), $set1(z), $set1(floor));
            let lane: $v = $setr($($iota),*);
            let mut mx = [$zero(); NV];
            let mut at = [$zero(); NV];
            let (mut mx_tail, mut at_tail) = ($zero(), $zero());
            // SAFETY (every pointer read and write below): the vectors touched start at
            // `i + q·lanes` with `i + (q + 1)·lanes <= whole <= m`, and the lengths were
            // checked above: `m` entries in `base`, `alpha`, `nu` (and `from`), `s` rows of `m`.
            macro_rules! pass {
                ($nv:expr, $i:expr, $track:expr) => {{
                    let i = $i;
                    let mut track = $track;
                    let mut acc: [$v; $nv] =
                        std::array::from_fn(|q| unsafe { $load(bp.add(i + q * $lanes)) });
                    for t in 0..s {
                        let c = $set1(coef[t]);
                        let r = unsafe { rp.add(t * m + i) };
                        for q in 0..$nv {
                            acc[q] = $sub(acc[q], $mul(c, unsafe { $load(r.add(q * $lanes)) }));
                        }
                    }
                    for q in 0..$nv {
                        let at_i = i + q * $lanes;
                        let v = $mul(acc[q], vinv);
                        unsafe { $store(up.add(at_i), v) };
                        let n = $sub(unsafe { $load(fnu.add(at_i)) }, $mul(v, v));
                        unsafe { $store(np.add(at_i), n) };
                        let a = $sub(unsafe { $load(fa.add(at_i)) }, $mul(vz, v));
                        unsafe { $store(ap.add(at_i), a) };
                        let live = $cmp::<_CMP_GT_OQ>(n, vfloor);
                        track(q, $mov($zero(), live, $div($mul(a, a), n)));
                    }
                }};
            }
            let mut i = 0;
            while i < full {
                let chunk = $set1((i / CHUNK) as $t);
                pass!(NV, i, |q: usize, a: $v| {
                    let gt = $cmp::<_CMP_GT_OQ>(a, mx[q]);
                    mx[q] = $mov(mx[q], gt, a);
                    at[q] = $mov(at[q], gt, chunk);
                });
                i += CHUNK;
            }
            while i < whole {
                let index = $add(lane, $set1(i as $t));
                pass!(1, i, |_: usize, a: $v| {
                    let gt = $cmp::<_CMP_GT_OQ>(a, mx_tail);
                    mx_tail = $mov(mx_tail, gt, a);
                    at_tail = $mov(at_tail, gt, index);
                });
                i += $lanes;
            }
            let mut top = mx_tail;
            for q in 0..NV {
                top = $max(top, mx[q]);
            }
            let best = $rmax(top);
            let vbest = $set1(best);
            let none = $set1(<$t>::INFINITY);
            let mut first = none;
            for q in 0..NV {
                let index = $add($mul(at[q], $set1(CHUNK as $t)), $add(lane, $set1((q * $lanes) as $t)));
                first = $min(first, $mov(none, $cmp::<_CMP_EQ_OQ>(mx[q], vbest), index));
            }
            first = $min(first, $mov(none, $cmp::<_CMP_EQ_OQ>(mx_tail, vbest), at_tail));
            let first = $rmin(first);
            let (mut best, mut best_at) = if first.is_finite() { (best, first as usize) } else { (0.0, 0) };
            for i in whole..m {
                let mut v = base[i];
                for t in 0..s {
                    v -= coef[t] * rows[t * m + i];
                }
                let v = v * inv;
                u[i] = v;
                let n = from.map_or(nu[i], |f| f.1[i]) - v * v;
                nu[i] = n;
                let a = from.map_or(alpha[i], |f| f.0[i]) - z * v;
                alpha[i] = a;
                let sc = if n > floor { a * a / n } else { 0.0 };
                if sc > best {
                    (best, best_at) = (sc, i);
                }
            }
            if best > 0.0 { (best, best_at) } else { (0.0, 0) }
        }
    };
}

ormp_kernel!(
    ormp_direction_f64,
    f64,
    __m512d,
    8,
    load = _mm512_loadu_pd,
    store = _mm512_storeu_pd,
    set1 = _mm512_set1_pd,
    zero = _mm512_setzero_pd,
    setr = _mm512_setr_pd,
    iota = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    mul = _mm512_mul_pd,
    sub = _mm512_sub_pd,
    add = _mm512_add_pd,
    div = _mm512_div_pd,
    max = _mm512_max_pd,
    min = _mm512_min_pd,
    cmp = _mm512_cmp_pd_mask,
    mov = _mm512_mask_mov_pd,
    rmax = _mm512_reduce_max_pd,
    rmin = _mm512_reduce_min_pd
);

ormp_kernel!(
    ormp_direction_f32,
    f32,
    __m512,
    16,
    load = _mm512_loadu_ps,
    store = _mm512_storeu_ps,
    set1 = _mm512_set1_ps,
    zero = _mm512_setzero_ps,
    setr = _mm512_setr_ps,
    iota = [
        0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0
    ],
    mul = _mm512_mul_ps,
    sub = _mm512_sub_ps,
    add = _mm512_add_ps,
    div = _mm512_div_ps,
    max = _mm512_max_ps,
    min = _mm512_min_ps,
    cmp = _mm512_cmp_ps_mask,
    mov = _mm512_mask_mov_ps,
    rmax = _mm512_reduce_max_ps,
    rmin = _mm512_reduce_min_ps
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{first_abs_equal, new_direction};

    /// A deterministic pseudo-random sequence in [-1, 1), with exact ties sprinkled in.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if i % 29 == 5 {
                    0.5
                } else {
                    (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
                }
            })
            .collect()
    }

    macro_rules! matches_generic {
        ($name:ident, $t:ty, $kernel:ident) => {
            #[test]
            fn $name() {
                if !available() {
                    eprintln!("skipped: this CPU has no AVX-512F");
                    return;
                }
                for m in [1usize, 7, 8, 9, 16, 63, 64, 65, 129, 256, 300] {
                    for s in [0usize, 1, 2, 5, 9] {
                        for fresh in [false, true] {
                            let seed = (m * 31 + s * 7 + fresh as usize) as u64;
                            let f = |n, k| {
                                values(n, seed + k)
                                    .into_iter()
                                    .map(|v| v as $t)
                                    .collect::<Vec<$t>>()
                            };
                            let (base, rows, coef, a0, start) =
                                (f(m, 1), f(s * m, 2), f(s, 3), f(m, 4), f(m, 5));
                            let (inv, z) = (1.25 as $t, 0.375 as $t);
                            // The generic passes: copy, update, then search.
                            let (mut u1, mut a1) =
                                (vec![0.0; m], if fresh { a0.clone() } else { start.clone() });
                            let mx1 = with_simd_generic(|| {
                                new_direction(&mut u1, &base, &rows, &coef, inv, z, &mut a1)
                            });
                            let at1 = if mx1 > 0.0 {
                                first_abs_equal(&a1, mx1).unwrap()
                            } else {
                                0
                            };
                            let (mut u2, mut a2) = (vec![0.0; m], start.clone());
                            let from = fresh.then_some(&a0[..]);
                            let terms = Terms {
                                base: &base,
                                rows: &rows,
                                coef: &coef,
                                inv,
                                z,
                            };
                            // SAFETY: AVX-512F was detected above.
                            let (mx2, at2) = unsafe { $kernel(&mut u2, &terms, from, &mut a2) };
                            let bits = |x: &[$t]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                            assert_eq!(bits(&u1), bits(&u2), "u, m={m} s={s}");
                            assert_eq!(bits(&a1), bits(&a2), "alpha, m={m} s={s}");
                            assert_eq!(
                                (mx1.to_bits(), at1),
                                (mx2.to_bits(), at2),
                                "max, m={m} s={s}"
                            );
                        }
                    }
                }
            }
        };
    }

    /// The generic loop as the AVX-512 build of the crate compiles it.
    fn with_simd_generic<R>(f: impl FnOnce() -> R) -> R {
        crate::vector::with_simd(f)
    }

    macro_rules! ormp_matches_generic {
        ($name:ident, $t:ty, $kernel:ident) => {
            #[test]
            fn $name() {
                use crate::vector::{argmax_abs, ormp_direction, ormp_scores};
                if !available() {
                    eprintln!("skipped: this CPU has no AVX-512F");
                    return;
                }
                for m in [1usize, 8, 9, 63, 64, 65, 129, 256, 300] {
                    for s in [0usize, 1, 5, 9] {
                        for fresh in [false, true] {
                            let seed = (m * 37 + s * 5 + fresh as usize) as u64;
                            let f = |n, k| {
                                values(n, seed + k)
                                    .into_iter()
                                    .map(|v| v as $t)
                                    .collect::<Vec<$t>>()
                            };
                            // ν between 0.01 and 1: some atoms fall under the floor.
                            let g = |n, k| {
                                f(n, k)
                                    .into_iter()
                                    .map(|v| 0.5 + 0.5 * v)
                                    .collect::<Vec<$t>>()
                            };
                            let (base, rows, coef) = (f(m, 1), f(s * m, 2), f(s, 3));
                            let (a0, n0, a_start, n_start) = (f(m, 4), g(m, 5), f(m, 6), g(m, 7));
                            let (inv, z, floor) = (0.75 as $t, 0.375 as $t, 0.05 as $t);
                            let terms = Terms {
                                base: &base,
                                rows: &rows,
                                coef: &coef,
                                inv,
                                z,
                            };
                            let (mut u1, mut a1, mut n1) = if fresh {
                                (vec![0.0; m], a0.clone(), n0.clone())
                            } else {
                                (vec![0.0; m], a_start.clone(), n_start.clone())
                            };
                            let mut score = vec![0.0; m];
                            let (at1, best1) = with_simd_generic(|| {
                                ormp_direction(&mut u1, &terms, &mut a1, &mut n1);
                                ormp_scores(&mut score, &a1, &n1, floor);
                                argmax_abs(&score)
                            });
                            let (mut u2, mut a2, mut n2) =
                                (vec![0.0; m], a_start.clone(), n_start.clone());
                            let from = fresh.then_some((&a0[..], &n0[..]));
                            // SAFETY: AVX-512F was detected above.
                            let (best2, at2) =
                                unsafe { $kernel(&mut u2, &terms, from, &mut a2, &mut n2, floor) };
                            let bits = |x: &[$t]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                            assert_eq!(bits(&u1), bits(&u2), "u, m={m} s={s}");
                            assert_eq!(bits(&a1), bits(&a2), "alpha, m={m} s={s}");
                            assert_eq!(bits(&n1), bits(&n2), "nu, m={m} s={s}");
                            assert_eq!(
                                (best1.to_bits(), at1),
                                (best2.to_bits(), at2),
                                "best, m={m} s={s}"
                            );
                        }
                    }
                }
            }
        };
    }

    ormp_matches_generic!(
        f64_ormp_kernel_matches_the_generic_pass,
        f64,
        ormp_direction_f64
    );
    ormp_matches_generic!(
        f32_ormp_kernel_matches_the_generic_pass,
        f32,
        ormp_direction_f32
    );

    matches_generic!(f64_kernel_matches_the_generic_pass, f64, direction_f64);
    matches_generic!(f32_kernel_matches_the_generic_pass, f32, direction_f32);
}
