//! Sums of outer products of sparse columns on the device, `dst += U·Vᵀ`: `dst` goes up,
//! groups of invocations per column sum segments of its terms in order
//! (`kernels/outer_products.wgsl`), `kernels/partial_sums.wgsl` adds the segments to `dst` in
//! order, and `dst` comes back.

use dictum_linalg::CscMatrix;
use dictum_linalg::backend::Declined;
use faer::MatMut;
use faer::reborrow::Reborrow;

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, PartialParams, Pass, wrapped};
use crate::gemm::check_upload;
use crate::pipelines::{OUTER_PRODUCTS, PARTIAL_SUMS};
use crate::precision::{DeviceReal, bytes};
use crate::sparse::upload_csc;

/// The shader's `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    p: u32,
    q: u32,
    groups: u32,
    pad: u32,
}

/// Invocations the sum aims for: columns times groups (at most [`MAX_GROUPS`]).
const TARGET_INVOCATIONS: usize = 16_384;

/// Segments of a column's terms at most.
const MAX_GROUPS: usize = 32;

/// `dst += u·vᵀ` (shapes checked by the context).
pub(crate) fn outer_products<T: DeviceReal>(
    gpu: &Gpu,
    dst: MatMut<'_, T>,
    u: &CscMatrix<T>,
    v: &CscMatrix<T>,
) -> Result<(), Declined> {
    let (p, q) = (dst.nrows(), dst.ncols());
    if p == 0 || q == 0 || u.nnz() == 0 || v.nnz() == 0 {
        return Ok(());
    }
    // Work: every non-zero of V meets a column of U.
    let per_col = u.nnz() as f64 / u.ncols().max(1) as f64;
    if let Some(reason) = gpu.mode.declines(2.0 * v.nnz() as f64 * per_col) {
        return Err(Declined::new(reason));
    }
    let max_groups = gpu.device.limits().max_compute_workgroups_per_dimension as usize;
    if q.div_ceil(64) > max_groups {
        return Err(Declined::new(format!(
            "{q} columns need more than the adapter's {max_groups} workgroups per dimension"
        )));
    }
    // Groups so that small sums still fill the device, bounded by one binding of partials.
    let fit = (gpu.max_binding / bytes::<T>(p * q).max(1)) as usize;
    let groups = TARGET_INVOCATIONS.div_ceil(q).clamp(1, MAX_GROUPS).min(fit);
    if groups == 0 {
        return Err(Declined::new("the sum exceeds one storage binding"));
    }
    check_upload(gpu, dst.rb(), "the sum")?;
    let vt = v.transpose();
    let [u_ptr, u_rows, u_vals] = upload_csc(gpu, u)?;
    let [vt_ptr, vt_rows, vt_vals] = upload_csc(gpu, &vt)?;
    let sum = buffers::scratch(&gpu.device, "outer sum", p * q, bytes::<T>(1));
    gpu.queue
        .write_buffer(&sum, 0, bytemuck::cast_slice(&buffers::packed(dst.rb())));
    let parts = buffers::scratch(&gpu.device, "outer partials", p * q * groups, bytes::<T>(1));
    let params = Params {
        p: p as u32,
        q: q as u32,
        groups: groups as u32,
        pad: 0,
    };
    let segments = Pass::new::<T, _>(
        gpu,
        OUTER_PRODUCTS,
        &params,
        &[
            &u_ptr, &u_rows, &u_vals, &vt_ptr, &vt_rows, &vt_vals, &parts,
        ],
        [q.div_ceil(64) as u32, groups as u32, 1],
    )?;
    let adding = PartialParams {
        len: (p * q) as u32,
        groups: groups as u32,
        add: 1,
        pad: 0,
    };
    let (ax, ay) = wrapped((p * q).div_ceil(256));
    let add = Pass::new::<T, _>(gpu, PARTIAL_SUMS, &adding, &[&parts, &sum], [ax, ay, 1])?;
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    let timers: Vec<_> = [&segments, &add]
        .iter()
        .filter_map(|pass| pass.record(gpu, &mut encoder))
        .collect();
    let index = gpu.queue.submit([encoder.finish()]);
    dispatch::finish_timers(gpu, timers, &index);
    dispatch::download(gpu, &sum, dst)
}
