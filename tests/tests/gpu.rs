//! The wgpu backend against the CPU: every kernel on small and edge shapes, the streaming
//! path, resident matrices, declines with reasons, and whole algorithms on the device.
//!
//! CI has no GPU; it runs these on Mesa's lavapipe (a Vulkan driver on the CPU) and sets
//! `DICTUM_REQUIRE_GPU=1`, so a missing adapter fails there instead of skipping. Elsewhere a
//! machine without an adapter prints why and passes. Shapes stay small: lavapipe runs about
//! 0.1 GFLOP/s.

use std::ops::ControlFlow;
use std::sync::{Mutex, OnceLock};

use dictum::coding::{Dictionary, Encoder, Omp};
use dictum::gpu::{DeviceRequest, Gpu, Mode, select};
use dictum::learn::nmf::{Nmf, NmfData, NmfSolver};
use dictum::linalg::backend::{Op, SparseProduct, Trans};
use dictum::{CscMatrix, Event, Exec, Learner, Mat, MatRef, Par, Real};
use dictum_tests::Rng;

/// The shared device (opening one and compiling its pipelines costs about a second on
/// lavapipe), or `None` with the reason printed.
pub(crate) fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| open(Mode::Always)).as_ref()
}

pub(crate) fn open(mode: Mode) -> Option<Gpu> {
    match select(DeviceRequest::Gpu(None)) {
        Ok(s) => s.gpu.map(|g| g.with_mode(mode)),
        Err(e) => {
            assert!(
                std::env::var_os("DICTUM_REQUIRE_GPU").is_none(),
                "DICTUM_REQUIRE_GPU is set but no GPU opened: {e}"
            );
            eprintln!("skipped: no GPU adapter ({e})");
            None
        }
    }
}

/// The fallbacks an observer saw: (operation, reason).
#[derive(Default)]
pub(crate) struct Fallbacks(Mutex<Vec<(Op, String)>>);

impl Fallbacks {
    pub(crate) fn observe(&self, e: &Event<'_>) -> ControlFlow<()> {
        if let Event::Fallback { op, reason, .. } = e {
            self.0.lock().unwrap().push((*op, reason.to_string()));
        }
        ControlFlow::Continue(())
    }

    pub(crate) fn take(&self) -> Vec<(Op, String)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// `max |a - b| / (1 + max |b|)`.
fn rel_diff(a: MatRef<'_, f32>, b: MatRef<'_, f32>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let mut diff = 0.0f64;
    let mut scale = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            diff = diff.max(f64::from((a[(i, j)] - b[(i, j)]).abs()));
            scale = scale.max(f64::from(b[(i, j)].abs()));
        }
    }
    diff / (1.0 + scale)
}

/// A random matrix stored so that `op(stored)` is `rows x cols`.
fn stored<T: Real>(rows: usize, cols: usize, t: Trans, rng: &mut Rng) -> Mat<T> {
    match t {
        Trans::No => rng.mat::<T>(rows, cols),
        Trans::Yes => rng.mat::<T>(cols, rows),
    }
}

