//! Run-time CPU-feature dispatch for generic kernels.
//!
//! Plain slice loops vectorize well, but the default x86-64 target only allows SSE2.
//! [`with_simd`] runs a closure inside a function compiled for AVX-512 or AVX2+FMA when the
//! CPU has them (checked at run time, once per call); helpers the closure calls should be
//! `#[inline(always)]` so that they are compiled into that function. faer's own kernels
//! dispatch by themselves and need none of this.

/// Runs `f` compiled for the best instruction set the CPU supports.
/// Helpers inlined into `f` are compiled for AVX-512 (F, VL, DQ) + FMA or AVX2 + FMA when
/// available; other targets run `f` as is.
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("fma")
        {
            // SAFETY: every feature the function is compiled for was detected just above.
            return unsafe { with_avx512(f) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: both features were detected on this CPU just above.
            return unsafe { with_avx2_fma(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2_fma<R>(f: impl FnOnce() -> R) -> R {
    f()
}
