//! Compute passes: binding buffers, recording a (timed) pass, and [`run`], one pass with a
//! uniform, read-only inputs and one output read back — the shape shared by the kernels
//! that need no streaming (sparse products, column norms).

use bytemuck::Pod;
use dictum_linalg::backend::Declined;
use faer::MatMut;
use faer::reborrow::ReborrowMut;

use crate::buffers;
use crate::device::Gpu;
use crate::pipelines::Kernel;
use crate::precision::{DeviceReal, bytes};
use crate::timing::PassTimer;

/// Workgroups along y before an index wraps into z (the shaders' `65535u`).
const WRAP: usize = 65535;

/// `(min(n, WRAP), ceil(n / WRAP))`: `n` workgroups spread over two dispatch dimensions.
pub(crate) fn wrapped(n: usize) -> (u32, u32) {
    (n.clamp(1, WRAP) as u32, n.div_ceil(WRAP).max(1) as u32)
}

/// Runs `kernel` (bindings: 0 = `params`, then `inputs` in order, then the output of
/// `out_len` floats) over `groups` workgroups and hands the output to `read`; declined if
/// the kernel does not compile or the device fails.
pub(crate) fn run<T: DeviceReal, P: Pod, R>(
    gpu: &Gpu,
    kernel: Kernel,
    params: &P,
    inputs: &[&wgpu::Buffer],
    out_len: usize,
    groups: [u32; 3],
    read: impl FnOnce(&[T]) -> R,
) -> Result<R, Declined> {
    let pipeline = gpu.pipelines.get(&gpu.device, kernel, T::F64)?;
    let bytes = bytes::<T>(out_len.max(1));
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
    let uniform = buffers::uniform(&gpu.device, params);
    let mut bound: Vec<&wgpu::Buffer> = inputs.to_vec();
    bound.push(&out);
    let bind = bind(gpu, &pipeline, kernel.name, &uniform, &bound);
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some(kernel.name),
        });
    let timer = record(gpu, &mut encoder, &pipeline, &bind, groups, kernel.name);
    encoder.copy_buffer_to_buffer(&out, 0, &staging, 0, bytes);
    let index = gpu.queue.submit([encoder.finish()]);
    finish_timers(gpu, timer, &index);
    let done = buffers::read_back(&gpu.device, &staging, out_len, Some(index), read);
    gpu.pool.give(out);
    gpu.pool.give(staging);
    done.ok_or_else(|| {
        Declined::new(format!(
            "the device failed to return {}'s result",
            kernel.name
        ))
    })
}

/// The bind group of `pipeline` with each buffer at its binding (the entry points of one
/// shader file use different subsets of its bindings).
pub(crate) fn bind_at(
    gpu: &Gpu,
    pipeline: &wgpu::ComputePipeline,
    label: &str,
    buffers: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let entries: Vec<_> = buffers
        .iter()
        .map(|&(binding, b)| wgpu::BindGroupEntry {
            binding,
            resource: b.as_entire_binding(),
        })
        .collect();
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    })
}

/// The bind group of `pipeline`: binding 0 = `uniform`, then `buffers` in order.
pub(crate) fn bind(
    gpu: &Gpu,
    pipeline: &wgpu::ComputePipeline,
    label: &str,
    uniform: &wgpu::Buffer,
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let at: Vec<(u32, &wgpu::Buffer)> = std::iter::once(uniform)
        .chain(buffers.iter().copied())
        .enumerate()
        .map(|(i, b)| (i as u32, b))
        .collect();
    bind_at(gpu, pipeline, label, &at)
}

/// Records one compute pass of `pipeline` over `groups` workgroups into `encoder`, timed
/// when the device times passes; hand the timer to [`finish_timers`] after submitting.
pub(crate) fn record(
    gpu: &Gpu,
    encoder: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    bind: &wgpu::BindGroup,
    groups: [u32; 3],
    name: &'static str,
) -> Option<PassTimer> {
    let timer = PassTimer::new(&gpu.device, gpu.timing, name);
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(name),
            timestamp_writes: timer.as_ref().map(PassTimer::writes),
        });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
    }
    if let Some(t) = &timer {
        t.resolve(encoder);
    }
    timer
}

