//! `C = op(A)·op(B)` on the device (`kernels/gemm.wgsl` for small products,
//! `kernels/gemm_large.wgsl` where both sides of `C` span a 128-wide tile), streaming `B` and
//! `C` in column chunks when they exceed one storage binding.

use dictum_linalg::backend::{Declined, Input, Trans};
use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef};

use crate::buffers::{self, GpuMatrix};
use crate::device::Gpu;
use crate::dispatch;
use crate::pipelines::{GEMM, GEMM_LARGE, Kernel};
use crate::precision::{DeviceReal, bytes};
use crate::timing::PassTimer;

/// The shader's `Params` (same field order).
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Params {
    m: u32,
    n: u32,
    k: u32,
    lda: u32,
    ldb: u32,
    ldc: u32,
    trans_a: u32,
    trans_b: u32,
    offset_b: u32,
    offset_c: u32,
    pad: [u32; 2],
}

impl Params {
    /// `C (m x n, ldc = m) = op_a(A)·op_b(B)` (`op_a(A)` is `m x k`) with `A` and `B` stored
    /// contiguous, `lda` and `ldb` rows.
    pub(crate) fn new(
        [m, n, k]: [usize; 3],
        (lda, op_a): (usize, Trans),
        (ldb, op_b): (usize, Trans),
    ) -> Self {
        Self {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            lda: lda as u32,
            ldb: ldb as u32,
            ldc: m as u32,
            trans_a: u32::from(op_a == Trans::Yes),
            trans_b: u32::from(op_b == Trans::Yes),
            offset_b: 0,
            offset_c: 0,
            pad: [0; 2],
        }
    }

    /// `C (m x n, ldc = m) = op_a(A)·B` with `A` stored with `lda` rows and `B` contiguous
    /// (`k x n`).
    pub(crate) fn dense(m: usize, n: usize, k: usize, lda: usize, op_a: Trans) -> Self {
        Self::new([m, n, k], (lda, op_a), (k, Trans::No))
    }

    /// The kernel for this shape: 128 x 128 tiles when `C` spans one in both directions
    /// (a large product keeps the device busy with them), else 64 x 64.
    pub(crate) fn kernel(&self) -> Kernel {
        if self.m >= LARGE_TILE as u32 && self.n >= LARGE_TILE as u32 {
            GEMM_LARGE
        } else {
            GEMM
        }
    }

    /// Workgroups of one dispatch of [`kernel`](Self::kernel).
    pub(crate) fn groups(&self) -> [u32; 3] {
        self.groups_for(self.kernel())
    }

    /// Workgroups of one dispatch of `kernel` (either GEMM kernel) for this shape.
    pub(crate) fn groups_for(&self, kernel: Kernel) -> [u32; 3] {
        let tile = if kernel.name == GEMM_LARGE.name {
            LARGE_TILE
        } else {
            TILE
        };
        [
            (self.m as usize).div_ceil(tile) as u32,
            (self.n as usize).div_ceil(tile) as u32,
            1,
        ]
    }
}

/// Output tile of one workgroup of `gemm.wgsl` (its `TILE`); the larger kernel's tile is a
/// multiple, so limits checked against this one hold for both.
pub(crate) const TILE: usize = 64;

/// Output tile of one workgroup of `gemm_large.wgsl`.
const LARGE_TILE: usize = 128;

/// A chunk of streamed columns holds at most this many bytes of `B` or `C`: large enough
/// that a dispatch fills the device, small enough that two chunks in flight stay modest.
const CHUNK_BYTES: u64 = 256 << 20;

/// `bytes` for a message: KiB below a MiB, else MiB.
fn size(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// An operand on the device: a resident matrix of this device, or one uploaded now.
pub(crate) enum Operand {
    Resident(std::sync::Arc<wgpu::Buffer>),
    Uploaded(wgpu::Buffer),
}

impl Operand {
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        match self {
            Operand::Resident(b) => b,
            Operand::Uploaded(b) => b,
        }
    }
}

/// The device copy of `input`: its resident buffer when it has one on this device, else an
/// upload (declined when too large for one binding or not finite).
pub(crate) fn operand<T: DeviceReal>(
    gpu: &Gpu,
    input: Input<'_, T>,
    what: &str,
) -> Result<Operand, Declined> {
    if let Some(m) = input
        .buffer()
        .and_then(|b| b.downcast_ref::<GpuMatrix>())
        .filter(|m| m.device == gpu.id)
    {
        let v = input.view();
        if m.rows == v.nrows() && m.cols == v.ncols() {
            return Ok(Operand::Resident(m.buffer.clone()));
        }
    }
    let view = input.view();
    check_upload(gpu, view, what)?;
    let data = buffers::packed(view);
    Ok(Operand::Uploaded(buffers::storage_with(
        &gpu.device,
        what,
        &data,
    )))
}

