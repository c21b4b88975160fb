//! Pursuits on the device: per chunk of signals, a GEMM pass (`kernels/gemm.wgsl`) writes
//! `Dᵀ·Y` into the correlations buffer and one workgroup per signal runs every step there
//! (`kernels/pursuit.wgsl` for Batch-OMP and Batch-ORMP, `kernels/selection.wgsl` for
//! Matching Pursuit, top-k thresholding and the nearest centre); only the chosen atoms and
//! their values come back. Chunks stream two in flight, so that packing and
//! uploading the next chunk and reading back the last overlap the device's work. The
//! dictionary and its Gram matrix stay resident for the whole call (and across calls when
//! the caller made them resident).

use std::ops::ControlFlow;

use dictum_linalg::backend::{Declined, Pursuit, PursuitCodes, PursuitRule, Trans};

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, wrapped};
use crate::gemm::{self, TILE, operand};
use crate::pipelines::{PURSUIT, SELECTION};
use crate::precision::{DeviceReal, bytes};

/// The largest support the shader holds (its `KMAX`: `L⁻¹` lives in workgroup memory).
pub(crate) const MAX_ATOMS: usize = 64;

/// Bytes of a chunk's largest buffer (correlations or signals): a chunk of W2's shape
/// (m = 4096) holds 16 384 signals.
const CHUNK_BYTES: u64 = 256 << 20;

/// The shader's unused-slot marker.
const NONE: u32 = u32::MAX;

/// Both shaders' `Params`: `rule` is pursuit.wgsl's `ormp` flag or selection.wgsl's
/// `mode`; pursuit.wgsl ignores `max_steps`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    d: u32,
    n: u32,
    kmax: u32,
    rule: u32,
    has_tol: u32,
    max_steps: u32,
    pad: u32,
}

/// One chunk's buffers.
struct Slot {
    signals: wgpu::Buffer,
    alpha: wgpu::Buffer,
    nu: wgpu::Buffer,
    atoms: wgpu::Buffer,
    coefs: wgpu::Buffer,
    atoms_back: wgpu::Buffer,
    coefs_back: wgpu::Buffer,
}

impl Slot {
    fn give(self, gpu: &Gpu) {
        for b in [
            self.signals,
            self.alpha,
            self.nu,
            self.atoms,
            self.coefs,
            self.atoms_back,
            self.coefs_back,
        ] {
            gpu.pool.give(b);
        }
    }
}

