//! Column norms on the device (`kernels/column_norms.wgsl`).

use dictum_linalg::backend::{Declined, Input};

use crate::buffers;
use crate::device::Gpu;
use crate::gemm::operand;
use crate::pipelines::COLUMN_NORMS;
use crate::timing::PassTimer;

/// The shader's `Params`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    lda: u32,
    pad: u32,
}

/// Workgroups along x before the column index wraps into y (the shader's `65535u`).
const WRAP: usize = 65535;

/// `dst[j] = ‖a_j‖₂`.
pub(crate) fn column_norms(gpu: &Gpu, dst: &mut [f32], a: Input<'_, f32>) -> Result<(), Declined> {
    let view = a.view();
    let (rows, cols) = (view.nrows(), view.ncols());
    if cols == 0 {
        return Ok(());
    }
    if let Some(reason) = gpu.mode.declines(2.0 * rows as f64 * cols as f64) {
        return Err(Declined::new(reason));
    }
    if (cols * 4) as u64 > gpu.max_binding {
        return Err(Declined::new("too many columns for one binding of norms"));
    }
    let a_dev = operand(gpu, a, "A")?;
    let params = Params {
        rows: rows as u32,
        cols: cols as u32,
        lda: rows as u32,
        pad: 0,
    };
    let bytes = (cols * 4) as u64;
    let out = gpu.pool.take(
        &gpu.device,
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        bytes,
        gpu.max_binding,
    );
    let staging = gpu.pool.take(
        &gpu.device,
        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        bytes,
        u64::MAX,
    );
    let pipeline = gpu.pipelines.get(&gpu.device, COLUMN_NORMS);
    let uniform = buffers::uniform(&gpu.device, &params);
    let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("column_norms"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: a_dev.buffer().as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: out.as_entire_binding(),
            },
        ],
    });
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("column_norms"),
        });
    let timer = PassTimer::new(gpu, COLUMN_NORMS.name);
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("column_norms"),
            timestamp_writes: timer.as_ref().map(PassTimer::writes),
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(cols.min(WRAP) as u32, cols.div_ceil(WRAP) as u32, 1);
    }
    if let Some(t) = &timer {
        t.resolve(&mut encoder);
    }
    encoder.copy_buffer_to_buffer(&out, 0, &staging, 0, bytes);
    let index = gpu.queue.submit([encoder.finish()]);
    if let Some(t) = timer {
        t.finish(gpu, index.clone());
    }
    let done = buffers::read_back(&gpu.device, &staging, cols, Some(index), |src| {
        dst.copy_from_slice(src)
    });
    gpu.pool.give(out);
    gpu.pool.give(staging);
    done.ok_or_else(|| Declined::new("the device failed to return the norms"))
}