#[test]
fn gemm_matches_the_cpu_on_edge_shapes_and_every_transposition() {
    let Some(gpu) = gpu() else { return };
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let on_gpu = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    let on_cpu = Exec::new(Par::Seq);
    let mut rng = Rng::new(5);
    // 1 x 1 x 1; below one tile; exactly one tile; one past a tile in every dimension;
    // m and n across several tiles with a tiny k; k = 0. From 128 x 128 up, the large-tile
    // kernel: exactly one of its tiles, one past it with k not a multiple of its 8-deep
    // steps, k = 1, and m and n across several tiles.
    let shapes = [
        (1, 1, 1),
        (5, 3, 7),
        (64, 16, 64),
        (65, 17, 129),
        (130, 70, 3),
        (3, 200, 2),
        (7, 0, 5),
        (128, 16, 128),
        (129, 13, 257),
        (200, 1, 131),
        (300, 41, 260),
    ];
    for &(m, k, n) in &shapes {
        for op_a in [Trans::No, Trans::Yes] {
            for op_b in [Trans::No, Trans::Yes] {
                let a = stored(m, k, op_a, &mut rng);
                let b = stored(k, n, op_b, &mut rng);
                let mut want = Mat::<f32>::zeros(m, n);
                on_cpu
                    .gemm(want.as_mut(), a.as_ref(), op_a, b.as_ref(), op_b)
                    .unwrap();
                let mut got = Mat::<f32>::from_fn(m, n, |_, _| f32::NAN);
                on_gpu
                    .gemm(got.as_mut(), a.as_ref(), op_a, b.as_ref(), op_b)
                    .unwrap();
                let d = rel_diff(got.as_ref(), want.as_ref());
                assert!(
                    d < 1e-5 * (k as f64 + 1.0),
                    "{m}x{k}x{n} {op_a:?}/{op_b:?}: relative difference {d:e}"
                );
            }
        }
    }
    assert_eq!(seen.take(), vec![], "no product fell back to the CPU");
}

#[test]
fn gemm_reads_strided_views_and_writes_into_submatrices() {
    let Some(gpu) = gpu() else { return };
    let mut rng = Rng::new(6);
    let big_a = rng.mat::<f32>(50, 40);
    let big_b = rng.mat::<f32>(30, 60);
    let a = big_a.as_ref().submatrix(3, 5, 20, 30); // 20 x 30, column stride 50
    let b = big_b.as_ref().submatrix(0, 7, 30, 33);
    let mut want = Mat::<f32>::zeros(20, 33);
    Exec::new(Par::Seq).gemm_nn(want.as_mut(), a, b).unwrap();
    let mut out = Mat::<f32>::from_fn(40, 50, |_, _| -7.0);
    let exec = Exec::new(Par::Seq).with_backend(gpu);
    exec.gemm_nn(out.as_mut().submatrix_mut(10, 4, 20, 33), a, b)
        .unwrap();
    let got = out.as_ref().submatrix(10, 4, 20, 33).to_owned();
    assert!(rel_diff(got.as_ref(), want.as_ref()) < 1e-5 * 31.0);
    // Nothing outside the destination block is touched.
    for j in 0..50 {
        for i in 0..40 {
            if !((10..30).contains(&i) && (4..37).contains(&j)) {
                assert_eq!(out[(i, j)], -7.0, "({i}, {j}) was written");
            }
        }
    }
}

#[test]
fn products_larger_than_one_binding_stream_in_column_chunks() {
    if gpu().is_none() {
        return;
    }
    // 8 KiB bindings: B (40 x 300) and C (30 x 300) go through in chunks of 51 columns.
    let small = open(Mode::Always).unwrap().with_max_binding_bytes(8 << 10);
    let mut rng = Rng::new(7);
    for op_b in [Trans::No, Trans::Yes] {
        let a = rng.mat::<f32>(40, 30);
        let b = stored(40, 300, op_b, &mut rng);
        let mut want = Mat::<f32>::zeros(30, 300);
        Exec::new(Par::Seq)
            .gemm(want.as_mut(), a.as_ref(), Trans::Yes, b.as_ref(), op_b)
            .unwrap();
        let seen = Fallbacks::default();
        let observer = |e: &Event<'_>| seen.observe(e);
        let exec = Exec::new(Par::Seq)
            .with_backend(&small)
            .with_observer(&observer);
        let mut got = Mat::<f32>::zeros(30, 300);
        exec.gemm(got.as_mut(), a.as_ref(), Trans::Yes, b.as_ref(), op_b)
            .unwrap();
        assert_eq!(seen.take(), vec![], "streamed, not declined");
        assert!(rel_diff(got.as_ref(), want.as_ref()) < 1e-5 * 41.0);
    }
    // An operand that cannot be split (A itself) larger than a binding is declined with
    // the reason, and the CPU's answer comes back.
    let a = rng.mat::<f32>(100, 30);
    let b = rng.mat::<f32>(100, 5);
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(&small)
        .with_observer(&observer);
    let mut got = Mat::<f32>::zeros(30, 5);
    exec.gemm_tn(got.as_mut(), a.as_ref(), b.as_ref()).unwrap();
    let fell = seen.take();
    assert_eq!(fell.len(), 1);
    assert!(fell[0].1.contains("storage binding"), "{fell:?}");
    let mut want = Mat::<f32>::zeros(30, 5);
    Exec::new(Par::Seq)
        .gemm_tn(want.as_mut(), a.as_ref(), b.as_ref())
        .unwrap();
    assert_eq!(got, want);
}

