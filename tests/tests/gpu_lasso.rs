//! FISTA and ISTA run whole on the device (the fused LASSO) against the CPU's blocks: both
//! methods, non-negative codes, the elastic net, warm starts, early stopping by the duality
//! gap, streaming in chunks, both precisions. Runs on lavapipe in CI (see gpu.rs).

use dictum::coding::{Dictionary, Encoder, Fista};
use dictum::gpu::{Gpu, Mode};
use dictum::linalg::backend::Op;
use dictum::{CscMatrix, Event, Exec, Mat, Par, Real};
use dictum_tests::Rng;

use crate::gpu::{Fallbacks, gpu, open};

fn problem<T: Real>(d: usize, m: usize, n: usize, seed: u64) -> (Mat<T>, Mat<T>) {
    let mut rng = Rng::new(seed);
    let mut dict = rng.mat::<f64>(d, m);
    dictum::linalg::norms::normalize_columns(dict.as_mut());
    let mut y = Mat::<f64>::zeros(d, n);
    for j in 0..n {
        for t in 0..3 {
            let a = (j * 5 + t * 11) % m;
            let c = 1.0 + rng.uniform();
            for i in 0..d {
                y[(i, j)] += c * dict[(i, a)];
            }
        }
        for i in 0..d {
            y[(i, j)] += 0.05 * rng.uniform();
        }
    }
    let cast =
        |a: &Mat<f64>| Mat::<T>::from_fn(a.nrows(), a.ncols(), |i, j| T::cast_f64(a[(i, j)]));
    (cast(&dict), cast(&y))
}

/// `½‖y − Dx‖² + λ‖x‖₁ + ½λ₂‖x‖²` of signal `j`.
fn objective<T: Real>(
    d: &Mat<T>,
    y: &Mat<T>,
    x: &CscMatrix<T>,
    j: usize,
    lam: f64,
    lam2: f64,
) -> f64 {
    let mut r: Vec<f64> = (0..y.nrows()).map(|i| y[(i, j)].into_f64()).collect();
    let (rows, vals) = x.col(j);
    let (mut l1, mut l2) = (0.0, 0.0);
    for (&a, &v) in rows.iter().zip(vals) {
        let v = v.into_f64();
        l1 += v.abs();
        l2 += v * v;
        for (i, ri) in r.iter_mut().enumerate() {
            *ri -= d[(i, a as usize)].into_f64() * v;
        }
    }
    0.5 * r.iter().map(|v| v * v).sum::<f64>() + lam * l1 + 0.5 * lam2 * l2
}

/// Codes on the CPU and on `gpu` with `fista` (from `init` when given); the device must have
/// run it. Returns the largest relative difference of the signals' objectives.
fn compare<T: Real>(
    gpu: &Gpu,
    fista: &Fista,
    (lam, lam2): (f64, f64),
    d: &Mat<T>,
    y: &Mat<T>,
    init: Option<&CscMatrix<T>>,
) -> f64 {
    let fista = fista.clone().check().unwrap();
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let code = |exec: &Exec<'_>| match init {
        Some(x0) => fista.encode_warm(&dict, y.as_ref(), x0, exec).unwrap(),
        None => fista.encode(&dict, y.as_ref(), exec).unwrap(),
    };
    let cpu = code(&Exec::new(Par::Seq));
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let dev = code(
        &Exec::new(Par::Seq)
            .with_backend(gpu)
            .with_observer(&observer),
    );
    let fell: Vec<_> = seen
        .take()
        .into_iter()
        .filter(|(op, _)| *op == Op::Lasso)
        .collect();
    assert!(fell.is_empty(), "{fell:?}");
    (0..y.ncols())
        .map(|j| {
            let (a, b) = (
                objective(d, y, &cpu, j, lam, lam2),
                objective(d, y, &dev, j, lam, lam2),
            );
            (a - b).abs() / a.abs().max(1e-12)
        })
        .fold(0.0, f64::max)
}

fn variants<T: Real>(gpu: &Gpu, tol: f64) {
    let (d, y) = problem::<T>(20, 50, 140, 1);
    let cases = [
        (Fista::new(0.1).max_iter(150), (0.1, 0.0)),
        (Fista::ista(0.1).max_iter(150), (0.1, 0.0)),
        (Fista::new(0.05).positive(true).max_iter(150), (0.05, 0.0)),
        (Fista::new(0.1).lambda2(0.2).max_iter(150), (0.1, 0.2)),
        // Stops by the duality gap long before max_iter.
        (Fista::new(0.2).tol(1e-4).max_iter(5000), (0.2, 0.0)),
    ];
    for (case, (fista, pen)) in cases.iter().enumerate() {
        let diff = compare(gpu, fista, *pen, &d, &y, None);
        eprintln!("{} case {case}: objectives within {diff:.1e}", T::PRECISION);
        assert!(diff < tol, "{} case {case}: {diff:e}", T::PRECISION);
    }
    // A warm start from a short run.
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let x0 = Fista::new(0.1)
        .max_iter(20)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &Exec::new(Par::Seq))
        .unwrap();
    let diff = compare(
        gpu,
        &Fista::new(0.1).max_iter(100),
        (0.1, 0.0),
        &d,
        &y,
        Some(&x0),
    );
    assert!(diff < tol, "warm start: {diff:e}");
}

#[test]
fn fista_on_the_device_reaches_the_cpus_objective() {
    let Some(gpu) = gpu() else { return };
    variants::<f32>(gpu, 1e-4);
    if gpu.adapter().shader_f64 {
        variants::<f64>(gpu, 1e-9);
    } else {
        eprintln!("f64 LASSO skipped: the adapter has no f64 shaders");
    }
}

#[test]
fn fista_streams_in_chunks() {
    if gpu().is_none() {
        return;
    }
    // 12 KiB bindings: the 50 x 50 Gram matrix fits, 61 signals' codes per chunk, 3 chunks.
    let small = open(Mode::Always).unwrap().with_max_binding_bytes(12 << 10);
    let (d, y) = problem::<f32>(20, 50, 140, 2);
    let diff = compare(
        &small,
        &Fista::new(0.1).max_iter(200),
        (0.1, 0.0),
        &d,
        &y,
        None,
    );
    assert!(diff < 1e-4, "{diff:e}");
}
