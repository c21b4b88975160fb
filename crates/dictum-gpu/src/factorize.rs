//! NMF's iterations on the device (see `dictum_linalg::backend::Factorization`): `V`, `W`,
//! `H` and every intermediate stay in device buffers; an iteration is one submission of
//! passes prepared once (products by `kernels/gemm.wgsl` or the sparse kernels, updates by
//! `kernels/nmf_hals.wgsl`, `nmf_update.wgsl`, `nmf_quotient.wgsl`, `line_sums.wgsl`,
//! `sddmm.wgsl`), then the reductions of `kernels/reduce.wgsl`, whose partial sums are the
//! only thing read back before the caller decides whether to go on. `W` and `H` come back
//! once, at the end.

use std::ops::ControlFlow;

use dictum_linalg::CscMatrix;
use dictum_linalg::backend::{Declined, FactorData, FactorRule, FactorStep, Factorization, Trans};
use faer::MatMut;
use faer::reborrow::{Reborrow, ReborrowMut};

use crate::buffers;
use crate::device::Gpu;
use crate::dispatch::{self, LineParams, Pass, wrapped};
use crate::gemm::{self, check_upload};
use crate::pipelines::{
    LINE_SUMS, NMF_HALS, NMF_QUOTIENT, NMF_UPDATE, REDUCE, SDDMM, SPARSE_T_TIMES_DENSE,
};
use crate::precision::{DeviceReal, bytes};
use crate::sparse;

/// The largest rank the HALS kernel holds (its `MAXR`: a row of the factor per invocation).
const MAX_RANK: usize = 128;

/// Partial sums per reduction (workgroups of `reduce.wgsl`).
const PARTIALS: usize = 256;

/// What the reductions of an iteration measure, in their slots of the partials buffer.
#[derive(Clone, Copy)]
enum Slot {
    Cross,
    Quad,
    WSum,
    WSquares,
    HSum,
    HSquares,
    HNonzeros,
    KlTerms,
    KlTotal,
}

const SLOTS: usize = 9;

/// `reduce.wgsl`'s `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ReduceParams {
    len: u32,
    mode: u32,
    offset: u32,
    groups: u32,
}

/// `nmf_hals.wgsl`'s `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct HalsParams {
    len: u32,
    r: u32,
    sweeps: u32,
    x_rs: u32,
    x_cs: u32,
    num_rs: u32,
    num_cs: u32,
    pad: u32,
}

/// `nmf_update.wgsl`'s `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct UpdateParams {
    rows: u32,
    cols: u32,
    x: [u32; 2],
    num: [u32; 2],
    den: [u32; 2],
    mode: u32,
    sums_by_col: u32,
    pad: [u32; 2],
}

/// `nmf_quotient.wgsl`'s `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct QuotientParams {
    len: u32,
    mode: u32,
    pad: [u32; 2],
}

/// `sddmm.wgsl`'s `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SddmmParams {
    cols: u32,
    r: u32,
    a: [u32; 2],
    b: [u32; 2],
    pad: [u32; 2],
}

/// A sparse matrix on the device: CSC structure and values.
struct DeviceCsc {
    col_ptr: wgpu::Buffer,
    rows: wgpu::Buffer,
    vals: wgpu::Buffer,
    ncols: usize,
    nnz: usize,
}

impl DeviceCsc {
    fn upload<T: DeviceReal>(gpu: &Gpu, x: &CscMatrix<T>) -> Result<Self, Declined> {
        let [col_ptr, rows, vals] = sparse::upload_csc(gpu, x)?;
        Ok(Self {
            col_ptr,
            rows,
            vals,
            ncols: x.ncols(),
            nnz: x.nnz(),
        })
    }
}

/// The data on the device.
enum DeviceData {
    Dense(wgpu::Buffer),
    Sparse { cols: DeviceCsc, rows: DeviceCsc },
}

/// Builds an iteration's passes.
struct Builder<'g> {
    gpu: &'g Gpu,
}