#[test]
fn gram_is_exactly_symmetric_and_norms_match_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let exec = Exec::new(Par::Seq).with_backend(gpu);
    let mut rng = Rng::new(8);
    for (d, m) in [(1, 1), (16, 40), (70, 130)] {
        let a = rng.mat::<f32>(d, m);
        let g = exec.gram(a.as_ref()).unwrap();
        let want = Exec::new(Par::Seq).gram(a.as_ref()).unwrap();
        for j in 0..m {
            for i in 0..m {
                assert_eq!(g[(i, j)], g[(j, i)]);
            }
        }
        assert!(rel_diff(g.as_ref(), want.as_ref()) < 1e-5 * (d as f64 + 1.0));
        let norms = exec.column_norms(a.as_ref());
        let cpu = Exec::new(Par::Seq).column_norms(a.as_ref());
        for (x, y) in norms.iter().zip(&cpu) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y), "{x} vs {y}");
        }
    }
}

#[test]
fn a_resident_dictionary_is_used_by_every_product() {
    let Some(gpu) = gpu() else { return };
    let exec = Exec::new(Par::Seq).with_backend(gpu);
    let mut rng = Rng::new(9);
    let d = rng.mat::<f32>(24, 50);
    let resident = exec.resident(d.as_ref());
    assert!(resident.buffer().is_some(), "the GPU keeps a copy");
    for n in [1, 33, 70] {
        let y = rng.mat::<f32>(24, n);
        let mut got = Mat::<f32>::zeros(50, n);
        exec.gemm_tn(got.as_mut(), &resident, y.as_ref()).unwrap();
        let mut want = Mat::<f32>::zeros(50, n);
        Exec::new(Par::Seq)
            .gemm_tn(want.as_mut(), d.as_ref(), y.as_ref())
            .unwrap();
        assert!(rel_diff(got.as_ref(), want.as_ref()) < 1e-5 * 25.0);
    }
}

#[test]
fn what_the_gpu_does_not_run_falls_back_with_a_reason() {
    let Some(gpu) = gpu() else { return };
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    let mut rng = Rng::new(10);
    // f64 runs where the adapter has f64 shaders, and says why not elsewhere.
    let a = rng.mat::<f64>(8, 6);
    let mut c = Mat::<f64>::zeros(6, 6);
    exec.gemm_tn(c.as_mut(), a.as_ref(), a.as_ref()).unwrap();
    let fell = seen.take();
    if gpu.adapter().shader_f64 {
        assert_eq!(fell, vec![]);
    } else {
        assert!(fell[0].1.contains("SHADER_F64"), "{fell:?}");
    }
    // Non-finite input is refused before upload; the CPU computes what it computes.
    let mut a = rng.mat::<f32>(8, 6);
    a[(2, 3)] = f32::NAN;
    let mut c = Mat::<f32>::zeros(6, 6);
    exec.gemm_tn(c.as_mut(), a.as_ref(), a.as_ref()).unwrap();
    let fell = seen.take();
    assert!(fell[0].1.contains("non-finite"), "{fell:?}");
    assert!(c[(3, 3)].is_nan());
    // In auto mode a small product stays on the CPU, and says why.
    let auto = open(Mode::Auto).unwrap();
    let exec = Exec::new(Par::Seq)
        .with_backend(&auto)
        .with_observer(&observer);
    let a = rng.mat::<f32>(8, 6);
    let mut c = Mat::<f32>::zeros(6, 6);
    exec.gemm_tn(c.as_mut(), a.as_ref(), a.as_ref()).unwrap();
    let fell = seen.take();
    assert!(fell[0].1.starts_with("auto:"), "{fell:?}");
}

