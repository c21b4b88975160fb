//! CPU against GPU in one run: GEMM GFLOP/s on W1 and W2 shapes and a streamed product,
//! Batch-OMP signals/s on W1 and W2, NMF iterations/s on W5, one batched K-SVD iteration on
//! a large activation-like problem, and the SMT's covariance accumulation per image. Data
//! are synthetic with the shapes of `shared/peers`' workloads (so the binary needs no files
//! and runs as is on a lent GPU machine).
//!
//! ```text
//! gpu_bench [--scale full|small] [--threads N] [--device gpu|gpu:N] [--peak-tflops P] [--only a,b]
//!           [--kernel-times] [--gpu-only]
//! ```
//! `--scale small` divides the signal counts so that a software adapter (lavapipe, in CI)
//! finishes in seconds: its figures check the plumbing, not speed. Sections (`--only`):
//! gemm, omp, nmf, ksvd, smt. Prints a markdown table: what, shape, CPU seconds (the given
//! threads, and 2 threads where that differs), GPU seconds, rates and ratios, and GEMM's
//! share of `--peak-tflops` (the card's FP32 non-tensor peak). `--kernel-times` adds, from one
//! more run with timestamp queries, the seconds the kernels themselves took (the rest of the
//! GPU column is transfers and host work). `--gpu-only` skips the CPU runs (their columns
//! print NaN): for a lent GPU machine whose time is short, where a full-scale CPU run of the
//! K-SVD row alone can take minutes.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use dictum::coding::{Dictionary, Encoder, Omp, Selection};
use dictum::gpu::{DeviceRequest, Gpu, Mode, select};
use dictum::learn::dictionary::{Ksvd, ResidualMode};
use dictum::learn::nmf::{Nmf, NmfData, NmfSolver};
use dictum::linalg::exec::with_threads;
use dictum::smt::ImageSmt;
use dictum::{Exec, Learner, Mat, Par};

struct Args {
    small: bool,
    threads: usize,
    device: DeviceRequest,
    peak_tflops: Option<f64>,
    only: Vec<String>,
    kernel_times: bool,
    gpu_only: bool,
}

