//! FISTA and ISTA on the device (see `dictum_linalg::backend::Lasso`): per chunk of signals,
//! `Dᵀ·Y` by the GEMM kernel, then iterations of a `G·Z` GEMM and `kernels/fista_step.wgsl`,
//! with `kernels/lasso_gap.wgsl` every `check_every` iterations; the codes stay on the device
//! until the chunk is done, and only the signals' done flags come back at each check.

use std::ops::ControlFlow;

use dictum_linalg::backend::{Declined, Lasso, Trans};
use faer::MatRef;

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, Pass, wrapped};
use crate::gemm::{self, TILE, operand};
use crate::pipelines::{FISTA_STEP, GEMM, GEMM_LARGE, LASSO_GAP};
use crate::precision::{DeviceReal, bytes};

/// Bytes of a chunk's largest buffer.
const CHUNK_BYTES: u64 = 256 << 20;

/// The momentum table lives in one storage buffer: iterations beyond this are declined.
const MAX_ITER: usize = 1 << 20;

/// Both shaders' `Params`: `fista_step.wgsl` reads `(m, n, positive, iter)`,
/// `lasso_gap.wgsl` `(m, n, d, positive)`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    n: u32,
    third: u32,
    fourth: u32,
}

/// Runs `job` (see `Kernels::lasso`).
pub(crate) fn lasso<T: DeviceReal>(
    gpu: &Gpu,
    job: &Lasso<'_, T>,
    each: &mut dyn FnMut(usize, MatRef<'_, T>) -> ControlFlow<()>,
) -> Result<(), Declined> {
    let y = job.signals;
    let (d, n) = (y.nrows(), y.ncols());
    let m = job.atoms.view().ncols();
    if n == 0 {
        return Ok(());
    }
    if job.max_iter > MAX_ITER || job.check_every == 0 {
        return Err(Declined::new(format!(
            "{} iterations exceed the device's momentum table ({MAX_ITER})",
            job.max_iter
        )));
    }
    let iters = job.max_iter.min(50) as f64;
    let flops = n as f64 * (2.0 * (d * m) as f64 + iters * 2.0 * (m * m) as f64);
    if let Some(reason) = gpu.mode.declines(flops) {
        return Err(Declined::new(reason));
    }
    let max_groups = gpu.device.limits().max_compute_workgroups_per_dimension as usize;
    if m.div_ceil(TILE) > max_groups {
        return Err(Declined::new(format!(
            "{m} atoms need more than the adapter's {max_groups} workgroups per dimension"
        )));
    }
    let budget = gpu.max_binding.min(CHUNK_BYTES);
    let nc = ((budget / bytes::<T>(d.max(m))) as usize)
        .min(n)
        .min(max_groups * TILE);
    if nc == 0 {
        return Err(Declined::new("one signal's codes exceed a storage binding"));
    }
    // Pipelines first: a kernel that does not compile declines before any work.
    for kernel in [GEMM, GEMM_LARGE, FISTA_STEP, LASSO_GAP] {
        gpu.pipelines.get(&gpu.device, kernel, T::F64)?;
    }
    let atoms = operand(gpu, job.atoms, "the dictionary")?;
    let gram = operand(gpu, job.gram, "the Gram matrix")?;
    let t = |x: f64| T::cast_f64(x);
    let step = T::one() / t(job.lipschitz);
    let mut scal = vec![
        step,
        t(job.lambda) * step,
        t(job.lambda2),
        t(job.tol),
        T::min_positive_value(),
        t(job.lambda),
    ];
    // The momentum sequence, in T as the CPU computes it.
    let mut tk = T::one();
    for _ in 0..job.max_iter {
        let next = if job.accelerated {
            (T::one() + (T::one() + t(4.0) * tk * tk).sqrt()) / t(2.0)
        } else {
            T::one()
        };
        scal.push((tk - T::one()) / next);
        tk = next;
    }
    let scal = buffers::storage_with(&gpu.device, "lasso scalars", &scal);
    let buffer = |len: usize, elem: u64| buffers::scratch(&gpu.device, "lasso", len, elem);
    let elem = bytes::<T>(1);
    let (yb, a0, x, z, gz) = (
        buffer(d * nc, elem),
        buffer(m * nc, elem),
        buffer(m * nc, elem),
        buffer(m * nc, elem),
        buffer(m * nc, elem),
    );
    let done = buffer(nc, 4);
    let back = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
    let done_back = gpu.pool.take(&gpu.device, back, bytes::<u32>(nc), u64::MAX);
    let codes_back = gpu
        .pool
        .take(&gpu.device, back, bytes::<T>(m * nc), u64::MAX);
    let positive = u32::from(job.positive);
    // The passes serve every chunk: the step and the gap run over the full chunk capacity
    // (a shorter last chunk marks its unused columns done, so they never move), the GEMMs
    // get each chunk's width.
    let corr_at = |len| gemm::Params::dense(m, len, d, d, Trans::Yes);
    let gram_at = |len| gemm::Params::new([m, len, m], (m, Trans::No), (m, Trans::No));
    let corr_kernel = corr_at(nc).kernel();
    let mut corr = Pass::new::<T, _>(
        gpu,
        corr_kernel,
        &corr_at(nc),
        &[atoms.buffer(), &yb, &a0],
        corr_at(nc).groups(),
    )?;
    let gram_times = |v: &wgpu::Buffer| {
        let p = gram_at(nc);
        Pass::new::<T, _>(gpu, p.kernel(), &p, &[gram.buffer(), v, &gz], p.groups())
    };
    let (mut gz_pass, mut gx_pass) = (gram_times(&z)?, gram_times(&x)?);
    let gram_kernel = gram_at(nc).kernel();
    let (sx, sy) = wrapped(nc);
    let gap_params = Params {
        m: m as u32,
        n: nc as u32,
        third: d as u32,
        fourth: positive,
    };
    let gap_pass = Pass::new::<T, _>(
        gpu,
        LASSO_GAP,
        &gap_params,
        &[&gz, &a0, &yb, &scal, &done, &x, &z],
        [sx, sy, 1],
    )?;
    let flat = {
        let (gx, gy) = wrapped((m * nc).div_ceil(256));
        [gx, gy, 1]
    };
    // One step pass per iteration (its momentum's index), made as iterations are reached.
    let mut steps: Vec<Pass> = Vec::new();
    let mut host = Vec::new();
    let mut outcome = Ok(());
    let mut j0 = 0;
    'chunks: while j0 < n {
        let len = nc.min(n - j0);
        buffers::pack_columns(y, j0, len, &mut host);
        gpu.queue.write_buffer(&yb, 0, bytemuck::cast_slice(&host));
        // The start: the warm-start codes, else zero, in both x and z.
        let mut start = vec![T::zero(); m * len];
        if let Some(init) = job.init {
            for c in 0..len {
                let (rows, vals) = init.col(j0 + c);
                for (&r, &v) in rows.iter().zip(vals) {
                    start[c * m + r as usize] = v;
                }
            }
        }
        gpu.queue.write_buffer(&x, 0, bytemuck::cast_slice(&start));
        gpu.queue.write_buffer(&z, 0, bytemuck::cast_slice(&start));
        let flags: Vec<u32> = (0..nc).map(|c| u32::from(c >= len)).collect();
        gpu.queue
            .write_buffer(&done, 0, bytemuck::cast_slice(&flags));
        corr.set(gpu, &corr_at(len), corr_at(len).groups_for(corr_kernel));
        for pass in [&mut gz_pass, &mut gx_pass] {
            pass.set(gpu, &gram_at(len), gram_at(len).groups_for(gram_kernel));
        }
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let mut timers: Vec<_> = corr.record(gpu, &mut encoder).into_iter().collect();
        for it in 1..=job.max_iter {
            if steps.len() < it {
                let params = Params {
                    m: m as u32,
                    n: nc as u32,
                    third: positive,
                    fourth: (it - 1) as u32,
                };
                steps.push(Pass::new::<T, _>(
                    gpu,
                    FISTA_STEP,
                    &params,
                    &[&gz, &a0, &scal, &done, &x, &z],
                    flat,
                )?);
            }
            timers.extend(gz_pass.record(gpu, &mut encoder));
            timers.extend(steps[it - 1].record(gpu, &mut encoder));
            if it % job.check_every != 0 && it != job.max_iter {
                continue;
            }
            timers.extend(gx_pass.record(gpu, &mut encoder));
            timers.extend(gap_pass.record(gpu, &mut encoder));
            encoder.copy_buffer_to_buffer(&done, 0, &done_back, 0, bytes::<u32>(len));
            let finished = std::mem::replace(
                &mut encoder,
                gpu.device.create_command_encoder(&Default::default()),
            );
            let index = gpu.queue.submit([finished.finish()]);
            dispatch::finish_timers(gpu, timers.drain(..), &index);
            let all =
                buffers::read_back(&gpu.device, &done_back, len, Some(index), |f: &[u32]| {
                    f.iter().all(|&v| v != 0)
                });
            match all {
                None => {
                    outcome = Err(Declined::new("the device failed to return the done flags"));
                    break 'chunks;
                }
                Some(true) => break,
                Some(false) => {}
            }
        }
        encoder.copy_buffer_to_buffer(&x, 0, &codes_back, 0, bytes::<T>(m * len));
        let index = gpu.queue.submit([encoder.finish()]);
        dispatch::finish_timers(gpu, timers.drain(..), &index);
        let mut stop = false;
        let read = buffers::read_back(
            &gpu.device,
            &codes_back,
            m * len,
            Some(index),
            |v: &[T]| {
                let codes = MatRef::from_column_major_slice(v, m, len);
                stop = each(j0, codes).is_break();
            },
        );
        if read.is_none() {
            outcome = Err(Declined::new("the device failed to return the codes"));
            break;
        }
        if stop {
            break;
        }
        j0 += len;
    }
    gpu.pool.give(done_back);
    gpu.pool.give(codes_back);
    outcome
}