#[test]
fn nan_signals_are_refused_before_anything_reaches_the_device() {
    let Some(gpu) = gpu() else { return };
    let mut rng = Rng::new(11);
    let mut d = rng.mat::<f32>(12, 20);
    Exec::new(Par::Seq).normalize_columns(d.as_mut());
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let mut y = rng.mat::<f32>(12, 9);
    y[(4, 5)] = f32::NAN;
    let omp = Omp::new().n_nonzero_coefs(3).check().unwrap();
    let err = omp
        .encode(&dict, y.as_ref(), &Exec::new(Par::Seq).with_backend(gpu))
        .unwrap_err();
    assert!(err.to_string().contains("column 5"), "{err}");
}

/// `(d x N)` signals, each a combination of `k` atoms of a random unit-norm dictionary.
fn planted(d: usize, m: usize, n: usize, k: usize, seed: u64) -> (Mat<f32>, Mat<f32>) {
    let mut rng = Rng::new(seed);
    let mut dict = rng.mat::<f32>(d, m);
    Exec::new(Par::Seq).normalize_columns(dict.as_mut());
    let mut y = Mat::<f32>::zeros(d, n);
    for j in 0..n {
        for _ in 0..k {
            let atom = (rng.uniform() * m as f64) as usize % m;
            let w = (1.0 + rng.uniform()) as f32;
            for i in 0..d {
                y[(i, j)] += w * dict[(i, atom)];
            }
        }
    }
    (dict, y)
}

#[test]
fn batch_omp_on_the_device_chooses_the_cpus_supports() {
    let Some(gpu) = gpu() else { return };
    let (dict, y) = planted(32, 80, 600, 4, 12);
    let dict = Dictionary::new(dict.as_ref()).unwrap();
    let omp = Omp::new().n_nonzero_coefs(4).check().unwrap();
    let cpu = omp.encode(&dict, y.as_ref(), &Exec::new(Par::Seq)).unwrap();
    let dev = omp
        .encode(&dict, y.as_ref(), &Exec::new(Par::Seq).with_backend(gpu))
        .unwrap();
    let same = (0..y.ncols())
        .filter(|&j| cpu.col(j).0 == dev.col(j).0)
        .count();
    let share = same as f64 / y.ncols() as f64;
    eprintln!("supports equal on {same}/{} signals", y.ncols());
    assert!(share >= 0.99, "supports equal on only {same}/{}", y.ncols());
}

#[test]
fn nmf_on_the_device_never_raises_its_objective() {
    let Some(gpu) = gpu() else { return };
    let mut rng = Rng::new(13);
    let w = Mat::<f32>::from_fn(40, 4, |_, _| rng.uniform().abs() as f32);
    let h = Mat::<f32>::from_fn(4, 60, |_, _| rng.uniform().abs() as f32);
    let v = &w * &h;
    let sparse = CscMatrix::from_dense(v.as_ref()).unwrap();
    for (solver, data) in [
        (NmfSolver::Hals, NmfData::Dense(v.as_ref())),
        (
            NmfSolver::MultiplicativeFrobenius,
            NmfData::Dense(v.as_ref()),
        ),
        (NmfSolver::Hals, NmfData::Sparse(&sparse)),
    ] {
        let seen = Fallbacks::default();
        let observer = |e: &Event<'_>| seen.observe(e);
        let exec = Exec::new(Par::Seq)
            .with_backend(gpu)
            .with_observer(&observer);
        let fit = Nmf::new(4)
            .solver(solver)
            .max_iter(20)
            .tol(0.0)
            .fit(data, &exec)
            .unwrap();
        // Every f32 product ran on the device; the NNDSVD start orthonormalises its
        // randomized SVD in f64 on purpose, and that one small product stays on the CPU.
        let fell = seen.take();
        assert!(
            fell.iter()
                .all(|(_, why)| why.contains("f64 runs on the CPU")),
            "{solver:?}: {fell:?}"
        );
        let objective: Vec<f64> = fit.history.iter().map(|s| s.objective).collect();
        for pair in objective.windows(2) {
            assert!(
                pair[1] <= pair[0] * (1.0 + 1e-5) + 1e-6,
                "{solver:?}: objective rose {} -> {}",
                pair[0],
                pair[1]
            );
        }
    }
}

