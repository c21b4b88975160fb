//! Sums of outer products of sparse columns on the device, `dst += U·Vᵀ`
//! (`kernels/outer_products.wgsl`): `dst` goes up, one invocation per column adds its terms
//! in the CPU's order, and `dst` comes back.

use dictum_linalg::CscMatrix;
use dictum_linalg::backend::Declined;
use faer::MatMut;
use faer::reborrow::{Reborrow, ReborrowMut};

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, wrapped};
use crate::gemm::check_upload;
use crate::pipelines::OUTER_PRODUCTS;
use crate::precision::{DeviceReal, bytes};
use crate::sparse::upload_csc;

/// The shader's `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    p: u32,
    q: u32,
    pad: [u32; 2],
}

/// `dst += u·vᵀ` (shapes checked by the context).
pub(crate) fn outer_products<T: DeviceReal>(
    gpu: &Gpu,
    mut dst: MatMut<'_, T>,
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
    check_upload(gpu, dst.rb(), "the sum")?;
    let vt = v.transpose();
    let [u_ptr, u_rows, u_vals] = upload_csc(gpu, u)?;
    let [vt_ptr, vt_rows, vt_vals] = upload_csc(gpu, &vt)?;
    let data = buffers::packed(dst.rb());
    let sum = {
        use wgpu::util::DeviceExt;
        gpu.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("outer sum"),
                contents: bytemuck::cast_slice(&data),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            })
    };
    drop(data);
    let params = Params {
        p: p as u32,
        q: q as u32,
        pad: [0; 2],
    };
    let pipeline = gpu.pipelines.get(&gpu.device, OUTER_PRODUCTS, T::F64)?;
    let uniform = buffers::uniform(&gpu.device, &params);
    let bind = dispatch::bind(
        gpu,
        &pipeline,
        OUTER_PRODUCTS.name,
        &uniform,
        &[&u_ptr, &u_rows, &u_vals, &vt_ptr, &vt_rows, &vt_vals, &sum],
    );
    let len = p * q;
    let back = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
    let staging = gpu.pool.take(&gpu.device, back, bytes::<T>(len), u64::MAX);
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    let (x, y) = wrapped(q.div_ceil(64));
    let timer = dispatch::record(
        gpu,
        &mut encoder,
        &pipeline,
        &bind,
        [x, y, 1],
        OUTER_PRODUCTS.name,
    );
    encoder.copy_buffer_to_buffer(&sum, 0, &staging, 0, bytes::<T>(len));
    let index = gpu.queue.submit([encoder.finish()]);
    dispatch::finish_timers(gpu, timer, &index);
    let done = buffers::read_back(&gpu.device, &staging, len, Some(index), |src: &[T]| {
        buffers::write_columns(dst.rb_mut(), 0, src)
    });
    gpu.pool.give(staging);
    done.ok_or_else(|| Declined::new("the device failed to return the sum"))
}
