//! The floating-point element types dictum computes in: `f32` and `f64`.

use core::fmt::{Debug, Display};

/// A family of types indexed by precision (a backend's kernels for `f32` and for `f64`):
/// what [`Real`] picks from by its own type, without knowing what the family is.
pub trait ByPrecision {
    /// The member for element type `T`.
    type Member<T: 'static>: ?Sized;
}

mod sealed {
    use super::ByPrecision;

    /// What only dictum implements for its two element types.
    pub trait Sealed: Sized + 'static {
        /// The member of `F` for this type, out of the two.
        fn select<'a, F: ByPrecision>(
            f32: &'a F::Member<f32>,
            f64: &'a F::Member<f64>,
        ) -> &'a F::Member<Self>;
    }
}

/// The precision of a [`Real`] type, for dispatch on the type (kernels written for one
/// precision, file formats, a backend's capabilities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit IEEE floats (`f32`).
    F32,
    /// 64-bit IEEE floats (`f64`).
    F64,
}

impl Precision {
    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }
}

impl core::fmt::Display for Precision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
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
    /// The Rust name of the type, `"f32"` or `"f64"`, for messages.
    const NAME: &'static str;

    /// The precision, for dispatch on the type (never compare [`NAME`](Self::NAME)).
    const PRECISION: Precision;

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
    const PRECISION: Precision = Precision::F32;

    fn cast_f64(x: f64) -> Self {
        x as f32
    }

    fn into_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    const PRECISION: Precision = Precision::F64;

    fn cast_f64(x: f64) -> Self {
        x
    }

    fn into_f64(self) -> f64 {
        self
    }
}

impl sealed::Sealed for f32 {
    fn select<'a, F: ByPrecision>(
        f32: &'a F::Member<f32>,
        _: &'a F::Member<f64>,
    ) -> &'a F::Member<f32> {
        f32
    }
}

impl sealed::Sealed for f64 {
    fn select<'a, F: ByPrecision>(
        _: &'a F::Member<f32>,
        f64: &'a F::Member<f64>,
    ) -> &'a F::Member<f64> {
        f64
    }
}

/// The member of `F` for `T`.
pub(crate) fn select<'a, T: Real, F: ByPrecision>(
    f32: &'a F::Member<f32>,
    f64: &'a F::Member<f64>,
) -> &'a F::Member<T> {
    <T as sealed::Sealed>::select::<F>(f32, f64)
}