#[test]
fn timestamp_queries_give_kernel_times() {
    if gpu().is_none() {
        return;
    }
    let timed = open(Mode::Always).unwrap().with_timing(true);
    if !timed.adapter().timestamps {
        eprintln!("skipped: the adapter has no timestamp queries");
        return;
    }
    let mut rng = Rng::new(14);
    let a = rng.mat::<f32>(30, 20);
    let exec = Exec::new(Par::Seq).with_backend(&timed);
    let mut c = Mat::<f32>::zeros(20, 20);
    for _ in 0..3 {
        exec.gemm_tn(c.as_mut(), a.as_ref(), a.as_ref()).unwrap();
    }
    exec.column_norms(a.as_ref());
    let times = timed.kernel_times();
    let gemm = times.iter().find(|t| t.0 == "gemm").unwrap();
    assert_eq!(gemm.1, 3, "{times:?}");
    assert!(gemm.2 > 0.0, "{times:?}");
    assert!(
        times.iter().any(|t| t.0 == "column_norms" && t.1 == 1),
        "{times:?}"
    );
    timed.reset_kernel_times();
    assert!(timed.kernel_times().is_empty());
}

#[test]
fn sparse_products_match_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    let cpu = Exec::new(Par::Seq);
    let mut rng = Rng::new(15);
    // m x n sparse with about a third of the entries set, an empty column included.
    for (m, n, q) in [(1, 1, 1), (40, 70, 9), (130, 65, 66)] {
        let dense = Mat::<f32>::from_fn(m, n, |_, j| {
            let v = rng.uniform() as f32;
            if j == n / 2 || v.abs() > 0.33 { 0.0 } else { v }
        });
        let x = CscMatrix::from_dense(dense.as_ref()).unwrap();
        for product in [
            SparseProduct::DenseTimesSparse,
            SparseProduct::SparseTimesDense,
            SparseProduct::SparseTransposeTimesDense,
        ] {
            let (b, shape) = match product {
                SparseProduct::DenseTimesSparse => (rng.mat::<f32>(q, m), (q, n)),
                SparseProduct::SparseTimesDense => (rng.mat::<f32>(n, q), (m, q)),
                SparseProduct::SparseTransposeTimesDense => (rng.mat::<f32>(m, q), (n, q)),
            };
            let mut want = Mat::<f32>::zeros(shape.0, shape.1);
            cpu.sparse_dense(want.as_mut(), product, &x, b.as_ref())
                .unwrap();
            let mut got = Mat::<f32>::from_fn(shape.0, shape.1, |_, _| f32::NAN);
            exec.sparse_dense(got.as_mut(), product, &x, b.as_ref())
                .unwrap();
            let d = rel_diff(got.as_ref(), want.as_ref());
            assert!(
                d < 1e-5 * (m.max(n) as f64),
                "{product:?} {m}x{n}x{q}: {d:e}"
            );
        }
    }
    assert_eq!(seen.take(), vec![], "no sparse product fell back");
}

