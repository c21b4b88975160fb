//! K-SVD's atom updates on the device (see `dictum_linalg::backend::AtomSweep`): the
//! signals (in column chunks of at most one binding), the dictionary and the codes stay on
//! the device for the sweep; each batch is one submission of the steps of
//! `kernels/ksvd.wgsl` with the GEMM and partial-sum kernels between them, and nothing comes
//! back until the sweep ends.

use std::ops::ControlFlow;

use dictum_linalg::backend::{AtomSweep, Declined, Trans};
use faer::MatMut;
use faer::reborrow::{Reborrow, ReborrowMut};

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, PartialParams, Pass, wrapped};
use crate::gemm::{self, check_upload};
use crate::pipelines::{
    KSVD_COEFS, KSVD_COMBINE, KSVD_FINISH, KSVD_GATHER, KSVD_PROJECT, KSVD_SPGEMM, PARTIAL_SUMS,
};
use crate::precision::{DeviceReal, bytes};

/// Groups of users whose `X·Vᵀ` terms go to separate partial sums (more parallel work for
/// the sparse product; the partials are added in a fixed order).
const GROUPS: usize = 16;

/// Dispatches per sweep above which the sweep is declined (sequential K-SVD on many atoms:
/// a dispatch per step of every atom).
const MAX_DISPATCHES: usize = 200_000;

/// A signal chunk's bytes at most.
const CHUNK_BYTES: u64 = 256 << 20;

/// `ksvd.wgsl`'s `Params`.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    d: u32,
    m: u32,
    b: u32,
    users: u32,
    lo: u32,
    hi: u32,
    groups: u32,
    first: u32,
}

/// One batch's users, slot by slot (see `ksvd.wgsl`).
#[derive(Default)]
struct Batch<T> {
    atoms: Vec<u32>,
    ptr: Vec<u32>,
    sig: Vec<u32>,
    pos: Vec<u32>,
    slot: Vec<u32>,
    v: Vec<T>,
}

