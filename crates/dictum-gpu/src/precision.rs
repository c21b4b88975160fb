//! The precisions the kernels run in: f32 everywhere, f64 where the adapter has
//! `SHADER_F64` (the same shaders with their element type replaced).

use dictum_linalg::Real;

/// An element type the device kernels take.
pub(crate) trait DeviceReal: Real + bytemuck::Pod {
    /// Whether this is f64 (the shaders' `f32` becomes `f64`).
    const F64: bool;
}

impl DeviceReal for f32 {
    const F64: bool = false;
}

impl DeviceReal for f64 {
    const F64: bool = true;
}

/// Bytes of `n` elements of `T`.
pub(crate) fn bytes<T>(n: usize) -> u64 {
    (n * std::mem::size_of::<T>()) as u64
}