impl Builder<'_> {
    fn buffer(&self, len: usize, elem: u64) -> wgpu::Buffer {
        buffers::scratch(&self.gpu.device, "nmf", len, elem)
    }

    fn pass<T: DeviceReal, P: bytemuck::Pod>(
        &self,
        kernel: crate::pipelines::Kernel,
        params: &P,
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) -> Result<Pass, Declined> {
        Pass::new::<T, P>(self.gpu, kernel, params, buffers, groups)
    }

    /// `c = op_a(a)·op_b(b)`, `[m, n, k]`, `a`/`b` stored with `lda`/`ldb` rows.
    fn gemm<T: DeviceReal>(
        &self,
        mnk: [usize; 3],
        a: (&wgpu::Buffer, usize, Trans),
        b: (&wgpu::Buffer, usize, Trans),
        c: &wgpu::Buffer,
    ) -> Result<Pass, Declined> {
        let params = gemm::Params::new(mnk, (a.1, a.2), (b.1, b.2));
        self.pass::<T, _>(params.kernel(), &params, &[a.0, b.0, c], params.groups())
    }

    /// `c (x.ncols x q) = Xᵀ·B` with `B[row, col]` at `b[row·b_rs + col·b_cs]`, `X`'s
    /// values taken from `vals`.
    fn sparse_t<T: DeviceReal>(
        &self,
        x: &DeviceCsc,
        vals: &wgpu::Buffer,
        q: usize,
        (b, b_rs, b_cs): (&wgpu::Buffer, usize, usize),
        c: &wgpu::Buffer,
    ) -> Result<Pass, Declined> {
        let params = sparse::Params {
            first: x.ncols as u32,
            second: q as u32,
            stride0: b_rs as u32,
            stride1: b_cs as u32,
        };
        let (y, z) = wrapped(q);
        self.pass::<T, _>(
            SPARSE_T_TIMES_DENSE,
            &params,
            &[b, &x.col_ptr, &x.rows, vals, c],
            [x.ncols.div_ceil(64) as u32, y, z],
        )
    }

    /// Elementwise over `len` entries in workgroups of 256.
    fn flat(len: usize, per: usize) -> [u32; 3] {
        let (x, y) = wrapped(len.div_ceil(per));
        [x, y, 1]
    }

    fn reduce<T: DeviceReal>(
        &self,
        slot: Slot,
        mode: u32,
        len: usize,
        [a, b]: [&wgpu::Buffer; 2],
        out: &wgpu::Buffer,
    ) -> Result<(Pass, usize), Declined> {
        let groups = len.div_ceil(256).clamp(1, PARTIALS);
        let params = ReduceParams {
            len: len as u32,
            mode,
            offset: (slot as usize * PARTIALS) as u32,
            groups: groups as u32,
        };
        let pass = self.pass::<T, _>(REDUCE, &params, &[a, b, out], [groups as u32, 1, 1])?;
        Ok((pass, groups))
    }
}