#[test]
fn f64_kernels_match_the_cpu_where_the_adapter_has_them() {
    let Some(gpu) = gpu() else { return };
    if !gpu.adapter().shader_f64 {
        eprintln!("skipped: the adapter has no f64 shaders");
        return;
    }
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    let cpu = Exec::new(Par::Seq);
    let mut rng = Rng::new(16);
    let close = |a: MatRef<'_, f64>, b: MatRef<'_, f64>, k: usize| {
        let mut diff = 0.0f64;
        for j in 0..a.ncols() {
            for i in 0..a.nrows() {
                diff = diff.max((a[(i, j)] - b[(i, j)]).abs());
            }
        }
        assert!(diff < 1e-13 * (k as f64 + 1.0), "difference {diff:e}");
    };
    for &(m, k, n) in &[(1, 1, 1), (65, 17, 129), (3, 200, 2), (129, 13, 200)] {
        for op_a in [Trans::No, Trans::Yes] {
            for op_b in [Trans::No, Trans::Yes] {
                let a = stored::<f64>(m, k, op_a, &mut rng);
                let b = stored::<f64>(k, n, op_b, &mut rng);
                let mut want = Mat::<f64>::zeros(m, n);
                cpu.gemm(want.as_mut(), a.as_ref(), op_a, b.as_ref(), op_b)
                    .unwrap();
                let mut got = Mat::<f64>::zeros(m, n);
                exec.gemm(got.as_mut(), a.as_ref(), op_a, b.as_ref(), op_b)
                    .unwrap();
                close(got.as_ref(), want.as_ref(), k);
            }
        }
    }
    let a = rng.mat::<f64>(40, 30);
    close(
        exec.gram(a.as_ref()).unwrap().as_ref(),
        cpu.gram(a.as_ref()).unwrap().as_ref(),
        40,
    );
    let norms = exec.column_norms(a.as_ref());
    for (x, y) in norms.iter().zip(cpu.column_norms(a.as_ref())) {
        assert!((x - y).abs() < 1e-13 * (1.0 + y));
    }
    let x = CscMatrix::from_dense(
        Mat::<f64>::from_fn(30, 50, |i, j| {
            if (i + 3 * j) % 4 == 0 {
                (i + j) as f64
            } else {
                0.0
            }
        })
        .as_ref(),
    )
    .unwrap();
    let b = rng.mat::<f64>(30, 7);
    let mut want = Mat::<f64>::zeros(50, 7);
    cpu.sparse_dense(
        want.as_mut(),
        SparseProduct::SparseTransposeTimesDense,
        &x,
        b.as_ref(),
    )
    .unwrap();
    let mut got = Mat::<f64>::zeros(50, 7);
    exec.sparse_dense(
        got.as_mut(),
        SparseProduct::SparseTransposeTimesDense,
        &x,
        b.as_ref(),
    )
    .unwrap();
    close(got.as_ref(), want.as_ref(), 30 * 80);
    assert_eq!(seen.take(), vec![], "f64 ran on the device");
}

#[test]
fn outer_product_sums_match_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    let mut rng = Rng::new(21);
    let mut sparse = |rows: usize, cols: usize| {
        let dense = Mat::<f64>::from_fn(rows, cols, |_, j| {
            let v = rng.uniform();
            if j % 7 == 3 || v.abs() > 0.3 { 0.0 } else { v }
        });
        CscMatrix::from_dense(dense.as_ref()).unwrap()
    };
    // dst += U·Vᵀ onto a dst that already holds a sum (the SMT accumulates batch by batch).
    for (p, q, n) in [(1, 1, 1), (30, 30, 50), (45, 70, 130)] {
        let (u, v) = (sparse(p, n), sparse(q, n));
        let start = Mat::<f64>::from_fn(p, q, |i, j| (i + 2 * j) as f64 * 0.01);
        let (mut want, mut got) = (start.clone(), start.clone());
        Exec::new(Par::Seq)
            .outer_products(want.as_mut(), &u, &v)
            .unwrap();
        exec.outer_products(got.as_mut(), &u, &v).unwrap();
        if gpu.adapter().shader_f64 {
            let diff = (0..q)
                .flat_map(|j| (0..p).map(move |i| (i, j)))
                .map(|(i, j)| (got[(i, j)] - want[(i, j)]).abs())
                .fold(0.0, f64::max);
            assert!(diff <= 1e-13, "{p}x{q}x{n}: {diff:e}");
        }
        // f32, against the CPU's f32 sum.
        let to32 = |x: &CscMatrix<f64>| {
            let d = x.to_dense();
            CscMatrix::from_dense(
                Mat::<f32>::from_fn(d.nrows(), d.ncols(), |i, j| d[(i, j)] as f32).as_ref(),
            )
            .unwrap()
        };
        let (u32_, v32) = (to32(&u), to32(&v));
        let mut want = Mat::<f32>::zeros(p, q);
        let mut got = Mat::<f32>::zeros(p, q);
        Exec::new(Par::Seq)
            .outer_products(want.as_mut(), &u32_, &v32)
            .unwrap();
        exec.outer_products(got.as_mut(), &u32_, &v32).unwrap();
        assert!(
            rel_diff(got.as_ref(), want.as_ref()) < 1e-6,
            "{p}x{q}x{n} f32"
        );
    }
    let fell = seen.take();
    assert!(
        fell.iter().all(|(op, _)| *op != Op::OuterProducts),
        "{fell:?}"
    );
}

