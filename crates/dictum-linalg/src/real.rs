//! The floating-point element types dictum computes in: `f32` and `f64`.

use core::fmt::{Debug, Display};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A real floating-point scalar: implemented for `f32` and `f64` only.
///
/// It joins what faer's kernels need ([`faer::traits::RealField`]), ordinary float
/// arithmetic ([`num_traits::Float`]) and plain-old-data casting ([`bytemuck::Pod`], used to
/// view file bytes as numbers without copying). The trait is sealed: dictum's kernels and file
/// formats are written and tested for exactly these two types.
pub trait Real:
    faer::traits::RealField
    + num_traits::Float
    + bytemuck::Pod
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + sealed::Sealed
    + 'static
{
    /// The Rust name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn cast_f64(x: f64) -> Self;

    /// Converts to `f64` exactly.
    fn into_f64(self) -> f64;

    /// Converts from `usize` (rounded when above 2^24 for `f32`, 2^53 for `f64`).
    fn cast_usize(n: usize) -> Self {
        Self::cast_f64(n as f64)
    }
}

impl Real for f32 {
    const NAME: &'static str = "f32";

    fn cast_f64(x: f64) -> Self {
        x as f32
    }

    fn into_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";

    fn cast_f64(x: f64) -> Self {
        x
    }

    fn into_f64(self) -> f64 {
        self
    }
}