/// Runs `job` (see `Kernels::factorize`).
pub(crate) fn factorize<T: DeviceReal>(
    gpu: &Gpu,
    job: &Factorization<'_, T>,
    mut w: MatMut<'_, T>,
    mut h: MatMut<'_, T>,
    each: &mut dyn FnMut(&FactorStep) -> ControlFlow<()>,
) -> Result<(), Declined> {
    let (n, p) = job.data.shape();
    let r = w.ncols();
    if job.max_iter == 0 || n == 0 || p == 0 || r == 0 {
        return Err(Declined::new("nothing to iterate"));
    }
    if r > MAX_RANK {
        return Err(Declined::new(format!(
            "rank {r} exceeds the device kernels' {MAX_RANK}"
        )));
    }
    let dense_flops = match job.data {
        FactorData::Dense(_) => 4.0 * n as f64 * p as f64 * r as f64,
        FactorData::Sparse { cols, .. } => 4.0 * cols.nnz() as f64 * r as f64,
    };
    if let Some(reason) = gpu
        .mode
        .declines(dense_flops + 2.0 * (n + p) as f64 * (r * r) as f64)
    {
        return Err(Declined::new(reason));
    }
    let kl = job.rule == FactorRule::KullbackLeibler;
    if kl && T::F64 {
        // GLSL.std.450's Log, which WGSL's log() becomes on Vulkan, is defined for 16- and
        // 32-bit floats only: drivers return garbage for f64 (seen on lavapipe).
        return Err(Declined::new(
            "the Kullback–Leibler divergence needs an f64 logarithm, which Vulkan shaders do \
             not have; f64 KL runs on the CPU (f32 runs on the GPU)",
        ));
    }
    // Every buffer an iteration binds must fit one binding: V, W·H (KL), the factors.
    let widest = match job.data {
        FactorData::Dense(_) => n * p,
        FactorData::Sparse { cols, .. } => cols.nnz(),
    }
    .max(n * r)
    .max(p * r);
    if bytes::<T>(widest) > gpu.max_binding {
        return Err(Declined::new(format!(
            "the fused iterations keep V (or W·H) in one storage binding, and {} exceeds the \
             adapter's {} bytes",
            bytes::<T>(widest),
            gpu.max_binding
        )));
    }
    let b = Builder { gpu };
    let data = match job.data {
        FactorData::Dense(v) => {
            check_upload(gpu, v, "V")?;
            DeviceData::Dense(buffers::storage_with(&gpu.device, "V", &buffers::packed(v)))
        }
        FactorData::Sparse { cols, rows } => DeviceData::Sparse {
            cols: DeviceCsc::upload(gpu, cols)?,
            rows: DeviceCsc::upload(gpu, rows)?,
        },
    };
    check_upload(gpu, w.rb(), "W")?;
    check_upload(gpu, h.rb(), "H")?;
    let wb = b.buffer(n * r, bytes::<T>(1));
    let hb = b.buffer(r * p, bytes::<T>(1));
    gpu.queue
        .write_buffer(&wb, 0, bytemuck::cast_slice(&buffers::packed(w.rb())));
    gpu.queue
        .write_buffer(&hb, 0, bytemuck::cast_slice(&buffers::packed(h.rb())));

    let t = |x: f64| T::cast_f64(x);
    let (l1w, l2w) = job.penalty_w;
    let (l1h, l2h) = job.penalty_h;
    let pen_w = buffers::storage_with(&gpu.device, "pen W", &[t(l1w), t(l2w), t(job.eps)]);
    let pen_h = buffers::storage_with(&gpu.device, "pen H", &[t(l1h), t(l2h), t(job.eps)]);
    let eps = buffers::storage_with(&gpu.device, "eps", &[t(job.eps)]);
    let elem = bytes::<T>(1);
    let wtw = b.buffer(r * r, elem);
    let hht = b.buffer(r * r, elem);
    let vtw = b.buffer(p * r, elem);
    let vht = b.buffer(n * r, elem);
    let partials = b.buffer(SLOTS * PARTIALS, elem);

    let mut passes: Vec<Pass> = Vec::new();
    // V·Hᵀ (n x r).
    let vht_pass = || match &data {
        DeviceData::Dense(v) => {
            b.gemm::<T>([n, r, p], (v, n, Trans::No), (&hb, r, Trans::Yes), &vht)
        }
        DeviceData::Sparse { rows, .. } => b.sparse_t::<T>(rows, &rows.vals, r, (&hb, r, 1), &vht),
    };
    let wtw_pass = || b.gemm::<T>([r, r, n], (&wb, n, Trans::Yes), (&wb, n, Trans::No), &wtw);
    let hht_pass = || b.gemm::<T>([r, r, p], (&hb, r, Trans::No), (&hb, r, Trans::Yes), &hht);
    let update = |rows: usize, cols: usize, x: [usize; 2], num: [usize; 2], den: [usize; 2]| {
        move |mode: u32, sums_by_col: bool| UpdateParams {
            rows: rows as u32,
            cols: cols as u32,
            x: x.map(|v| v as u32),
            num: num.map(|v| v as u32),
            den: den.map(|v| v as u32),
            mode,
            sums_by_col: u32::from(sums_by_col),
            pad: [0; 2],
        }
    };
    // H (r x p) entry (k, j) at k + j·r; W (n x r) entry (i, k) at i + k·n.
    let h_update = update(r, p, [1, r], [1, r], [1, r]);
    let w_update = update(n, r, [1, n], [1, n], [1, n]);
    let mut kl_bufs = None;
    match job.rule {
        FactorRule::Hals { sweeps } => {
            let hals = |len: usize, x: [usize; 2], num: [usize; 2]| HalsParams {
                len: len as u32,
                r: r as u32,
                sweeps: sweeps as u32,
                x_rs: x[0] as u32,
                x_cs: x[1] as u32,
                num_rs: num[0] as u32,
                num_cs: num[1] as u32,
                pad: 0,
            };
            passes.push(wtw_pass()?);
            passes.push(vtw_pass::<T>(&b, &data, &wb, (n, p, r), &vtw)?);
            passes.push(b.pass::<T, _>(
                NMF_HALS,
                &hals(p, [r, 1], [1, p]),
                &[&wtw, &vtw, &pen_h, &hb],
                Builder::flat(p, 64),
            )?);
            passes.push(hht_pass()?);
            passes.push(vht_pass()?);
            passes.push(b.pass::<T, _>(
                NMF_HALS,
                &hals(n, [1, n], [1, n]),
                &[&hht, &vht, &pen_w, &wb],
                Builder::flat(n, 64),
            )?);
        }
        FactorRule::Frobenius => {
            let den_h = b.buffer(r * p, elem);
            let den_w = b.buffer(n * r, elem);
            passes.push(wtw_pass()?);
            passes.push(vtw_pass::<T>(&b, &data, &wb, (n, p, r), &vtw)?);
            passes.push(b.gemm::<T>(
                [r, p, r],
                (&wtw, r, Trans::No),
                (&hb, r, Trans::No),
                &den_h,
            )?);
            // Vᵀ·W is p x r: H's entry (k, j) reads it at j + k·p.
            let params = UpdateParams {
                num: [p as u32, 1],
                ..h_update(0, false)
            };
            passes.push(b.pass::<T, _>(
                NMF_UPDATE,
                &params,
                &[&vtw, &den_h, &pen_h, &hb],
                Builder::flat(r * p, 256),
            )?);
            passes.push(hht_pass()?);
            passes.push(vht_pass()?);
            passes.push(b.gemm::<T>(
                [n, r, r],
                (&wb, n, Trans::No),
                (&hht, r, Trans::No),
                &den_w,
            )?);
            passes.push(b.pass::<T, _>(
                NMF_UPDATE,
                &w_update(0, false),
                &[&vht, &den_w, &pen_w, &wb],
                Builder::flat(n * r, 256),
            )?);
        }
        FactorRule::KullbackLeibler => {
            let sums_w = b.buffer(r, elem);
            let sums_h = b.buffer(r, elem);
            let num_h = b.buffer(r * p, elem);
            let num_w = b.buffer(n * r, elem);
            let col_sums_w = LineParams {
                lines: r as u32,
                len: n as u32,
                line_stride: n as u32,
                step: 1,
            };
            let row_sums_h = LineParams {
                lines: r as u32,
                len: p as u32,
                line_stride: 1,
                step: r as u32,
            };
            let (lx, ly) = wrapped(r);
            let lines = [lx, ly, 1];
            let quotient = |len: usize, mode: u32| QuotientParams {
                len: len as u32,
                mode,
                pad: [0; 2],
            };
            match &data {
                DeviceData::Dense(v) => {
                    let wh = b.buffer(n * p, elem);
                    let q = b.buffer(n * p, elem);
                    let wh_pass =
                        || b.gemm::<T>([n, p, r], (&wb, n, Trans::No), (&hb, r, Trans::No), &wh);
                    let q_pass = |mode| {
                        b.pass::<T, _>(
                            NMF_QUOTIENT,
                            &quotient(n * p, mode),
                            &[v, &wh, &eps, &q],
                            Builder::flat(n * p, 256),
                        )
                    };
                    // A half-step: W·H, the quotients, the numerators (`num`), the
                    // component sums of the other factor, the update of `x`.
                    let half =
                        |num: Pass,
                         num_buf: &wgpu::Buffer,
                         (sums, other, sums_buf): (&LineParams, &wgpu::Buffer, &wgpu::Buffer),
                         (update, pen, x, len): (
                            UpdateParams,
                            &wgpu::Buffer,
                            &wgpu::Buffer,
                            usize,
                        )|
                         -> Result<[Pass; 5], Declined> {
                            Ok([
                                wh_pass()?,
                                q_pass(0)?,
                                num,
                                b.pass::<T, _>(LINE_SUMS, sums, &[other, sums_buf], lines)?,
                                b.pass::<T, _>(
                                    NMF_UPDATE,
                                    &update,
                                    &[num_buf, sums_buf, pen, x],
                                    Builder::flat(len, 256),
                                )?,
                            ])
                        };
                    let num_h_pass =
                        b.gemm::<T>([r, p, n], (&wb, n, Trans::Yes), (&q, n, Trans::No), &num_h)?;
                    passes.extend(half(
                        num_h_pass,
                        &num_h,
                        (&col_sums_w, &wb, &sums_w),
                        (h_update(1, false), &pen_h, &hb, r * p),
                    )?);
                    let num_w_pass =
                        b.gemm::<T>([n, r, p], (&q, n, Trans::No), (&hb, r, Trans::Yes), &num_w)?;
                    passes.extend(half(
                        num_w_pass,
                        &num_w,
                        (&row_sums_h, &hb, &sums_h),
                        (w_update(1, true), &pen_w, &wb, n * r),
                    )?);
                    // For the measure: W·H of the new factors, and the divergence's terms.
                    let measure = vec![
                        wh_pass()?,
                        q_pass(1)?,
                        b.pass::<T, _>(LINE_SUMS, &col_sums_w, &[&wb, &sums_w], lines)?,
                    ];
                    kl_bufs = Some((q, n * p, sums_w, sums_h, measure));
                }
                DeviceData::Sparse { cols, rows } => {
                    let nnz = cols.nnz;
                    let wh = b.buffer(nnz, elem);
                    let q = b.buffer(nnz, elem);
                    let q_rows = b.buffer(nnz, elem);
                    let sddmm = |s: &DeviceCsc,
                                 a: (&wgpu::Buffer, [usize; 2]),
                                 bb: (&wgpu::Buffer, [usize; 2])| {
                        let params = SddmmParams {
                            cols: s.ncols as u32,
                            r: r as u32,
                            a: a.1.map(|v| v as u32),
                            b: bb.1.map(|v| v as u32),
                            pad: [0; 2],
                        };
                        b.pass::<T, _>(
                            SDDMM,
                            &params,
                            &[a.0, bb.0, &s.col_ptr, &s.rows, &wh],
                            Builder::flat(s.ncols, 64),
                        )
                    };
                    // (W·H) at V's non-zeros, by columns (A = W, B = H) and by rows
                    // (A = Hᵀ: H[k, j] at k + j·r; B = Wᵀ: W[i, k] at i + k·n).
                    let by_cols = || sddmm(cols, (&wb, [1, n]), (&hb, [1, r]));
                    let by_rows = || sddmm(rows, (&hb, [r, 1]), (&wb, [n, 1]));
                    let q_pass = |vals: &wgpu::Buffer, out: &wgpu::Buffer, mode| {
                        b.pass::<T, _>(
                            NMF_QUOTIENT,
                            &quotient(nnz, mode),
                            &[vals, &wh, &eps, out],
                            Builder::flat(nnz, 256),
                        )
                    };
                    passes.push(by_cols()?);
                    passes.push(q_pass(&cols.vals, &q, 0)?);
                    // Qᵀ·W (p x r): H's entry (k, j) reads it at j + k·p.
                    passes.push(b.sparse_t::<T>(cols, &q, r, (&wb, 1, n), &num_h)?);
                    passes.push(b.pass::<T, _>(LINE_SUMS, &col_sums_w, &[&wb, &sums_w], lines)?);
                    let params = UpdateParams {
                        num: [p as u32, 1],
                        ..h_update(1, false)
                    };
                    passes.push(b.pass::<T, _>(
                        NMF_UPDATE,
                        &params,
                        &[&num_h, &sums_w, &pen_h, &hb],
                        Builder::flat(r * p, 256),
                    )?);
                    passes.push(by_rows()?);
                    passes.push(q_pass(&rows.vals, &q_rows, 0)?);
                    // Q·Hᵀ (n x r) from Qᵀ's CSC form.
                    passes.push(b.sparse_t::<T>(rows, &q_rows, r, (&hb, r, 1), &num_w)?);
                    passes.push(b.pass::<T, _>(LINE_SUMS, &row_sums_h, &[&hb, &sums_h], lines)?);
                    passes.push(b.pass::<T, _>(
                        NMF_UPDATE,
                        &w_update(1, true),
                        &[&num_w, &sums_h, &pen_w, &wb],
                        Builder::flat(n * r, 256),
                    )?);
                    let measure = vec![
                        by_cols()?,
                        q_pass(&cols.vals, &q, 1)?,
                        b.pass::<T, _>(LINE_SUMS, &col_sums_w, &[&wb, &sums_w], lines)?,
                    ];
                    kl_bufs = Some((q, nnz, sums_w, sums_h, measure));
                }
            }
            if kl {
                passes.push(hht_pass()?);
                passes.push(vht_pass()?);
            }
        }
    }
    // The measure: the KL rule's terms, WᵀW of the new W, then the reductions.
    let kl_sums = match kl_bufs {
        Some((terms, len, sums_w, sums_h, measure)) => {
            passes.extend(measure);
            Some((terms, len, sums_w, sums_h))
        }
        None => None,
    };
    passes.push(wtw_pass()?);
    let mut reductions: Vec<(Slot, usize)> = Vec::new();
    let mut reduce = |slot, mode, len, ab| -> Result<(), Declined> {
        let (pass, groups) = b.reduce::<T>(slot, mode, len, ab, &partials)?;
        passes.push(pass);
        reductions.push((slot, groups));
        Ok(())
    };
    reduce(Slot::Cross, 0, n * r, [&wb, &vht])?;
    reduce(Slot::Quad, 0, r * r, [&wtw, &hht])?;
    reduce(Slot::WSum, 1, n * r, [&wb, &wb])?;
    reduce(Slot::WSquares, 2, n * r, [&wb, &wb])?;
    reduce(Slot::HSum, 1, r * p, [&hb, &hb])?;
    reduce(Slot::HSquares, 2, r * p, [&hb, &hb])?;
    reduce(Slot::HNonzeros, 3, r * p, [&hb, &hb])?;
    if let Some((terms, len, sums_w, sums_h)) = &kl_sums {
        reduce(Slot::KlTerms, 1, *len, [terms, terms])?;
        reduce(Slot::KlTotal, 0, r, [sums_w, sums_h])?;
    }

    let back = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
    let all = bytes::<T>(SLOTS * PARTIALS);
    let staging = gpu.pool.take(&gpu.device, back, all, u64::MAX);
    let mut outcome = Ok(());
    for iter in 1..=job.max_iter {
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("nmf iteration"),
            });
        let timers: Vec<_> = passes
            .iter()
            .filter_map(|pass| pass.record(gpu, &mut encoder))
            .collect();
        encoder.copy_buffer_to_buffer(&partials, 0, &staging, 0, all);
        let index = gpu.queue.submit([encoder.finish()]);
        dispatch::finish_timers(gpu, timers, &index);
        let mut sums = [0.0f64; SLOTS];
        let read = buffers::read_back(&gpu.device, &staging, SLOTS * PARTIALS, Some(index), {
            let sums = &mut sums;
            let reductions = &reductions;
            move |src: &[T]| {
                // The partials in their order, in f64: the same sum on every run.
                for &(slot, groups) in reductions {
                    let at = slot as usize * PARTIALS;
                    sums[slot as usize] = src[at..at + groups].iter().map(|v| v.into_f64()).sum();
                }
            }
        });
        if read.is_none() {
            outcome = Err(Declined::new(
                "the device failed to return an iteration's sums",
            ));
            break;
        }
        let step = FactorStep {
            iter,
            cross: sums[Slot::Cross as usize],
            quad: sums[Slot::Quad as usize],
            w_sums: (sums[Slot::WSum as usize], sums[Slot::WSquares as usize]),
            h_sums: (sums[Slot::HSum as usize], sums[Slot::HSquares as usize]),
            h_nonzeros: sums[Slot::HNonzeros as usize].round() as usize,
            kl: kl.then(|| (sums[Slot::KlTerms as usize], sums[Slot::KlTotal as usize])),
        };
        if each(&step).is_break() {
            break;
        }
    }
    gpu.pool.give(staging);
    outcome?;
    dispatch::download(gpu, &wb, w.rb_mut())?;
    dispatch::download(gpu, &hb, h.rb_mut())
}

/// `Vᵀ·W` (p x r) into `out`.
fn vtw_pass<T: DeviceReal>(
    b: &Builder<'_>,
    data: &DeviceData,
    wb: &wgpu::Buffer,
    (n, p, r): (usize, usize, usize),
    out: &wgpu::Buffer,
) -> Result<Pass, Declined> {
    match data {
        DeviceData::Dense(v) => b.gemm::<T>([p, r, n], (v, n, Trans::Yes), (wb, n, Trans::No), out),
        DeviceData::Sparse { cols, .. } => b.sparse_t::<T>(cols, &cols.vals, r, (wb, 1, n), out),
    }
}
