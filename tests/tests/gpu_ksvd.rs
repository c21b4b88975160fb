//! K-SVD's atom updates run whole on the device (the fused atom sweep) against the CPU's:
//! one sweep for approximate and exact updates, sequential and batched, in both precisions
//! and with the signals streamed in chunks; and a whole batched K-SVD fit on the device
//! recovering a planted dictionary as the CPU does. Runs on lavapipe in CI (see gpu.rs).

use dictum::coding::{Dictionary, Encoder, Omp};
use dictum::gpu::{Gpu, Mode};
use dictum::learn::dictionary::{AtomUpdate, Ksvd};
use dictum::linalg::backend::Op;
use dictum::{CscMatrix, Event, Exec, Learner, Mat, MatRef, Par, Real};
use dictum_tests::Rng;

use crate::gpu::{Fallbacks, gpu, open};

/// Aharon et al.'s planted problem (as tests/tests/learn.rs draws it, without the noise
/// scaling): `n` signals of `k` random atoms of a random `d x m` dictionary, plus noise.
fn planted<T: Real>(seed: u64, d: usize, m: usize, n: usize, k: usize) -> (Mat<T>, Mat<T>) {
    let mut rng = Rng::new(seed);
    let mut dict = rng.mat::<f64>(d, m);
    dictum::linalg::norms::normalize_columns(dict.as_mut());
    let mut y = Mat::<f64>::zeros(d, n);
    for j in 0..n {
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < k {
            let a = ((rng.uniform() + 1.0) * 0.5 * m as f64) as usize % m;
            if !chosen.contains(&a) {
                chosen.push(a);
            }
        }
        for a in chosen {
            let c = rng.uniform();
            for i in 0..d {
                y[(i, j)] += c * dict[(i, a)];
            }
        }
        for i in 0..d {
            y[(i, j)] += 0.02 * rng.uniform();
        }
    }
    let cast =
        |a: &Mat<f64>| Mat::<T>::from_fn(a.nrows(), a.ncols(), |i, j| T::cast_f64(a[(i, j)]));
    (cast(&dict), cast(&y))
}

/// `‖Y − D·X‖_F / ‖Y‖_F`.
fn rel_error<T: Real>(y: MatRef<'_, T>, d: MatRef<'_, T>, x: &CscMatrix<T>) -> f64 {
    let (mut r2, mut y2) = (0.0, 0.0);
    for j in 0..y.ncols() {
        let mut r: Vec<f64> = (0..y.nrows()).map(|i| y[(i, j)].into_f64()).collect();
        let (rows, vals) = x.col(j);
        for (&a, &v) in rows.iter().zip(vals) {
            for (i, ri) in r.iter_mut().enumerate() {
                *ri -= d[(i, a as usize)].into_f64() * v.into_f64();
            }
        }
        r2 += r.iter().map(|v| v * v).sum::<f64>();
        y2 += (0..y.nrows())
            .map(|i| y[(i, j)].into_f64().powi(2))
            .sum::<f64>();
    }
    (r2 / y2).sqrt()
}

/// One sweep from the same start on the CPU and on `gpu`: the largest difference of an atom
/// entry and of a code value, and both relative errors after the sweep.
fn one_sweep<T: Real>(
    gpu: &Gpu,
    ksvd: &Ksvd<dictum::coding::Valid<Omp>>,
    m: usize,
) -> (f64, f64, f64, f64) {
    let (truth, y) = planted::<T>(1, 16, m, 400, 3);
    // Start from a perturbed truth so that atoms have users.
    let mut rng = Rng::new(2);
    let mut d0 = Mat::<T>::from_fn(16, m, |i, j| {
        truth[(i, j)] + T::cast_f64(0.2 * rng.uniform())
    });
    dictum::linalg::norms::normalize_columns(d0.as_mut());
    let dict0 = Dictionary::owned(d0.as_ref()).unwrap();
    let x0 = Omp::new()
        .n_nonzero_coefs(3)
        .check()
        .unwrap()
        .encode(&dict0, y.as_ref(), &Exec::new(Par::Seq))
        .unwrap();
    let run = |exec: &Exec<'_>| {
        let mut dict = Dictionary::owned(d0.as_ref()).unwrap();
        let mut x = x0.clone();
        ksvd.update_dictionary(y.as_ref(), &mut dict, &mut x, exec)
            .unwrap();
        (dict.into_mat(), x)
    };
    let (dc, xc) = run(&Exec::new(Par::Seq));
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let (dg, xg) = run(&Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_observer(&observer));
    let fell = seen.take();
    assert!(
        fell.iter().all(|(op, _)| *op != Op::AtomUpdates),
        "{fell:?}"
    );
    let atoms = (0..m)
        .flat_map(|k| (0..16).map(move |i| (i, k)))
        .map(|(i, k)| (dc[(i, k)].into_f64() - dg[(i, k)].into_f64()).abs())
        .fold(0.0, f64::max);
    let coefs = xc
        .values()
        .iter()
        .zip(xg.values())
        .map(|(a, b)| (a.into_f64() - b.into_f64()).abs())
        .fold(0.0, f64::max);
    (
        atoms,
        coefs,
        rel_error(y.as_ref(), dc.as_ref(), &xc),
        rel_error(y.as_ref(), dg.as_ref(), &xg),
    )
}

