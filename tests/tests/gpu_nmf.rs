//! NMF's iterations run whole on the device (the fused factorization) against the CPU's
//! solvers: every rule, dense and sparse data, penalties, both precisions, the stopping rule
//! and what the device declines. Runs on lavapipe in CI (see gpu.rs).

use dictum::gpu::Gpu;
use dictum::learn::nmf::{Nmf, NmfData, NmfSolver};
use dictum::linalg::backend::Op;
use dictum::{CscMatrix, Event, Exec, Learner, Mat, Par, Precision, Real};
use dictum_tests::Rng;

use crate::gpu::{Fallbacks, gpu};

/// A non-negative `n x p` matrix of rank about `r` with a share of exact zeros (so that the
/// sparse form is sparse), plus a little noise.
fn data<T: Real>(n: usize, p: usize, r: usize, seed: u64) -> Mat<T> {
    let mut rng = Rng::new(seed);
    let w = Mat::<f64>::from_fn(n, r, |_, _| rng.uniform().abs());
    let h = Mat::<f64>::from_fn(r, p, |_, _| {
        let u = rng.uniform();
        if u < -0.3 { 0.0 } else { u.abs() }
    });
    let v = &w * &h;
    Mat::from_fn(n, p, |i, j| {
        let x = v[(i, j)];
        T::cast_f64(if x < 0.15 {
            0.0
        } else {
            x + 0.01 * rng.uniform().abs()
        })
    })
}

/// Fits on the CPU and on the device from the same start, and returns both objective
/// histories; the device must have run the factorization (no fallback for it), except f64
/// KL (`on_cpu`), which must have fallen back with its reason.
fn both<T: Real>(gpu: &Gpu, nmf: &Nmf, v: NmfData<'_, T>, on_cpu: bool) -> (Vec<f64>, Vec<f64>) {
    let cpu = nmf.fit(v, &Exec::new(Par::Seq)).unwrap();
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    let dev = nmf.fit(v, &exec).unwrap();
    let fell = seen.take();
    if on_cpu {
        // Vulkan shaders have no f64 logarithm: the CPU runs f64 KL, and says why.
        assert!(
            fell.iter()
                .any(|(op, why)| *op == Op::Factorize && why.contains("logarithm")),
            "{fell:?}"
        );
    } else {
        assert!(
            fell.iter().all(|(op, _)| *op != Op::Factorize),
            "the factorization fell back: {fell:?}"
        );
    }
    let objectives = |h: &[dictum::IterationStats]| h.iter().map(|s| s.objective).collect();
    (objectives(&cpu.history), objectives(&dev.history))
}

fn rules<T: Real>(gpu: &Gpu, tol: f64) {
    let v = data::<T>(37, 29, 4, 1);
    let sparse = CscMatrix::from_dense(v.as_ref()).unwrap();
    let solvers = [
        NmfSolver::Hals,
        NmfSolver::MultiplicativeFrobenius,
        NmfSolver::MultiplicativeKl,
    ];
    for solver in solvers {
        for (what, data) in [
            ("dense", NmfData::Dense(v.as_ref())),
            ("sparse", NmfData::Sparse(&sparse)),
        ] {
            for alpha in [0.0, 0.05] {
                let nmf = Nmf::new(4)
                    .solver(solver)
                    .alpha_w(alpha)
                    .alpha_h(2.0 * alpha)
                    .l1_ratio(0.3)
                    .max_iter(25)
                    .tol(0.0);
                let on_cpu =
                    T::PRECISION == Precision::F64 && solver == NmfSolver::MultiplicativeKl;
                let (cpu, dev) = both(gpu, &nmf, data, on_cpu);
                assert_eq!(cpu.len(), dev.len(), "{solver:?} {what}: iterations");
                for (it, (c, d)) in cpu.iter().zip(&dev).enumerate() {
                    assert!(
                        (c - d).abs() <= tol * c.abs().max(1e-6),
                        "{} {solver:?} {what} alpha {alpha}: iteration {} objective {c} on \
                         the CPU, {d} on the device",
                        T::PRECISION,
                        it + 1
                    );
                }
                for pair in dev.windows(2) {
                    assert!(
                        pair[1] <= pair[0] * (1.0 + 10.0 * tol) + 1e-9,
                        "{solver:?} {what}: the device's objective rose {} -> {}",
                        pair[0],
                        pair[1]
                    );
                }
            }
        }
    }
}

#[test]
fn nmf_on_the_device_follows_the_cpus_iterations() {
    let Some(gpu) = gpu() else { return };
    rules::<f32>(gpu, 2e-4);
    if gpu.adapter().shader_f64 {
        rules::<f64>(gpu, 1e-10);
    } else {
        eprintln!("f64 factorization skipped: the adapter has no f64 shaders");
    }
}

#[test]
fn the_device_stops_where_the_cpu_stops_and_returns_the_factors() {
    let Some(gpu) = gpu() else { return };
    let v = data::<f64>(40, 30, 3, 2);
    let nmf = Nmf::new(3).max_iter(500).tol(1e-6);
    let cpu = nmf
        .fit(NmfData::Dense(v.as_ref()), &Exec::new(Par::Seq))
        .unwrap();
    let exec = Exec::new(Par::Seq).with_backend(gpu);
    let dev = nmf.fit(NmfData::Dense(v.as_ref()), &exec).unwrap();
    if gpu.adapter().shader_f64 {
        assert_eq!(cpu.n_iter, dev.n_iter, "the same stopping iteration");
        assert_eq!(cpu.stop, dev.stop);
    }
    assert!(dev.n_iter < 500);
    // The factors returned are the ones the last statistics describe.
    let wh = &dev.model.w * &dev.model.h;
    let mut r2 = 0.0;
    let mut v2 = 0.0;
    for j in 0..v.ncols() {
        for i in 0..v.nrows() {
            r2 += (v[(i, j)] - wh[(i, j)]).powi(2);
            v2 += v[(i, j)].powi(2);
        }
    }
    let last = dev.history.last().unwrap();
    assert!(((r2 / v2).sqrt() - last.rel_error).abs() < 1e-6, "{last:?}");
}

#[test]
fn ranks_above_the_kernels_limit_run_on_the_cpu_with_the_reason() {
    let Some(gpu) = gpu() else { return };
    let v = data::<f32>(140, 140, 5, 3);
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    Nmf::new(130)
        .max_iter(2)
        .fit(NmfData::Dense(v.as_ref()), &exec)
        .unwrap();
    let fell = seen.take();
    assert!(
        fell.iter()
            .any(|(op, why)| *op == Op::Factorize && why.contains("128")),
        "{fell:?}"
    );
}