/// Runs the sweep `job` (see `Kernels::atom_updates`).
pub(crate) fn atom_updates<T: DeviceReal>(
    gpu: &Gpu,
    job: &AtomSweep<'_, T>,
    mut dict: MatMut<'_, T>,
    values: &mut [T],
    progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
) -> Result<(), Declined> {
    let (y, x) = (job.signals, job.codes);
    let (d, n) = (y.nrows(), y.ncols());
    let m = dict.ncols();
    let b = job.atoms_per_batch.min(m);
    let steps = job.power_steps;
    // Users of every atom, by signal: X's rows.
    let mut row_ptr = vec![0usize; m + 1];
    for &r in x.row_indices() {
        row_ptr[r as usize + 1] += 1;
    }
    for k in 0..m {
        row_ptr[k + 1] += row_ptr[k];
    }
    let mut fill = row_ptr.clone();
    let (mut row_sig, mut row_pos) = (vec![0u32; x.nnz()], vec![0u32; x.nnz()]);
    for j in 0..n {
        for p in x.col_ptr()[j]..x.col_ptr()[j + 1] {
            let k = x.row_indices()[p] as usize;
            row_sig[fill[k]] = j as u32;
            row_pos[fill[k]] = p as u32;
            fill[k] += 1;
        }
    }
    let budget = gpu.max_binding.min(CHUNK_BYTES);
    let chunk_cols = ((budget / bytes::<T>(d.max(1))) as usize).min(n.max(1));
    if chunk_cols == 0 {
        return Err(Declined::new("one signal exceeds a storage binding"));
    }
    let chunks = n.div_ceil(chunk_cols);
    let batches = m.div_ceil(b);
    let dispatches = batches * (steps * (7 + 2 * chunks) + 1);
    if dispatches > MAX_DISPATCHES {
        return Err(Declined::new(format!(
            "{batches} batches of {b} atoms make {dispatches} dispatches per sweep; batched \
             K-SVD (more atoms per batch) runs on the device"
        )));
    }
    let groups = GROUPS.min((gpu.max_binding / bytes::<T>(m * b)) as usize);
    if groups == 0 || bytes::<T>(m * b) > gpu.max_binding || bytes::<T>(d * m) > gpu.max_binding {
        return Err(Declined::new(format!(
            "the dictionary ({d} x {m}) or a batch's {m} x {b} products exceed a storage binding"
        )));
    }
    let flops = (steps * batches) as f64 * 4.0 * (d * m * b) as f64;
    if let Some(reason) = gpu.mode.declines(flops) {
        return Err(Declined::new(reason));
    }
    check_upload(gpu, dict.rb(), "the dictionary")?;
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Declined::new("the codes have non-finite values"));
    }

    // The batches, as the CPU forms them (the order in chunks of b; atoms without users
    // change nothing and are left out of their batch).
    let mut plans: Vec<Batch<T>> = Vec::with_capacity(batches);
    for batch in job.order.chunks(b) {
        let mut plan = Batch::<T> {
            ptr: vec![0],
            ..Default::default()
        };
        for &k in batch {
            let users = row_ptr[k]..row_ptr[k + 1];
            if users.is_empty() {
                continue;
            }
            let kk = plan.atoms.len() as u32;
            plan.atoms.push(k as u32);
            for t in users {
                plan.sig.push(row_sig[t]);
                plan.pos.push(row_pos[t]);
                plan.slot.push(kk);
                plan.v.push(values[row_pos[t] as usize]);
            }
            plan.ptr.push(plan.sig.len() as u32);
        }
        plans.push(plan);
    }
    let most_users = plans.iter().map(|p| p.sig.len()).max().unwrap_or(0);

    let elem = bytes::<T>(1);
    let buffer = |len: usize, size: u64| buffers::scratch(&gpu.device, "atom updates", len, size);
    let with = |data: &[u8]| {
        let b = buffer(data.len().div_ceil(4), 4);
        gpu.queue.write_buffer(&b, 0, data);
        b
    };
    let dbuf = with(bytemuck::cast_slice(&buffers::packed(dict.rb())));
    let x_ptr: Vec<u32> = x.col_ptr().iter().map(|&p| p as u32).collect();
    let x_ptr = with(bytemuck::cast_slice(&x_ptr));
    let x_rows = with(bytemuck::cast_slice(x.row_indices()));
    let x_vals = with(bytemuck::cast_slice(values));
    let mut host = Vec::new();
    let mut y_chunks: Vec<(usize, usize, wgpu::Buffer)> = Vec::with_capacity(chunks);
    for c in 0..chunks {
        let lo = c * chunk_cols;
        let len = chunk_cols.min(n - lo);
        buffers::pack_columns(y, lo, len, &mut host);
        if host.iter().any(|v: &T| !v.is_finite()) {
            return Err(Declined::new("the signals have non-finite entries"));
        }
        y_chunks.push((lo, lo + len, with(bytemuck::cast_slice(&host))));
    }
    let (b_ptr, b_sig, b_pos, b_slot) = (
        buffer(b + 1, 4),
        buffer(most_users, 4),
        buffer(most_users, 4),
        buffer(most_users, 4),
    );
    let (v, yu) = (buffer(most_users, elem), buffer(most_users, elem));
    let (s_acc, dw, u) = (
        buffer(d * b, elem),
        buffer(d * b, elem),
        buffer(d * b, elem),
    );
    let (w_part, w, pm) = (
        buffer(m * b * groups, elem),
        buffer(m * b, elem),
        buffer(m * b, elem),
    );
    let (atoms, state) = (buffer(b, 4), buffer(b, 4));

    // Parameters and workgroups are set per batch; zeros until then.
    let (zero, none) = (Params::default(), [0u32; 3]);
    let mut gather: Vec<Pass> = y_chunks
        .iter()
        .map(|(_, _, yb)| {
            Pass::at::<T, _>(
                gpu,
                KSVD_GATHER,
                &zero,
                &[(1, yb), (2, &b_ptr), (3, &b_sig), (6, &v), (7, &s_acc)],
                none,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut project: Vec<Pass> = y_chunks
        .iter()
        .map(|(_, _, yb)| {
            Pass::at::<T, _>(
                gpu,
                KSVD_PROJECT,
                &zero,
                &[(1, yb), (3, &b_sig), (5, &b_slot), (15, &u), (19, &yu)],
                none,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut spgemm = Pass::at::<T, _>(
        gpu,
        KSVD_SPGEMM,
        &zero,
        &[
            (2, &b_ptr),
            (3, &b_sig),
            (6, &v),
            (8, &x_ptr),
            (9, &x_rows),
            (10, &x_vals),
            (11, &w_part),
        ],
        none,
    )?;
    let mut sum_parts = Pass::at::<T, _>(
        gpu,
        PARTIAL_SUMS,
        &<PartialParams as bytemuck::Zeroable>::zeroed(),
        &[(1, &w_part), (2, &w)],
        none,
    )?;
    // The GEMM kernels for the widest batch; narrower ones dispatch the same kernel.
    let dw_widest = gemm::Params::new([d, b, m], (d, Trans::No), (m, Trans::No));
    let p_widest = gemm::Params::new([m, b, d], (d, Trans::Yes), (d, Trans::No));
    let (dw_kernel, p_kernel) = (dw_widest.kernel(), p_widest.kernel());
    let mut d_times_w = Pass::at::<T, _>(
        gpu,
        dw_kernel,
        &dw_widest,
        &[(1, &dbuf), (2, &w), (3, &dw)],
        none,
    )?;
    let mut combine = Pass::at::<T, _>(
        gpu,
        KSVD_COMBINE,
        &zero,
        &[
            (2, &b_ptr),
            (4, &b_pos),
            (6, &v),
            (7, &s_acc),
            (10, &x_vals),
            (13, &dw),
            (14, &dbuf),
            (15, &u),
            (16, &atoms),
            (17, &state),
        ],
        none,
    )?;
    let mut dt_times_u = Pass::at::<T, _>(
        gpu,
        p_kernel,
        &p_widest,
        &[(1, &dbuf), (2, &u), (3, &pm)],
        none,
    )?;
    let mut coefs = Pass::at::<T, _>(
        gpu,
        KSVD_COEFS,
        &zero,
        &[
            (3, &b_sig),
            (4, &b_pos),
            (5, &b_slot),
            (6, &v),
            (8, &x_ptr),
            (9, &x_rows),
            (10, &x_vals),
            (16, &atoms),
            (17, &state),
            (18, &pm),
            (19, &yu),
        ],
        none,
    )?;
    let mut finish = Pass::at::<T, _>(
        gpu,
        KSVD_FINISH,
        &zero,
        &[
            (2, &b_ptr),
            (4, &b_pos),
            (6, &v),
            (10, &x_vals),
            (14, &dbuf),
            (15, &u),
            (16, &atoms),
            (17, &state),
        ],
        none,
    )?;

    let mut done = 0;
    for (plan, batch) in plans.iter().zip(job.order.chunks(b)) {
        let slots = plan.atoms.len();
        if slots > 0 {
            let users = plan.sig.len();
            let write = |dst: &wgpu::Buffer, data: &[u8]| gpu.queue.write_buffer(dst, 0, data);
            write(&b_ptr, bytemuck::cast_slice(&plan.ptr));
            write(&b_sig, bytemuck::cast_slice(&plan.sig));
            write(&b_pos, bytemuck::cast_slice(&plan.pos));
            write(&b_slot, bytemuck::cast_slice(&plan.slot));
            write(&v, bytemuck::cast_slice(&plan.v));
            write(&atoms, bytemuck::cast_slice(&plan.atoms));
            write(&state, bytemuck::cast_slice(&vec![0u32; slots]));
            let params = Params {
                d: d as u32,
                m: m as u32,
                b: slots as u32,
                users: users as u32,
                groups: groups as u32,
                ..Default::default()
            };
            let (gx, gy) = wrapped(users.div_ceil(256));
            let per_user = [gx, gy, 1];
            let per_slot = [slots as u32, 1, 1];
            for (step, (lo, hi, _)) in gather.iter_mut().zip(&y_chunks) {
                let chunk = Params {
                    lo: *lo as u32,
                    hi: *hi as u32,
                    first: u32::from(*lo == 0),
                    ..params
                };
                step.set(gpu, &chunk, [d.div_ceil(64) as u32, slots as u32, 1]);
            }
            for (step, (lo, hi, _)) in project.iter_mut().zip(&y_chunks) {
                let chunk = Params {
                    lo: *lo as u32,
                    hi: *hi as u32,
                    ..params
                };
                step.set(gpu, &chunk, per_user);
            }
            spgemm.set(gpu, &params, [groups.div_ceil(64) as u32, slots as u32, 1]);
            combine.set(gpu, &params, per_slot);
            coefs.set(gpu, &params, per_user);
            finish.set(gpu, &params, per_slot);
            let (lx, ly) = wrapped((m * slots).div_ceil(256));
            let adding = PartialParams {
                len: (m * slots) as u32,
                groups: groups as u32,
                add: 0,
                pad: 0,
            };
            sum_parts.set(gpu, &adding, [lx, ly, 1]);
            let dw_params = gemm::Params::new([d, slots, m], (d, Trans::No), (m, Trans::No));
            let p_params = gemm::Params::new([m, slots, d], (d, Trans::Yes), (d, Trans::No));
            d_times_w.set(gpu, &dw_params, dw_params.groups_for(dw_kernel));
            dt_times_u.set(gpu, &p_params, p_params.groups_for(p_kernel));

            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            let mut timers = Vec::new();
            for _ in 0..steps {
                timers.extend(gather.iter().filter_map(|g| g.record(gpu, &mut encoder)));
                encoder.clear_buffer(&w_part, 0, Some(bytes::<T>(m * slots * groups)));
                for step in [&spgemm, &sum_parts, &d_times_w, &combine, &dt_times_u] {
                    timers.extend(step.record(gpu, &mut encoder));
                }
                timers.extend(project.iter().filter_map(|p| p.record(gpu, &mut encoder)));
                timers.extend(coefs.record(gpu, &mut encoder));
            }
            timers.extend(finish.record(gpu, &mut encoder));
            let index = gpu.queue.submit([encoder.finish()]);
            dispatch::finish_timers(gpu, timers, &index);
        }
        done += batch.len();
        if progress(done).is_break() {
            gpu.wait();
            return Ok(());
        }
    }
    // Back: the dictionary and the code values.
    dispatch::download(gpu, &dbuf, dict.rb_mut())?;
    let n_values = values.len();
    dispatch::download(
        gpu,
        &x_vals,
        MatMut::from_column_major_slice_mut(values, n_values, 1),
    )?;
    Ok(())
}