#[test]
fn the_smt_fits_on_the_device_with_the_cpus_spectrum() {
    let Some(gpu) = gpu() else { return };
    let digits = dictum::datasets::load_digits().unwrap();
    let x = digits.images.as_ref().subcols(0, 120).to_owned();
    let smt = dictum::smt::ImageSmt::new(8, 8, 4, 32, 6);
    let cpu = smt.fit(x.as_ref(), &Exec::new(Par::Seq)).unwrap();
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer);
    let dev = smt.fit(x.as_ref(), &exec).unwrap();
    let fell = seen.take();
    assert!(
        fell.iter().all(|(op, _)| *op != Op::OuterProducts),
        "{fell:?}"
    );
    let (a, b) = (&cpu.embedding.eigenvalues, &dev.embedding.eigenvalues);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-3 * x.abs().max(1e-9), "{a:?} vs {b:?}");
    }
}

#[test]
fn sparse_products_stream_past_one_binding() {
    if gpu().is_none() {
        return;
    }
    // 2 KiB bindings: a 40 x 300 sparse matrix (about 4 000 non-zeros, 16 KiB) and every
    // result go through in chunks of its columns; the dense operands (≤ 1.3 KiB) fit.
    let small = open(Mode::Always).unwrap().with_max_binding_bytes(2 << 10);
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(&small)
        .with_observer(&observer);
    let mut rng = Rng::new(22);
    let dense = Mat::<f32>::from_fn(40, 300, |_, _| {
        let v = rng.uniform() as f32;
        if v.abs() > 0.33 { 0.0 } else { v }
    });
    let x = CscMatrix::from_dense(dense.as_ref()).unwrap();
    for (product, b, shape) in [
        (
            SparseProduct::DenseTimesSparse,
            rng.mat::<f32>(8, 40),
            (8, 300),
        ),
        (
            SparseProduct::SparseTimesDense,
            rng.mat::<f32>(300, 1),
            (40, 1),
        ),
        (
            SparseProduct::SparseTransposeTimesDense,
            rng.mat::<f32>(40, 8),
            (300, 8),
        ),
    ] {
        let mut want = Mat::<f32>::zeros(shape.0, shape.1);
        Exec::new(Par::Seq)
            .sparse_dense(want.as_mut(), product, &x, b.as_ref())
            .unwrap();
        let mut got = Mat::<f32>::from_fn(shape.0, shape.1, |_, _| f32::NAN);
        exec.sparse_dense(got.as_mut(), product, &x, b.as_ref())
            .unwrap();
        assert!(
            rel_diff(got.as_ref(), want.as_ref()) < 1e-5 * 300.0,
            "{product:?}"
        );
    }
    assert_eq!(seen.take(), vec![], "streamed, not declined");
}