/// Why `view` cannot go to the device as one binding, if it cannot.
pub(crate) fn check_upload<T: DeviceReal>(
    gpu: &Gpu,
    view: MatRef<'_, T>,
    what: &str,
) -> Result<(), Declined> {
    let bytes = bytes::<T>(view.nrows() * view.ncols());
    if bytes > gpu.max_binding {
        return Err(Declined::new(format!(
            "{what} is {}, above the adapter's {} storage binding",
            size(bytes),
            size(gpu.max_binding)
        )));
    }
    if !buffers::all_finite(view) {
        return Err(Declined::new(format!(
            "{what} has non-finite entries; the device would carry them silently"
        )));
    }
    Ok(())
}

/// `dst = op_a(a)·op_b(b)` (shapes checked by the context).
pub(crate) fn gemm<T: DeviceReal>(
    gpu: &Gpu,
    mut dst: MatMut<'_, T>,
    a: Input<'_, T>,
    op_a: Trans,
    b: Input<'_, T>,
    op_b: Trans,
) -> Result<(), Declined> {
    let (m, n) = (dst.nrows(), dst.ncols());
    let k = op_a.apply(a.view()).ncols();
    if m == 0 || n == 0 {
        return Ok(());
    }
    let flops = 2.0 * m as f64 * n as f64 * k as f64;
    if let Some(reason) = gpu.mode.declines(flops) {
        return Err(Declined::new(reason));
    }
    let max_groups = gpu.device.limits().max_compute_workgroups_per_dimension as usize;
    if m.div_ceil(TILE) > max_groups {
        return Err(Declined::new(format!(
            "{m} output rows need more than the adapter's {max_groups} workgroups per dimension"
        )));
    }
    if k == 0 {
        dst.fill(T::zero());
        return Ok(());
    }
    // Both kernels compile before any work: one the adapter rejects declines the call.
    for kernel in [GEMM, GEMM_LARGE] {
        gpu.pipelines.get(&gpu.device, kernel, T::F64)?;
    }
    let a_dev = operand(gpu, a, "A")?;
    let lda = a.view().nrows() as u32;
    let b_bytes = bytes::<T>(k * n);
    let c_bytes = bytes::<T>(m * n);
    let b_resident = b
        .buffer()
        .and_then(|x| x.downcast_ref::<GpuMatrix>())
        .is_some_and(|x| x.device == gpu.id);
    // One dispatch when B (or its resident copy) and C fit a chunk; else stream.
    let budget = gpu.max_binding.min(CHUNK_BYTES);
    let whole =
        (b_resident || b_bytes <= budget) && c_bytes <= budget && n.div_ceil(TILE) <= max_groups;
    if whole {
        let b_dev = operand(gpu, b, "B")?;
        let params = Params::new([m, n, k], (lda as usize, op_a), (b.view().nrows(), op_b));
        let c = gpu.pool.take(
            &gpu.device,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            c_bytes,
            gpu.max_binding,
        );
        let staging = gpu.pool.take(
            &gpu.device,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            c_bytes,
            u64::MAX,
        );
        let submitted = submit::<T>(
            gpu,
            &params,
            a_dev.buffer(),
            b_dev.buffer(),
            &c,
            &staging,
            c_bytes,
        );
        let done = submitted.ok().and_then(|_| {
            buffers::read_back(&gpu.device, &staging, m * n, None, |src| {
                buffers::write_columns(dst.rb_mut(), 0, src)
            })
        });
        gpu.pool.give(c);
        gpu.pool.give(staging);
        return done.ok_or_else(|| Declined::new("the device failed to return the product"));
    }
    stream(
        gpu,
        dst,
        a_dev.buffer(),
        lda,
        op_a,
        op_b.apply(b.view()),
        k,
        max_groups,
    )
}

/// Records one dispatch of the GEMM kernel for `params`' shape, `c = op(a)·op(b)`, into
/// `encoder` (timed when the device times passes).
pub(crate) fn record<T: DeviceReal>(
    gpu: &Gpu,
    encoder: &mut wgpu::CommandEncoder,
    params: &Params,
    [a, b, c]: [&wgpu::Buffer; 3],
) -> Result<Option<PassTimer>, Declined> {
    let kernel = params.kernel();
    let pipeline = gpu.pipelines.get(&gpu.device, kernel, T::F64)?;
    let uniform = buffers::uniform(&gpu.device, params);
    let bind = dispatch::bind(gpu, &pipeline, kernel.name, &uniform, &[a, b, c]);
    Ok(dispatch::record(
        gpu,
        encoder,
        &pipeline,
        &bind,
        params.groups(),
        kernel.name,
    ))
}