/// Adds the recorded passes' device times once `submission` is done (timing waits for it:
/// it is for measurements).
pub(crate) fn finish_timers(
    gpu: &Gpu,
    timers: impl IntoIterator<Item = PassTimer>,
    submission: &wgpu::SubmissionIndex,
) {
    for t in timers {
        t.finish(&gpu.device, &gpu.queue, &gpu.times, submission.clone());
    }
}

/// A pass prepared once and recorded any number of times (an iteration's kernels, whose
/// buffers do not change between iterations): its pipeline, its bind group (which keeps its
/// buffers alive), its parameters' uniform (rewritable with [`set`](Pass::set)) and its
/// workgroups.
pub(crate) struct Pass {
    pipeline: std::sync::Arc<wgpu::ComputePipeline>,
    bind: wgpu::BindGroup,
    uniform: wgpu::Buffer,
    groups: [u32; 3],
    name: &'static str,
}

impl Pass {
    /// `kernel` in `T`'s precision with `params` (binding 0) and `buffers` (bindings 1…),
    /// over `groups` workgroups; declined if the kernel does not compile.
    pub(crate) fn new<T: DeviceReal, P: Pod>(
        gpu: &Gpu,
        kernel: Kernel,
        params: &P,
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) -> Result<Self, Declined> {
        let at: Vec<(u32, &wgpu::Buffer)> = (1..).zip(buffers.iter().copied()).collect();
        Self::at::<T, P>(gpu, kernel, params, &at, groups)
    }

    /// [`new`](Pass::new) with each buffer at its own binding (the entry points of one
    /// shader file use different subsets of its bindings).
    pub(crate) fn at<T: DeviceReal, P: Pod>(
        gpu: &Gpu,
        kernel: Kernel,
        params: &P,
        buffers: &[(u32, &wgpu::Buffer)],
        groups: [u32; 3],
    ) -> Result<Self, Declined> {
        let pipeline = gpu.pipelines.get(&gpu.device, kernel, T::F64)?;
        let uniform = {
            use wgpu::util::DeviceExt;
            gpu.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(kernel.name),
                    contents: bytemuck::bytes_of(params),
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                })
        };
        let mut all = vec![(0, &uniform)];
        all.extend_from_slice(buffers);
        let bind = bind_at(gpu, &pipeline, kernel.name, &all);
        Ok(Self {
            pipeline,
            bind,
            uniform,
            groups,
            name: kernel.name,
        })
    }

    /// New parameters and workgroups for the passes recorded from now on (the queue writes
    /// the parameters before the next submission).
    pub(crate) fn set<P: Pod>(&mut self, gpu: &Gpu, params: &P, groups: [u32; 3]) {
        gpu.queue
            .write_buffer(&self.uniform, 0, bytemuck::bytes_of(params));
        self.groups = groups;
    }

    /// Records the pass into `encoder`.
    pub(crate) fn record(
        &self,
        gpu: &Gpu,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Option<PassTimer> {
        record(
            gpu,
            encoder,
            &self.pipeline,
            &self.bind,
            self.groups,
            self.name,
        )
    }
}

/// Copies the contiguous column-major matrix in `src` into `dst`.
pub(crate) fn download<T: DeviceReal>(
    gpu: &Gpu,
    src: &wgpu::Buffer,
    mut dst: MatMut<'_, T>,
) -> Result<(), Declined> {
    let len = dst.nrows() * dst.ncols();
    let back = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
    let staging = gpu.pool.take(&gpu.device, back, bytes::<T>(len), u64::MAX);
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(src, 0, &staging, 0, bytes::<T>(len));
    let index = gpu.queue.submit([encoder.finish()]);
    let done = buffers::read_back(&gpu.device, &staging, len, Some(index), |v: &[T]| {
        buffers::write_columns(dst.rb_mut(), 0, v)
    });
    gpu.pool.give(staging);
    done.ok_or_else(|| Declined::new("the device failed to return a result"))
}

/// `kernels/line_sums.wgsl`'s `Params`: `lines` sums of `len` entries, line `l`'s entries at
/// `l·line_stride + t·step`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct LineParams {
    pub(crate) lines: u32,
    pub(crate) len: u32,
    pub(crate) line_stride: u32,
    pub(crate) step: u32,
}

/// `kernels/partial_sums.wgsl`'s `Params`: `len` entries, `groups` partials each; `add` = 1
/// adds their sum to the output, 0 replaces it.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct PartialParams {
    pub(crate) len: u32,
    pub(crate) groups: u32,
    pub(crate) add: u32,
    pub(crate) pad: u32,
}