/// Codes every signal of `job` into `out` (see `Kernels::pursuit`).
pub(crate) fn pursuit<T: DeviceReal>(
    gpu: &Gpu,
    job: &Pursuit<'_, T>,
    out: &mut PursuitCodes<T>,
    progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
) -> Result<(), Declined> {
    let y = job.signals;
    let (d, n) = (y.nrows(), y.ncols());
    let m = job.atoms.view().ncols();
    let k = job.max_atoms;
    if n == 0 {
        return Ok(());
    }
    if k > MAX_ATOMS {
        return Err(Declined::new(format!(
            "{k} atoms per signal exceed the device kernel's {MAX_ATOMS}"
        )));
    }
    let (kernel, rule, max_steps) = match job.rule {
        PursuitRule::Omp => (PURSUIT, 0, 0),
        PursuitRule::Ormp => (PURSUIT, 1, 0),
        PursuitRule::Mp { max_steps } => (SELECTION, 0, max_steps),
        PursuitRule::TopK { positive } => (SELECTION, 1 + u32::from(positive), 0),
        PursuitRule::Nearest => (SELECTION, 3, 0),
        PursuitRule::Cosine { .. } => (SELECTION, 4, 0),
    };
    let steps = match job.rule {
        PursuitRule::Omp | PursuitRule::Ormp => k * (k + 1),
        PursuitRule::Mp { max_steps } => 2 * max_steps.min(4 * k),
        _ => k,
    };
    let flops = n as f64 * (2.0 * d as f64 * m as f64 + (m * steps) as f64);
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
    let per_signal = bytes::<T>(d.max(m).max(k));
    let nc = ((budget / per_signal) as usize)
        .min(n)
        .min(max_groups * TILE);
    if nc == 0 {
        return Err(Declined::new(format!(
            "one signal's correlations ({} atoms) exceed a storage binding",
            m
        )));
    }
    // Workgroups no wider than the dictionary needs (at least 64: the pursuit kernel's
    // per-step work on the support uses one invocation per atom of it).
    let workgroup = match m {
        0..=64 => 64,
        65..=128 => 128,
        _ => 256,
    };
    let pipeline = gpu
        .pipelines
        .get_sized(&gpu.device, kernel, T::F64, Some(workgroup))?;
    let atoms = operand(gpu, job.atoms, "the dictionary")?;
    let gram = match job.gram {
        Some(g) if job.rule.needs_gram() => Some(operand(gpu, g, "the Gram matrix")?),
        _ => None,
    };
    let no_gram = buffers::storage_with::<T>(&gpu.device, "no Gram matrix", &[]);
    let gram = gram.as_ref().map_or(&no_gram, |g| g.buffer());
    let ormp = job.rule == PursuitRule::Ormp;
    // selection.wgsl reads the cosine rule's threshold, and whether it forces the best
    // atom, in the tolerance's places.
    let (tol, has_tol) = match job.rule {
        PursuitRule::Cosine {
            threshold,
            force_best,
        } => (T::cast_f64(threshold), force_best),
        _ => (job.tol.unwrap_or_else(T::zero), job.tol.is_some()),
    };
    let mut scalars = vec![tol, T::epsilon()];
    scalars.extend(job.offsets.unwrap_or(&[]));
    let scalars = buffers::storage_with(&gpu.device, "pursuit scalars", &scalars);

    let storage = wgpu::BufferUsages::STORAGE;
    let (up, down) = (wgpu::BufferUsages::COPY_DST, wgpu::BufferUsages::COPY_SRC);
    let back = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
    let cap = gpu.max_binding;
    let take = |usage, bytes| gpu.pool.take(&gpu.device, usage, bytes, cap);
    let slots: Vec<Slot> = (0..2)
        .map(|_| Slot {
            signals: take(storage | up, bytes::<T>(d * nc)),
            alpha: take(storage, bytes::<T>(m * nc)),
            nu: take(storage, if ormp { bytes::<T>(m * nc) } else { 16 }),
            atoms: take(storage | down, bytes::<u32>(k * nc)),
            coefs: take(storage | down, bytes::<T>(k * nc)),
            atoms_back: gpu
                .pool
                .take(&gpu.device, back, bytes::<u32>(k * nc), u64::MAX),
            coefs_back: gpu
                .pool
                .take(&gpu.device, back, bytes::<T>(k * nc), u64::MAX),
        })
        .collect();

    let mut host = Vec::new();
    // (slot, first signal, signals, submission) of the chunk in flight.
    let mut in_flight: Option<(usize, usize, usize, wgpu::SubmissionIndex)> = None;
    let mut failed = None;
    let mut stop = false;
    let mut j0 = 0;
    let mut chunk = 0;
    while j0 < n && failed.is_none() && !stop {
        let len = nc.min(n - j0);
        let slot = &slots[chunk % 2];
        buffers::pack_columns(y, j0, len, &mut host);
        if host.iter().any(|v| !v.is_finite()) {
            failed = Some(Declined::new(
                "the signals have non-finite entries; the device would carry them silently",
            ));
            break;
        }
        gpu.queue
            .write_buffer(&slot.signals, 0, bytemuck::cast_slice(&host));
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("pursuit"),
            });
        let correlations = gemm::Params::dense(m, len, d, d, Trans::Yes);
        let mut timers = Vec::new();
        timers.extend(gemm::record::<T>(
            gpu,
            &mut encoder,
            &correlations,
            [atoms.buffer(), &slot.signals, &slot.alpha],
        )?);
        let params = Params {
            m: m as u32,
            d: d as u32,
            n: len as u32,
            kmax: k as u32,
            rule,
            has_tol: u32::from(has_tol),
            max_steps: max_steps.min(u32::MAX as usize) as u32,
            pad: 0,
        };
        let uniform = buffers::uniform(&gpu.device, &params);
        let bound: &[&wgpu::Buffer] = if kernel.name == PURSUIT.name {
            &[
                gram,
                &slot.signals,
                &slot.alpha,
                &slot.nu,
                &scalars,
                &slot.atoms,
                &slot.coefs,
            ]
        } else {
            &[
                gram,
                &slot.signals,
                &slot.alpha,
                &scalars,
                &slot.atoms,
                &slot.coefs,
            ]
        };
        let bind = dispatch::bind(gpu, &pipeline, kernel.name, &uniform, bound);
        let (x, z) = wrapped(len);
        timers.extend(dispatch::record(
            gpu,
            &mut encoder,
            &pipeline,
            &bind,
            [x, z, 1],
            kernel.name,
        ));
        encoder.copy_buffer_to_buffer(&slot.atoms, 0, &slot.atoms_back, 0, bytes::<u32>(k * len));
        encoder.copy_buffer_to_buffer(&slot.coefs, 0, &slot.coefs_back, 0, bytes::<T>(k * len));
        let index = gpu.queue.submit([encoder.finish()]);
        dispatch::finish_timers(gpu, timers, &index);
        if let Some(prev) = in_flight.take() {
            match collect(gpu, &slots, prev, out) {
                Ok(done) => stop = progress(done).is_break(),
                Err(e) => failed = Some(e),
            }
        }
        in_flight = Some((chunk % 2, j0, len, index));
        j0 += len;
        chunk += 1;
    }
    if let Some(prev) = in_flight.take() {
        match collect(gpu, &slots, prev, out) {
            Ok(done) if failed.is_none() && !stop => {
                let _ = progress(done);
            }
            Ok(_) => {}
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    gpu.wait();
    for s in slots {
        s.give(gpu);
    }
    failed.map_or(Ok(()), Err)
}

/// Reads a finished chunk's codes into `out`; returns the signals done so far.
fn collect<T: DeviceReal>(
    gpu: &Gpu,
    slots: &[Slot],
    (slot, j0, len, index): (usize, usize, usize, wgpu::SubmissionIndex),
    out: &mut PursuitCodes<T>,
) -> Result<usize, Declined> {
    let k = out.max_atoms;
    let range = j0 * k..(j0 + len) * k;
    let lost = || Declined::new("the device failed to return the codes");
    let slot = &slots[slot];
    buffers::read_back(
        &gpu.device,
        &slot.atoms_back,
        k * len,
        Some(index),
        |src: &[u32]| {
            out.atoms[range.clone()].copy_from_slice(src);
        },
    )
    .ok_or_else(lost)?;
    buffers::read_back(
        &gpu.device,
        &slot.coefs_back,
        k * len,
        None,
        |src: &[T]| {
            out.coefs[range.clone()].copy_from_slice(src);
        },
    )
    .ok_or_else(lost)?;
    for c in j0..j0 + len {
        let slots = &out.atoms[c * k..(c + 1) * k];
        out.counts[c] = slots.iter().take_while(|&&a| a != NONE).count() as u32;
    }
    Ok(j0 + len)
}
