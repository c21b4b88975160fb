//! Column norms on the device (`kernels/column_norms.wgsl`).

use dictum_linalg::backend::{Declined, Input};

use crate::device::Gpu;
use crate::dispatch::{self, wrapped};
use crate::gemm::operand;
use crate::pipelines::COLUMN_NORMS;
use crate::precision::{DeviceReal, bytes};

/// The shader's `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    lda: u32,
    pad: u32,
}

/// `dst[j] = ‖a_j‖₂`.
pub(crate) fn column_norms<T: DeviceReal>(
    gpu: &Gpu,
    dst: &mut [T],
    a: Input<'_, T>,
) -> Result<(), Declined> {
    let view = a.view();
    let (rows, cols) = (view.nrows(), view.ncols());
    if cols == 0 {
        return Ok(());
    }
    if let Some(reason) = gpu.mode.declines(2.0 * rows as f64 * cols as f64) {
        return Err(Declined::new(reason));
    }
    if bytes::<T>(cols) > gpu.max_binding {
        return Err(Declined::new("too many columns for one binding of norms"));
    }
    let a_dev = operand(gpu, a, "A")?;
    let params = Params {
        rows: rows as u32,
        cols: cols as u32,
        lda: rows as u32,
        pad: 0,
    };
    // One workgroup per column, x first (the shader numbers columns x + y·65535).
    let (x, y) = wrapped(cols);
    let groups = [x, y, 1];
    dispatch::run(
        gpu,
        COLUMN_NORMS,
        &params,
        &[a_dev.buffer()],
        cols,
        groups,
        |src| dst.copy_from_slice(src),
    )
}