fn parse() -> Args {
    let mut a = Args {
        small: false,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        device: DeviceRequest::Gpu(None),
        peak_tflops: None,
        only: Vec::new(),
        kernel_times: false,
        gpu_only: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--scale" => a.small = v == "small",
            "--threads" => a.threads = v.parse().unwrap(),
            "--device" => a.device = v.parse().unwrap(),
            "--peak-tflops" => a.peak_tflops = Some(v.parse().unwrap()),
            "--only" => a.only = v.split(',').map(str::to_string).collect(),
            "--kernel-times" => {
                a.kernel_times = true;
                i += 1;
                continue;
            }
            "--gpu-only" => {
                a.gpu_only = true;
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// A splitmix64 stream of uniforms in `[-1, 1)`: data independent of any crate's generator.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }

    fn mat(&mut self, r: usize, c: usize) -> Mat<f32> {
        Mat::from_fn(r, c, |_, _| self.next())
    }
}

/// A unit-norm `d x m` dictionary and `n` signals of `k` atoms each (W1/W2's model).
fn planted(d: usize, m: usize, n: usize, k: usize, seed: u64) -> (Mat<f32>, Mat<f32>) {
    let mut s = Stream(seed);
    let mut dict = s.mat(d, m);
    Exec::new(Par::Seq).normalize_columns(dict.as_mut());
    let mut y = Mat::<f32>::zeros(d, n);
    for j in 0..n {
        for _ in 0..k {
            let atom = ((s.next() + 1.0) * 0.5 * m as f32) as usize % m;
            let w = 1.0 + 0.5 * s.next();
            for i in 0..d {
                y[(i, j)] += w * dict[(i, atom)];
            }
        }
        for i in 0..d {
            y[(i, j)] += 0.01 * s.next();
        }
    }
    (dict, y)
}

fn seconds(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

struct Row {
    what: String,
    shape: String,
    cpu: f64,
    cpu2: Option<f64>,
    gpu: f64,
    kernels: Option<f64>,
    unit: &'static str,
    per: f64,
}

fn print_rows(rows: &[Row], peak: Option<f64>, threads: usize) {
    println!(
        "| what | shape | CPU {threads} thr (s) | CPU 2 thr (s) | GPU (s) | GPU kernels (s) | CPU rate | GPU rate | GPU / CPU {threads} thr | GPU / CPU 2 thr |{}",
        if peak.is_some() {
            " GPU % of FP32 peak |"
        } else {
            ""
        }
    );
    println!(
        "|---|---|---|---|---|---|---|---|---|---|{}",
        if peak.is_some() { "---|" } else { "" }
    );
    for r in rows {
        let cpu2 = r.cpu2.unwrap_or(r.cpu);
        let pct = match (peak, r.unit) {
            (Some(p), "GFLOP/s") => format!(" {:.1}% |", 100.0 * r.per / r.gpu / 1e9 / (p * 1e3)),
            (Some(_), _) => " |".into(),
            (None, _) => String::new(),
        };
        println!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {} | {:.3e} {} | {:.3e} {} | {:.1}x | {:.1}x |{pct}",
            r.what,
            r.shape,
            r.cpu,
            cpu2,
            r.gpu,
            r.kernels.map_or("-".into(), |k| format!("{k:.4}")),
            r.per / r.cpu / if r.unit == "GFLOP/s" { 1e9 } else { 1.0 },
            r.unit,
            r.per / r.gpu / if r.unit == "GFLOP/s" { 1e9 } else { 1.0 },
            r.unit,
            r.cpu / r.gpu,
            cpu2 / r.gpu,
        );
    }
}

fn main() {
    let a = parse();
    let sel = select(a.device).unwrap();
    let gpu = sel.gpu.expect("a GPU (use --device gpu)");
    eprintln!("{}", sel.reason);
    println!("adapter: {}", gpu.adapter().to_string().replace('\n', "; "));
    let scale = if a.small { 64 } else { 1 };
    let wants = |s: &str| a.only.is_empty() || a.only.iter().any(|o| o == s);
    let mut rows = Vec::new();
    // Times `f` under a CPU context of `t` threads and under the GPU.
    let timed = a.kernel_times.then(|| {
        Gpu::open(gpu.adapter().index, Mode::Always)
            .unwrap()
            .with_timing(true)
    });
    let kernels = |par: Par, f: &(dyn Fn(&Exec<'_>) + Sync)| -> Option<f64> {
        let t = timed.as_ref()?;
        f(&Exec::new(par).with_backend(t));
        t.reset_kernel_times();
        f(&Exec::new(par).with_backend(t));
        Some(t.kernel_times().iter().map(|k| k.2).sum())
    };
    // Times `f` under a CPU context of `t` threads and under the GPU (wall, and kernels).
    type Timed = (f64, Option<f64>, Option<f64>);
    let on = |t: usize, gpu_too: bool, f: &(dyn Fn(&Exec<'_>) + Sync)| -> Timed {
        with_threads(t, |par| {
            let cpu = if a.gpu_only {
                f64::NAN
            } else {
                seconds(|| f(&Exec::new(par)))
            };
            let dev = gpu_too.then(|| {
                // One warm-up: pipelines compile and buffers enter the pool.
                f(&Exec::new(par).with_backend(&gpu));
                seconds(|| f(&Exec::new(par).with_backend(&gpu)))
            });
            let kern = if gpu_too { kernels(par, f) } else { None };
            (cpu, dev, kern)
        })
        .unwrap()
    };
    let two = |f: &(dyn Fn(&Exec<'_>) + Sync)| -> Option<f64> {
        (a.threads != 2 && !a.gpu_only).then(|| on(2, false, f).0)
    };

    if wants("gemm") {
        for (name, m, k, n) in [
            ("GEMM Dᵀ·Y, W1", 256, 64, 100_000 / scale),
            ("GEMM Dᵀ·Y, W2", 4096, 768, 20_000 / scale),
            (
                "GEMM Dᵀ·Y streamed",
                4096,
                2304,
                if a.small { 1024 } else { 1 << 20 },
            ),
        ] {
            let mut s = Stream(1);
            let d = s.mat(k, m);
            let y = s.mat(k, n);
            let f = |e: &Exec<'_>| {
                let mut c = Mat::<f32>::zeros(m, n);
                e.gemm_tn(c.as_mut(), d.as_ref(), y.as_ref()).unwrap();
            };
            let (cpu, dev, kern) = on(a.threads, true, &f);
            rows.push(Row {
                what: name.into(),
                shape: format!("{m}x{k} · {k}x{n}"),
                cpu,
                cpu2: two(&f),
                gpu: dev.unwrap(),
                kernels: kern,
                unit: "GFLOP/s",
                per: 2.0 * m as f64 * n as f64 * k as f64,
            });
        }
    }
    if wants("omp") {
        for (name, d, m, n, k) in [
            ("Batch-OMP, W1", 64, 256, 100_000 / scale, 8),
            ("Batch-OMP, W2", 768, 4096, 20_000 / scale, 16),
        ] {
            let (dict, y) = planted(d, m, n, k, 2);
            let dict = Dictionary::new(dict.as_ref()).unwrap();
            let omp = Omp::new()
                .n_nonzero_coefs(k)
                .selection(Selection::Ormp)
                .check()
                .unwrap();
            let f = |e: &Exec<'_>| {
                omp.encode(&dict, y.as_ref(), e).unwrap();
            };
            let (cpu, dev, kern) = on(a.threads, true, &f);
            rows.push(Row {
                what: name.into(),
                shape: format!("d={d} m={m} N={n} k={k}"),
                cpu,
                cpu2: two(&f),
                gpu: dev.unwrap(),
                kernels: kern,
                unit: "signals/s",
                per: n as f64,
            });
        }
    }
    if wants("nmf") {
        let (rows_v, cols_v, rank, iters) = (2000 / scale.min(8), 1000 / scale.min(8), 50, 20);
        let mut s = Stream(5);
        let w = Mat::<f32>::from_fn(rows_v, rank, |_, _| s.next().abs());
        let h = Mat::<f32>::from_fn(rank, cols_v, |_, _| s.next().abs());
        let v = &w * &h;
        for solver in [NmfSolver::Hals, NmfSolver::MultiplicativeFrobenius] {
            let f = |e: &Exec<'_>| {
                Nmf::new(rank)
                    .solver(solver)
                    .max_iter(iters)
                    .tol(0.0)
                    .fit(NmfData::Dense(v.as_ref()), e)
                    .unwrap();
            };
            let (cpu, dev, kern) = on(a.threads, true, &f);
            rows.push(Row {
                what: format!("NMF {solver:?}, W5"),
                shape: format!("{rows_v}x{cols_v} rank {rank}, {iters} it"),
                cpu,
                cpu2: two(&f),
                gpu: dev.unwrap(),
                kernels: kern,
                unit: "it/s",
                per: iters as f64,
            });
        }
    }
    if wants("ksvd") {
        let (d, m, n, k) = if a.small {
            (64, 128, 4096, 5)
        } else {
            (2304, 4096, 1 << 18, 20)
        };
        let mut s = Stream(7);
        let y = s.mat(d, n);
        let mut d0 = s.mat(d, m);
        Exec::new(Par::Seq).normalize_columns(d0.as_mut());
        let omp = Omp::new().n_nonzero_coefs(k).check().unwrap();
        let f = |e: &Exec<'_>| {
            Ksvd::new(m, omp.clone())
                .max_iter(1)
                .atoms_per_batch(64)
                .residual(ResidualMode::OnTheFly)
                .fit_from(y.as_ref(), Some(d0.as_ref()), e)
                .unwrap();
        };
        let (cpu, dev, kern) = on(a.threads, true, &f);
        rows.push(Row {
            what: "batched K-SVD, 1 iteration".into(),
            shape: format!("d={d} m={m} N={n} k={k}"),
            cpu,
            cpu2: None,
            gpu: dev.unwrap(),
            kernels: kern,
            unit: "it/s",
            per: 1.0,
        });
    }
    if wants("smt") {
        let digits = dictum::datasets::load_digits().unwrap();
        let n = digits.images.ncols().min(if a.small { 300 } else { 1797 });
        let x = digits.images.as_ref().subcols(0, n).to_owned();
        let f = |e: &Exec<'_>| {
            ImageSmt::new(8, 8, 4, 64, 10).fit(x.as_ref(), e).unwrap();
        };
        let (cpu, dev, kern) = on(a.threads, true, &f);
        rows.push(Row {
            what: "SMT fit on digits".into(),
            shape: format!("{n} images 8x8"),
            cpu,
            cpu2: two(&f),
            gpu: dev.unwrap(),
            kernels: kern,
            unit: "images/s",
            per: n as f64,
        });
    }
    print_rows(&rows, a.peak_tflops, a.threads);
}