/// Encodes one dispatch of the GEMM kernel and the copy of `C` to `staging`, and submits.
#[allow(clippy::too_many_arguments)]
fn submit<T: DeviceReal>(
    gpu: &Gpu,
    params: &Params,
    a: &wgpu::Buffer,
    b: &wgpu::Buffer,
    c: &wgpu::Buffer,
    staging: &wgpu::Buffer,
    c_bytes: u64,
) -> Result<wgpu::SubmissionIndex, Declined> {
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("gemm"),
        });
    let timer = record::<T>(gpu, &mut encoder, params, [a, b, c])?;
    encoder.copy_buffer_to_buffer(c, 0, staging, 0, c_bytes);
    let index = gpu.queue.submit([encoder.finish()]);
    // Timing serialises the stream (it waits for this pass); it is for measurements.
    dispatch::finish_timers(gpu, timer, &index);
    Ok(index)
}

/// The streamed product: `op(B)` (`k x n`, a host view) and `C` go through the device in
/// column chunks, two in flight: while the device computes chunk `i`, the host packs chunk
/// `i + 1` and copies chunk `i - 1` out.
#[allow(clippy::too_many_arguments)]
fn stream<T: DeviceReal>(
    gpu: &Gpu,
    mut dst: MatMut<'_, T>,
    a: &wgpu::Buffer,
    lda: u32,
    op_a: Trans,
    opb: MatRef<'_, T>,
    k: usize,
    max_groups: usize,
) -> Result<(), Declined> {
    let m = dst.nrows();
    let n = dst.ncols();
    let budget = gpu.max_binding.min(CHUNK_BYTES);
    let per_col = bytes::<T>(k.max(m));
    let nc = ((budget / per_col) as usize).min(n).min(max_groups * TILE);
    if nc == 0 {
        return Err(Declined::new(format!(
            "one column of B or C ({}) exceeds the {} binding",
            size(per_col),
            size(budget)
        )));
    }
    if !buffers::all_finite(opb) {
        return Err(Declined::new(
            "B has non-finite entries; the device would carry them silently",
        ));
    }
    let usage_b = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
    let usage_c = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
    let usage_s = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
    let cap = gpu.max_binding;
    let slots: Vec<(wgpu::Buffer, wgpu::Buffer, wgpu::Buffer)> = (0..2)
        .map(|_| {
            (
                gpu.pool.take(&gpu.device, usage_b, bytes::<T>(k * nc), cap),
                gpu.pool.take(&gpu.device, usage_c, bytes::<T>(m * nc), cap),
                gpu.pool
                    .take(&gpu.device, usage_s, bytes::<T>(m * nc), u64::MAX),
            )
        })
        .collect();
    let mut host = Vec::new();
    // (slot, first column, columns, submission) of the chunk in flight.
    let mut in_flight: Option<(usize, usize, usize, wgpu::SubmissionIndex)> = None;
    let mut ok = true;
    let mut j0 = 0;
    let mut chunk = 0;
    while j0 < n && ok {
        let len = nc.min(n - j0);
        let slot = chunk % 2;
        buffers::pack_columns(opb, j0, len, &mut host);
        gpu.queue
            .write_buffer(&slots[slot].0, 0, bytemuck::cast_slice(&host));
        let params = Params::dense(m, len, k, lda as usize, op_a);
        let (b, c, s) = &slots[slot];
        let index = submit::<T>(gpu, &params, a, b, c, s, bytes::<T>(m * len))?;
        if let Some((ps, pj, plen, pindex)) = in_flight.take() {
            ok = buffers::read_back(&gpu.device, &slots[ps].2, m * plen, Some(pindex), |src| {
                buffers::write_columns(dst.rb_mut(), pj, src)
            })
            .is_some();
        }
        in_flight = Some((slot, j0, len, index));
        j0 += len;
        chunk += 1;
    }
    if let Some((ps, pj, plen, pindex)) = in_flight.take() {
        ok &= buffers::read_back(&gpu.device, &slots[ps].2, m * plen, Some(pindex), |src| {
            buffers::write_columns(dst.rb_mut(), pj, src)
        })
        .is_some();
    }
    gpu.wait();
    for (b, c, s) in slots {
        gpu.pool.give(b);
        gpu.pool.give(c);
        gpu.pool.give(s);
    }
    if ok {
        Ok(())
    } else {
        Err(Declined::new("the device failed to return the product"))
    }
}