fn sweeps<T: Real>(gpu: &Gpu, tight: f64, exact: f64) {
    let omp = || Omp::new().n_nonzero_coefs(3).check().unwrap();
    // 60 atoms for 400 signals of 3: some atoms have no users.
    for (update, batch, shuffle) in [
        (AtomUpdate::Approximate, 8, false),
        (AtomUpdate::Approximate, 1, true),
        (AtomUpdate::Approximate, 60, false),
        (AtomUpdate::Exact, 8, true),
        (AtomUpdate::Exact, 1, false),
    ] {
        let ksvd = Ksvd::new(60, omp())
            .update(update)
            .atoms_per_batch(batch)
            .shuffle_atoms(shuffle);
        let (atoms, coefs, ec, eg) = one_sweep::<T>(gpu, &ksvd, 60);
        eprintln!(
            "{} {update:?} batch {batch}: atoms within {atoms:.1e}, codes within {coefs:.1e}, \
             error {ec:.6} (CPU) {eg:.6} (device)",
            T::PRECISION
        );
        let tol = if update == AtomUpdate::Exact {
            exact
        } else {
            tight
        };
        assert!(atoms < tol && coefs < tol, "{update:?} batch {batch}");
        assert!(
            (ec - eg).abs() < tol,
            "{update:?} batch {batch}: {ec} vs {eg}"
        );
    }
}

#[test]
fn one_sweep_of_atom_updates_matches_the_cpu() {
    let Some(gpu) = gpu() else { return };
    sweeps::<f32>(gpu, 2e-4, 2e-3);
    if gpu.adapter().shader_f64 {
        sweeps::<f64>(gpu, 1e-10, 2e-3);
    } else {
        eprintln!("f64 atom updates skipped: the adapter has no f64 shaders");
    }
}

#[test]
fn atom_updates_stream_the_signals_in_chunks() {
    if gpu().is_none() {
        return;
    }
    // 16 KiB bindings: 16 x 400 signals in chunks of 256 columns (two chunks).
    let small = open(Mode::Always).unwrap().with_max_binding_bytes(16 << 10);
    let omp = Omp::new().n_nonzero_coefs(3).check().unwrap();
    let ksvd = Ksvd::new(60, omp)
        .update(AtomUpdate::Approximate)
        .atoms_per_batch(10);
    let (atoms, coefs, ..) = one_sweep::<f32>(&small, &ksvd, 60);
    assert!(atoms < 2e-4 && coefs < 2e-4, "{atoms:e} {coefs:e}");
}

/// Approximate updates here (exact ones are compared sweep by sweep above): lavapipe runs
/// an exact sweep's 12 power steps per batch as slowly as the CPU-side test allows.
#[test]
fn batched_ksvd_on_the_device_recovers_a_planted_dictionary() {
    let Some(gpu) = gpu() else { return };
    let (truth, y) = planted::<f32>(5, 20, 50, 1500, 3);
    let omp = Omp::new().n_nonzero_coefs(3).check().unwrap();
    let ksvd = Ksvd::new(50, omp)
        .update(AtomUpdate::Approximate)
        .atoms_per_batch(10)
        .max_iter(30);
    let seen = Fallbacks::default();
    let observer = |e: &Event<'_>| seen.observe(e);
    let exec = Exec::new(Par::Seq)
        .with_backend(gpu)
        .with_seed(3)
        .with_observer(&observer);
    let dev = ksvd.fit(y.as_ref(), &exec).unwrap();
    let cpu = ksvd
        .fit(y.as_ref(), &Exec::new(Par::Seq).with_seed(3))
        .unwrap();
    let fell = seen.take();
    assert!(
        fell.iter()
            .all(|(op, _)| !matches!(op, Op::AtomUpdates | Op::Pursuit)),
        "{fell:?}"
    );
    let found = |learned: &Mat<f32>| {
        (0..50)
            .filter(|&a| {
                (0..50).any(|b| {
                    let dot: f64 = (0..20)
                        .map(|i| f64::from(truth[(i, a)]) * f64::from(learned[(i, b)]))
                        .sum();
                    dot.abs() > 0.99
                })
            })
            .count()
    };
    let (c, g) = (found(&cpu.model.dictionary), found(&dev.model.dictionary));
    eprintln!("planted atoms recovered: CPU {c}/50, device {g}/50");
    assert!(g >= 45 && g + 2 >= c, "device {g}, CPU {c}");
}
