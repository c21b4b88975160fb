//! Dictionary learning: planted-dictionary recovery (Aharon, Elad & Bruckstein 2006, §V.A),
//! monotone K-SVD sweeps, determinism, mini-batches, atom replacement and errors.

use dictum::coding::{Dictionary, Encoder, Omp, Valid};
use dictum::learn::LearnError;
use dictum::learn::dictionary::{
    AtomUpdate, Init, Ksvd, Mod, Replacement, ResidualMode, StopReason, Supervised,
};
use dictum::linalg::exec::Event;
use dictum::{Exec, Learner, Mat, MatRef, Par};
use dictum_tests::Rng;
use proptest::prelude::*;

fn seq() -> Exec<'static> {
    Exec::new(Par::Seq)
}

/// `‖Y − D·X‖_F / ‖Y‖_F`.
fn relative_error(
    y: MatRef<'_, f64>,
    d: MatRef<'_, f64>,
    x: &dictum::CscMatrix<f64>,
    exec: &Exec<'_>,
) -> f64 {
    dictum::relative_error(d, y, x, exec).unwrap()
}

fn unit_columns(mut a: Mat<f64>) -> Mat<f64> {
    dictum::linalg::norms::normalize_columns(a.as_mut());
    a
}

/// Aharon et al.'s synthetic test: a random `d x m` dictionary, `n` signals each a combination
/// of `k` random atoms with uniform coefficients, white noise at `snr_db`.
fn planted(seed: u64, d: usize, m: usize, n: usize, k: usize, snr_db: f64) -> (Mat<f64>, Mat<f64>) {
    let mut rng = Rng::new(seed);
    let dict = unit_columns(rng.mat::<f64>(d, m));
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
    }
    let signal_power = y.squared_norm_l2() / (d * n) as f64;
    let sigma = (signal_power / 10f64.powf(snr_db / 10.0)).sqrt();
    // Uniform(-1, 1) has variance 1/3.
    let scale = sigma * 3f64.sqrt();
    for j in 0..n {
        for i in 0..d {
            y[(i, j)] += scale * rng.uniform();
        }
    }
    (dict, y)
}

/// Fraction of true atoms found: some learned atom with `|⟨d, d̂⟩| > 0.99`.
fn recovered(truth: MatRef<'_, f64>, learned: MatRef<'_, f64>) -> f64 {
    let found = (0..truth.ncols())
        .filter(|&a| {
            (0..learned.ncols()).any(|b| {
                let dot: f64 = (0..truth.nrows())
                    .map(|i| truth[(i, a)] * learned[(i, b)])
                    .sum();
                dot.abs() > 0.99
            })
        })
        .count();
    found as f64 / truth.ncols() as f64
}

fn omp(k: usize) -> Valid<Omp> {
    Omp::new().n_nonzero_coefs(k).check().unwrap()
}

#[test]
fn ksvd_recovers_a_planted_dictionary() {
    let (truth, y) = planted(1, 20, 50, 1500, 3, 20.0);
    let learned = Ksvd::new(50, omp(3))
        .max_iter(40)
        .fit(y.as_ref(), &seq().with_seed(3))
        .unwrap();
    let rate = recovered(truth.as_ref(), learned.dictionary.as_ref());
    assert!(rate >= 0.9, "K-SVD recovered {rate}");
    let h = &learned.history;
    assert_eq!(h.len(), 40);
    assert!(h.last().unwrap().rel_error < h[0].rel_error);
    assert_eq!(learned.stop, StopReason::MaxIter);
    assert_eq!(learned.codes.ncols(), 1500);
}

#[test]
fn batched_ksvd_recovers_a_planted_dictionary() {
    let (truth, y) = planted(2, 20, 50, 1500, 3, 20.0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let learned = pool.install(|| {
        Ksvd::new(50, omp(3))
            .atoms_per_batch(8)
            .shuffle_atoms(true)
            .max_iter(40)
            .fit(
                y.as_ref(),
                &Exec::new(Par::Rayon(std::num::NonZero::new(2).unwrap())).with_seed(5),
            )
            .unwrap()
    });
    let rate = recovered(truth.as_ref(), learned.dictionary.as_ref());
    assert!(rate >= 0.9, "batched K-SVD recovered {rate}");
}

#[test]
fn approximate_ksvd_and_mod_recover_most_atoms() {
    let (truth, y) = planted(3, 20, 50, 1500, 3, 20.0);
    let approx = Ksvd::new(50, omp(3))
        .update(AtomUpdate::Approximate)
        .max_iter(40)
        .fit(y.as_ref(), &seq())
        .unwrap();
    let rate = recovered(truth.as_ref(), approx.dictionary.as_ref());
    assert!(rate >= 0.9, "approximate K-SVD recovered {rate}");
    let m = Mod::new(50, omp(3))
        .max_iter(40)
        .fit(y.as_ref(), &seq())
        .unwrap();
    let rate = recovered(truth.as_ref(), m.dictionary.as_ref());
    assert!(rate >= 0.8, "MOD recovered {rate}");
}

/// The paper's protocol averaged over trials (50 in the paper, 5 here; the paper reports mean
/// recovery rates): run with `--ignored`. Measured: K-SVD mean 0.91, batched (8) 0.91, each
/// trial 0.88–1.0.
#[test]
#[ignore = "several full-size trials; run with --ignored"]
fn ksvd_planted_recovery_full_protocol() {
    for batch in [1, 8] {
        let mut rates = Vec::new();
        for trial in 0..5 {
            let (truth, y) = planted(100 + trial, 20, 50, 1500, 3, 20.0);
            let learned = Ksvd::new(50, omp(3))
                .atoms_per_batch(batch)
                .max_iter(80)
                .fit(y.as_ref(), &seq().with_seed(trial))
                .unwrap();
            rates.push(recovered(truth.as_ref(), learned.dictionary.as_ref()));
        }
        let mean = rates.iter().sum::<f64>() / rates.len() as f64;
        assert!(mean >= 0.9, "batch {batch}: recovery rates {rates:?}");
    }
}

fn frob_error(y: MatRef<'_, f64>, d: MatRef<'_, f64>, x: &dictum::CscMatrix<f64>) -> f64 {
    relative_error(y, d, x, &seq())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// An exact sequential K-SVD sweep never increases ‖Y − D·X‖ for fixed supports, with the
    /// residual kept or recomputed, and both modes agree.
    #[test]
    fn ksvd_sweep_never_increases_the_error(seed in 0u64..1000, k in 1usize..4) {
        let mut rng = Rng::new(seed);
        let (d, m, n) = (10, 16, 60);
        let y = rng.mat::<f64>(d, n);
        let d0 = unit_columns(rng.mat::<f64>(d, m));
        let mut dict = Dictionary::owned(d0.as_ref()).unwrap();
        let mut x = omp(k).encode(&dict, y.as_ref(), &Exec::new(Par::Seq)).unwrap();
        let mut dict2 = dict.clone();
        let mut x2 = x.clone();
        let before = frob_error(y.as_ref(), dict.atoms(), &x);
        let ksvd = Ksvd::new(m, omp(k));
        ksvd.update_dictionary(y.as_ref(), &mut dict, &mut x, &seq()).unwrap();
        let after = frob_error(y.as_ref(), dict.atoms(), &x);
        prop_assert!(after <= before * (1.0 + 1e-12) + 1e-12, "{before} -> {after}");
        for a in 0..m {
            prop_assert!((dict.atoms().col(a).norm_l2() - 1.0).abs() < 1e-9);
        }
        ksvd.clone().residual(ResidualMode::OnTheFly)
            .update_dictionary(y.as_ref(), &mut dict2, &mut x2, &seq()).unwrap();
        let after2 = frob_error(y.as_ref(), dict2.atoms(), &x2);
        prop_assert!((after - after2).abs() <= 1e-8 * before, "{after} vs {after2}");
    }
}

#[test]
fn same_seed_same_dictionary_whatever_the_threads() {
    let (_, y) = planted(4, 16, 32, 600, 2, 20.0);
    let ksvd = Ksvd::new(32, omp(2))
        .atoms_per_batch(4)
        .shuffle_atoms(true)
        .max_iter(5);
    let a = ksvd.fit(y.as_ref(), &seq().with_seed(11)).unwrap();
    let b = ksvd.fit(y.as_ref(), &seq().with_seed(11)).unwrap();
    assert_eq!(a.dictionary, b.dictionary);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let c = pool
        .install(|| {
            ksvd.fit(
                y.as_ref(),
                &Exec::new(Par::Rayon(std::num::NonZero::new(2).unwrap())).with_seed(11),
            )
        })
        .unwrap();
    assert_eq!(a.dictionary, c.dictionary);
    assert_eq!(a.codes.values(), c.codes.values());
    let other = ksvd.fit(y.as_ref(), &seq().with_seed(12)).unwrap();
    assert_ne!(a.dictionary, other.dictionary);
}

#[test]
fn mini_batches_code_every_signal_at_the_end() {
    let (_, y) = planted(5, 16, 32, 800, 2, 30.0);
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |e: &Event<'_>| {
        if let Event::Iteration(s) = e {
            seen.lock().unwrap().push(s.iter);
        }
        std::ops::ControlFlow::Continue(())
    };
    let learned = Ksvd::new(32, omp(2))
        .signals_per_iter(200)
        .max_iter(6)
        .fit(y.as_ref(), &seq().with_observer(&record))
        .unwrap();
    assert_eq!(learned.codes.ncols(), 800);
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3, 4, 5, 6]);
    let err = relative_error(
        y.as_ref(),
        learned.dictionary.as_ref(),
        &learned.codes,
        &seq(),
    );
    assert!(err < 0.5, "{err}");
}

#[test]
fn unused_and_duplicate_atoms_are_replaced() {
    let (_, y) = planted(6, 12, 24, 500, 2, 30.0);
    let mut rng = Rng::new(9);
    let mut d0 = unit_columns(rng.mat::<f64>(12, 24));
    // Atoms 1..=4 duplicate atom 0; atom 5 points nowhere useful (replaced when unused).
    for a in 1..=4 {
        for i in 0..12 {
            d0[(i, a)] = d0[(i, 0)];
        }
    }
    let learned = Ksvd::new(24, omp(2))
        .max_iter(4)
        .fit_from(y.as_ref(), Some(d0.as_ref()), &seq())
        .unwrap();
    assert!(learned.history[1].replaced >= 4, "{:?}", learned.history);
    let g = learned.dictionary.transpose() * &learned.dictionary;
    for i in 0..24 {
        for j in 0..i {
            assert!(g[(i, j)].abs() < 0.999, "atoms {i} and {j} still coincide");
        }
    }
    let none = Ksvd::new(24, omp(2))
        .replacement(Replacement::none())
        .max_iter(2)
        .fit_from(y.as_ref(), Some(d0.as_ref()), &seq())
        .unwrap();
    assert_eq!(none.history[1].replaced, 0);
}

#[test]
fn stopping_rules() {
    let (_, y) = planted(7, 12, 24, 400, 2, 30.0);
    let conv = Ksvd::new(24, omp(2))
        .max_iter(200)
        .tol(1e-3)
        .fit(y.as_ref(), &seq())
        .unwrap();
    assert_eq!(conv.stop, StopReason::Converged);
    assert!(conv.history.len() < 200);
    let timed = Ksvd::new(24, omp(2))
        .max_iter(1000)
        .max_time(std::time::Duration::from_millis(1))
        .fit(y.as_ref(), &seq())
        .unwrap();
    assert_eq!(timed.stop, StopReason::MaxTime);
    let nnz = Ksvd::new(24, omp(2))
        .target_nnz(2.5)
        .fit(y.as_ref(), &seq())
        .unwrap();
    assert_eq!((nnz.stop, nnz.history.len()), (StopReason::NnzTarget, 1));
}

#[test]
fn random_init_and_f32() {
    let (_, y) = planted(8, 12, 24, 400, 2, 30.0);
    let y32 = Mat::<f32>::from_fn(12, 400, |i, j| y[(i, j)] as f32);
    let a = Ksvd::new(24, omp(2))
        .init(Init::Random)
        .max_iter(10)
        .fit(y32.as_ref(), &seq())
        .unwrap();
    let e = a.history.last().unwrap().rel_error;
    assert!(e < a.history[0].rel_error && e < 0.3, "{e}");
}

#[test]
fn bad_input_gets_typed_errors() {
    let y = Mat::<f64>::from_fn(8, 10, |i, j| (i + j) as f64);
    let too_many = Ksvd::new(20, omp(2)).fit(y.as_ref(), &seq()).unwrap_err();
    assert!(
        matches!(
            too_many,
            LearnError::TooFewSignals {
                atoms: 20,
                signals: 10,
                ..
            }
        ),
        "{too_many}"
    );
    let mut nan = y.clone();
    nan[(3, 4)] = f64::NAN;
    let e = Ksvd::new(4, omp(2)).fit(nan.as_ref(), &seq()).unwrap_err();
    assert!(matches!(e, LearnError::NonFinite { signal: 4, .. }), "{e}");
    let empty = Mat::<f64>::zeros(8, 0);
    let e = Mod::new(4, omp(2)).fit(empty.as_ref(), &seq()).unwrap_err();
    assert!(matches!(e, LearnError::Empty { .. }), "{e}");
    let zero = Mat::<f64>::zeros(8, 10);
    let e = Ksvd::new(4, omp(2)).fit(zero.as_ref(), &seq()).unwrap_err();
    assert!(matches!(e, LearnError::AllZero { .. }), "{e}");
    for bad in [
        Ksvd::new(0, omp(2)).validate(),
        Ksvd::new(4, omp(2)).atoms_per_batch(0).validate(),
        Ksvd::new(4, omp(2)).max_iter(0).validate(),
        Ksvd::new(4, omp(2)).tol(-1.0).validate(),
        Ksvd::new(4, omp(2)).signals_per_iter(0).validate(),
        Ksvd::new(4, omp(2))
            .replacement(Replacement {
                min_usage: 1,
                max_coherence: Some(1.5),
            })
            .validate(),
        Mod::new(4, omp(2)).reg(f64::NAN).validate(),
    ] {
        let e = bad.unwrap_err();
        assert!(matches!(e, LearnError::InvalidParameter { .. }), "{e}");
    }
    // k larger than the atoms: the coder's error comes through.
    let e = Ksvd::new(4, omp(6)).fit(y.as_ref(), &seq()).unwrap_err();
    assert!(matches!(e, LearnError::Coding(_)), "{e}");
    let d0 = Mat::<f64>::zeros(8, 3);
    let e = Ksvd::new(4, omp(2))
        .fit_from(y.as_ref(), Some(d0.as_ref()), &seq())
        .unwrap_err();
    assert!(matches!(e, LearnError::ShapeMismatch { .. }), "{e}");
}

#[test]
fn patches_round_trip_and_cover_the_image() {
    use dictum::learn::patches::{PatchGrid, overcomplete_dct};
    let (h, w) = (13, 17);
    let img: Vec<f64> = (0..h * w).map(|i| (i as f64 * 0.37).sin()).collect();
    for stride in [1, 3, 4] {
        let grid = PatchGrid::new(h, w, 4, stride).unwrap();
        let p = grid.extract(&img).unwrap();
        assert_eq!((p.nrows(), p.ncols()), (16, grid.count()));
        // Row-major flattening: entry r·4 + c is pixel (r, c) of the patch.
        let (r0, c0) = grid.corner(grid.count() - 1);
        assert_eq!((r0, c0), (h - 4, w - 4));
        assert_eq!(p[(4 + 2, grid.count() - 1)], img[(r0 + 1) * w + c0 + 2]);
        let back = grid.average(p.as_ref(), None).unwrap();
        for (a, b) in back.iter().zip(&img) {
            assert!((a - b).abs() < 1e-12, "stride {stride}: {a} vs {b}");
        }
    }
    // Strides above the patch size leave gaps, which average to 0.
    let grid = PatchGrid::new(h, w, 4, 5).unwrap();
    let back = grid
        .average(grid.extract(&img).unwrap().as_ref(), None)
        .unwrap();
    assert_eq!(back[4 * w], 0.0);
    let dct = overcomplete_dct(8, 256);
    assert_eq!((dct.nrows(), dct.ncols()), (64, 256));
    assert!((0..256).all(|a| (dct.col(a).norm_l2() - 1.0).abs() < 1e-12));
    assert!(PatchGrid::new(3, 10, 4, 1).is_err());
    assert!(PatchGrid::new(10, 10, 4, 0).is_err());
    let grid = PatchGrid::new(h, w, 4, 1).unwrap();
    assert!(grid.extract(&img[..10]).is_err());
}

#[test]
fn denoising_beats_the_noise_on_a_synthetic_image() {
    use dictum::learn::denoise::{PatchDenoiser, psnr};
    let (h, w) = (48, 48);
    let clean: Vec<f64> = (0..h * w)
        .map(|i| {
            let (r, c) = ((i / w) as f64, (i % w) as f64);
            0.5 + 0.3 * (r / 6.0).sin() * (c / 9.0).cos()
        })
        .collect();
    let mut rng = Rng::new(3);
    let sigma = 0.05;
    // Uniform noise with standard deviation sigma.
    let noisy: Vec<f64> = clean
        .iter()
        .map(|&v| v + sigma * 3f64.sqrt() * rng.uniform())
        .collect();
    let den = PatchDenoiser::new()
        .n_atoms(64)
        .train_patches(1000)
        .max_iter(4)
        .denoise(&noisy, h, w, sigma, &seq())
        .unwrap();
    let (before, after) = (psnr(&clean, &noisy, 1.0), psnr(&clean, &den.image, 1.0));
    assert!(after > before + 5.0, "{before} -> {after}");
    let e = PatchDenoiser::new()
        .denoise(&noisy, h, w, -1.0, &seq())
        .unwrap_err();
    assert!(matches!(e, LearnError::InvalidParameter { .. }), "{e}");
}

#[test]
fn online_learning_streams_from_a_memory_mapped_file() {
    use dictum::coding::Lars;
    use dictum::io::npy::{MappedNpy, MatrixLayout, write_matrix};
    use dictum::learn::dictionary::Online;
    let (_, y) = planted(14, 16, 32, 1000, 2, 30.0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Y.npy");
    write_matrix(&path, y.as_ref(), MatrixLayout::SamplesAsRows).unwrap();
    let file = MappedNpy::open(&path).unwrap();
    // A zero-copy view of the mapping: pages are read as mini-batches touch them.
    let view = file.matrix::<f64>().unwrap();
    let online = Online::new(32, Lars::new(0.1).check().unwrap())
        .batch_size(50)
        .max_iter(40);
    let mapped = online.fit(view, &seq().with_seed(3)).unwrap();
    let in_memory = online.fit(y.as_ref(), &seq().with_seed(3)).unwrap();
    assert_eq!(mapped.dictionary, in_memory.dictionary);
}

#[test]
fn online_learning_decreases_its_surrogate_and_the_error() {
    use dictum::coding::Lars;
    use dictum::learn::dictionary::{Forgetting, Online};
    use dictum::learn::rng;
    let (truth, y) = planted(11, 20, 50, 3000, 3, 30.0);
    let lars = Lars::new(0.15).check().unwrap();
    let online = Online::new(50, lars.clone())
        .batch_size(64)
        .max_iter(600)
        .report_every(50);
    let learned = online.fit(y.as_ref(), &seq().with_seed(2)).unwrap();
    let h = &learned.history;
    assert_eq!(h.len(), 12);
    assert!(h.last().unwrap().rel_error < 0.9 * h[0].rel_error, "{h:?}");
    let rate = recovered(truth.as_ref(), learned.dictionary.as_ref());
    assert!(rate >= 0.7, "online recovered {rate}");
    assert_eq!(learned.codes.ncols(), 3000);
    // Every block-coordinate pass lowers the surrogate (both forgetting rules).
    for f in [Forgetting::Mairal, Forgetting::Factor(0.9)] {
        let mut state = online
            .clone()
            .forgetting(f)
            .start(learned.dictionary.as_ref())
            .unwrap();
        state.track_surrogate(true);
        let mut r = rng::Rng::new(1);
        for s in 0..20 {
            let batch = y.as_ref().subcols(s * 64, 64);
            let rep = state.partial_fit(batch, &lars, &mut r, &seq()).unwrap();
            let (before, after) = rep.surrogate.unwrap();
            assert!(
                after <= before + 1e-9 * before.abs(),
                "step {s}: {before} -> {after}"
            );
        }
        assert_eq!(state.steps(), 20);
        let bad = Mat::<f64>::zeros(7, 3);
        assert!(
            state
                .partial_fit(bad.as_ref(), &lars, &mut r, &seq())
                .is_err()
        );
    }
    assert!(
        Online::new(5, lars.clone())
            .batch_size(0)
            .validate()
            .is_err()
    );
    assert!(
        Online::new(5, lars.clone())
            .forgetting(Forgetting::Factor(1.5))
            .validate()
            .is_err()
    );
}

/// Three tight blobs in 5-D around known centres.
fn blobs(seed: u64, n_per: usize) -> (Mat<f64>, Mat<f64>) {
    let mut rng = Rng::new(seed);
    let centers = Mat::<f64>::from_fn(5, 3, |i, j| {
        if i == j {
            4.0
        } else if i == 4 {
            -2.0 * j as f64
        } else {
            0.0
        }
    });
    let y = Mat::<f64>::from_fn(5, 3 * n_per, |i, j| {
        centers[(i, j % 3)] + 0.1 * rng.uniform()
    });
    (centers, y)
}

#[test]
fn kmeans_finds_the_blobs_and_its_inertia_never_increases() {
    use dictum::learn::dictionary::{KMeans, KMeansInit};
    let (truth, y) = blobs(1, 200);
    for init in [KMeansInit::PlusPlus, KMeansInit::Random] {
        let c = KMeans::new(3)
            .init(init)
            .fit(y.as_ref(), &seq().with_seed(4))
            .unwrap();
        let h: Vec<f64> = c.history.iter().map(|s| s.rel_error).collect();
        assert!(h.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-12)), "{h:?}");
        if init == KMeansInit::Random {
            // Random seeding may start two centres in one blob: only monotonicity holds.
            continue;
        }
        for t in 0..3 {
            let best = (0..3)
                .map(|j| {
                    (0..5)
                        .map(|i| (truth[(i, t)] - c.centers[(i, j)]).powi(2))
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min);
            assert!(best < 0.01, "{init:?}: centre {t} missed by {best}");
        }
        // Signals of one blob share a label.
        assert!((0..600).all(|j| c.labels[j] == c.labels[j % 3]));
        assert_eq!(c.stop, StopReason::Converged);
    }
    // Mini-batch k-means gets close too; spherical k-means yields unit centres.
    let mb = KMeans::new(3)
        .batch_size(64)
        .max_iter(100)
        .fit(y.as_ref(), &seq().with_seed(1))
        .unwrap();
    let full = KMeans::new(3).fit(y.as_ref(), &seq().with_seed(4)).unwrap();
    assert!(
        mb.inertia < 1.5 * full.inertia,
        "{} vs {}",
        mb.inertia,
        full.inertia
    );
    let sph = KMeans::new(3)
        .spherical(true)
        .fit(y.as_ref(), &seq())
        .unwrap();
    assert!((0..3).all(|j| (sph.centers.col(j).norm_l2() - 1.0).abs() < 1e-12));
    // As a dictionary: unit atoms, one non-zero per signal, threads do not matter.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let two = std::num::NonZero::new(2).unwrap();
    let a = KMeans::new(3).fit_dictionary(y.as_ref(), &seq()).unwrap();
    let b = pool
        .install(|| KMeans::new(3).fit_dictionary(y.as_ref(), &Exec::new(Par::Rayon(two))))
        .unwrap();
    assert_eq!(a.dictionary, b.dictionary);
    assert_eq!(a.codes.nnz(), 600);
    assert!(relative_error(y.as_ref(), a.dictionary.as_ref(), &a.codes, &seq()) < 0.05);
    // Errors.
    assert!(matches!(
        KMeans::new(0).validate().unwrap_err(),
        LearnError::InvalidParameter { .. }
    ));
    let small = Mat::<f64>::from_fn(2, 3, |i, j| (i + j) as f64);
    let e = KMeans::new(5).fit(small.as_ref(), &seq()).unwrap_err();
    assert!(
        matches!(
            e,
            LearnError::TooFewSignals {
                atoms: 5,
                signals: 3,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn amortized_gradients_match_finite_differences() {
    use dictum::learn::dictionary::AmortizedModel;
    let mut rng = Rng::new(21);
    let (d, m, n) = (4, 3, 5);
    let model = AmortizedModel {
        weights: rng.mat::<f64>(m, d),
        bias: (0..m).map(|_| rng.uniform()).collect(),
        dictionary: rng.mat::<f64>(d, m),
        temperature: 0.7,
    };
    let y = rng.mat::<f64>(d, n);
    let (_, g) = model.loss_and_gradient(y.as_ref(), &seq()).unwrap();
    let h = 1e-6;
    let loss = |mm: &AmortizedModel<f64>| mm.loss_and_gradient(y.as_ref(), &seq()).unwrap().0;
    for k in 0..m {
        for i in 0..d {
            let (mut p, mut q) = (model.clone(), model.clone());
            p.weights[(k, i)] += h;
            q.weights[(k, i)] -= h;
            let fd = (loss(&p) - loss(&q)) / (2.0 * h);
            assert!(
                (fd - g.weights[(k, i)]).abs() < 1e-7,
                "W[{k},{i}]: {fd} vs {}",
                g.weights[(k, i)]
            );
            let (mut p, mut q) = (model.clone(), model.clone());
            p.dictionary[(i, k)] += h;
            q.dictionary[(i, k)] -= h;
            let fd = (loss(&p) - loss(&q)) / (2.0 * h);
            assert!((fd - g.dictionary[(i, k)]).abs() < 1e-7, "D[{i},{k}]");
        }
        let (mut p, mut q) = (model.clone(), model.clone());
        p.bias[k] += h;
        q.bias[k] -= h;
        let fd = (loss(&p) - loss(&q)) / (2.0 * h);
        assert!((fd - g.bias[k]).abs() < 1e-7, "b[{k}]");
    }
}

#[test]
fn amortized_learning_finds_the_two_gaussians() {
    use dictum::learn::dictionary::Amortized;
    // Two clusters at (1, 0) and (0, 1) with σ = 0.1 (Box–Muller from the test stream).
    let mut rng = Rng::new(5);
    let mut normal = || {
        let (u1, u2) = (0.5 * (rng.uniform() + 1.0), 0.5 * (rng.uniform() + 1.0));
        (-2.0 * (1.0 - u1).max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let y = Mat::<f64>::from_fn(2, 1000, |i, j| {
        let centre = if j % 2 == 0 { [1.0, 0.0] } else { [0.0, 1.0] };
        centre[i] + 0.1 * normal()
    });
    let fit = Amortized::new(2)
        .epochs(60)
        .learning_rate(0.05)
        .temperature(0.1)
        .fit(y.as_ref(), &seq().with_seed(1))
        .unwrap();
    let dict = &fit.model.dictionary;
    let near = |c: [f64; 2]| {
        (0..2).any(|k| ((dict[(0, k)] - c[0]).powi(2) + (dict[(1, k)] - c[1]).powi(2)).sqrt() < 0.1)
    };
    assert!(near([1.0, 0.0]) && near([0.0, 1.0]), "atoms {dict:?}");
    let h = &fit.history;
    assert!(h.last().unwrap().rel_error < h[0].rel_error);
    let x = fit.model.encode(y.as_ref(), &seq()).unwrap();
    assert!((0..1000).all(|j| (x[(0, j)] + x[(1, j)] - 1.0).abs() < 1e-12));
}

#[test]
fn lasso_backward_matches_finite_differences() {
    use dictum::coding::{Lars, lasso_backward};
    let mut rng = Rng::new(31);
    let (d, m, n) = (6, 10, 4);
    let dict = unit_columns(rng.mat::<f64>(d, m));
    let y = rng.mat::<f64>(d, n);
    let g = rng.mat::<f64>(m, n);
    let lars = Lars::new(0.05).lambda2(0.1).check().unwrap();
    let codes_of = |dd: &Mat<f64>, yy: &Mat<f64>| {
        lars.encode(
            &Dictionary::new(dd.as_ref()).unwrap(),
            yy.as_ref(),
            &Exec::new(Par::Seq),
        )
        .unwrap()
    };
    let loss = |dd: &Mat<f64>, yy: &Mat<f64>| {
        let x = codes_of(dd, yy).to_dense();
        (0..m)
            .flat_map(|a| (0..n).map(move |j| (a, j)))
            .map(|(a, j)| g[(a, j)] * x[(a, j)])
            .sum::<f64>()
    };
    let codes = codes_of(&dict, &y);
    assert!(codes.nnz() > n, "the test needs non-trivial supports");
    let grad = lasso_backward(dict.as_ref(), y.as_ref(), &codes, g.as_ref(), 0.1).unwrap();
    let h = 1e-6;
    for a in 0..m {
        for i in 0..d {
            let (mut p, mut q) = (dict.clone(), dict.clone());
            p[(i, a)] += h;
            q[(i, a)] -= h;
            let fd = (loss(&p, &y) - loss(&q, &y)) / (2.0 * h);
            assert!(
                (fd - grad.dictionary[(i, a)]).abs() < 1e-5,
                "D[{i},{a}]: {fd} vs {}",
                grad.dictionary[(i, a)]
            );
        }
    }
    for j in 0..n {
        for i in 0..d {
            let (mut p, mut q) = (y.clone(), y.clone());
            p[(i, j)] += h;
            q[(i, j)] -= h;
            let fd = (loss(&dict, &p) - loss(&dict, &q)) / (2.0 * h);
            assert!((fd - grad.signals[(i, j)]).abs() < 1e-5, "Y[{i},{j}]");
        }
    }
    let wrong = Mat::<f64>::zeros(m + 1, n);
    assert!(lasso_backward(dict.as_ref(), y.as_ref(), &codes, wrong.as_ref(), 0.1).is_err());
}

#[test]
fn task_driven_gradients_match_finite_differences() {
    use dictum::learn::dictionary::{TaskDrivenModel, TaskLoss};
    let mut rng = Rng::new(41);
    let (d, m, n) = (6, 8, 5);
    for loss in [TaskLoss::Squared, TaskLoss::Logistic] {
        let p = if loss == TaskLoss::Squared { 2 } else { 1 };
        let model = TaskDrivenModel {
            dictionary: unit_columns(rng.mat::<f64>(d, m)),
            weights: rng.mat::<f64>(p, m),
            bias: (0..p).map(|_| rng.uniform()).collect(),
            lambda1: 0.05,
            lambda2: 0.1,
            loss,
        };
        let y = rng.mat::<f64>(d, n);
        let t = Mat::<f64>::from_fn(p, n, |k, j| {
            if loss == TaskLoss::Logistic {
                if (j + k) % 2 == 0 { 1.0 } else { -1.0 }
            } else {
                rng.uniform()
            }
        });
        let (_, g) = model
            .loss_and_gradient(y.as_ref(), t.as_ref(), &seq())
            .unwrap();
        let f = |mm: &TaskDrivenModel<f64>| {
            mm.loss_and_gradient(y.as_ref(), t.as_ref(), &seq())
                .unwrap()
                .0
        };
        let h = 1e-6;
        for a in 0..m {
            for i in 0..d {
                let (mut pp, mut qq) = (model.clone(), model.clone());
                pp.dictionary[(i, a)] += h;
                qq.dictionary[(i, a)] -= h;
                let fd = (f(&pp) - f(&qq)) / (2.0 * h);
                assert!(
                    (fd - g.dictionary[(i, a)]).abs() < 1e-6,
                    "{loss:?} D[{i},{a}]: {fd} vs {}",
                    g.dictionary[(i, a)]
                );
            }
            for k in 0..p {
                let (mut pp, mut qq) = (model.clone(), model.clone());
                pp.weights[(k, a)] += h;
                qq.weights[(k, a)] -= h;
                let fd = (f(&pp) - f(&qq)) / (2.0 * h);
                assert!((fd - g.weights[(k, a)]).abs() < 1e-6, "{loss:?} W[{k},{a}]");
            }
        }
    }
}

#[test]
fn task_driven_learning_lowers_the_task_loss() {
    use dictum::learn::dictionary::{TaskDriven, TaskLoss};
    // Two classes whose signals use different halves of a random dictionary.
    let mut rng = Rng::new(51);
    let (d, m, n) = (12, 16, 400);
    let truth = unit_columns(rng.mat::<f64>(d, m));
    let mut y = Mat::<f64>::zeros(d, n);
    let labels = Mat::<f64>::from_fn(1, n, |_, j| if j % 2 == 0 { 1.0 } else { -1.0 });
    for j in 0..n {
        let base = if j % 2 == 0 { 0 } else { m / 2 };
        for _ in 0..2 {
            let a = base + ((rng.uniform() + 1.0) * 0.5 * (m / 2) as f64) as usize % (m / 2);
            // Positive weights: the class shows in which atoms are used, linearly.
            let c = 0.5 + 0.5 * rng.uniform().abs();
            for i in 0..d {
                y[(i, j)] += c * truth[(i, a)];
            }
        }
        for i in 0..d {
            y[(i, j)] += 0.02 * rng.uniform();
        }
    }
    let fit = TaskDriven::new(16, 0.05)
        .loss(TaskLoss::Logistic)
        .epochs(15)
        .learning_rate(0.5)
        .fit(
            Supervised {
                signals: y.as_ref(),
                targets: labels.as_ref(),
            },
            &seq().with_seed(2),
        )
        .unwrap();
    let l: Vec<f64> = fit.history.iter().map(|s| s.objective).collect();
    assert!(l.last().unwrap() < &(0.7 * l[0]), "losses {l:?}");
    let z = fit.model.predict(y.as_ref(), &seq()).unwrap();
    let correct = (0..n).filter(|&j| z[(0, j)] * labels[(0, j)] > 0.0).count();
    assert!(correct as f64 / n as f64 > 0.8, "accuracy {correct}/{n}");
    assert!((0..m).all(|a| (fit.model.dictionary.col(a).norm_l2() - 1.0).abs() < 1e-9));
    // Bad targets.
    let wrong = Mat::<f64>::from_fn(1, n, |_, _| 0.0);
    let e = TaskDriven::new(16, 0.05)
        .loss(TaskLoss::Logistic)
        .fit(
            Supervised {
                signals: y.as_ref(),
                targets: wrong.as_ref(),
            },
            &seq(),
        )
        .unwrap_err();
    assert!(matches!(e, LearnError::InvalidParameter { .. }), "{e}");
    let short = Mat::<f64>::zeros(1, 3);
    let e = TaskDriven::new(16, 0.05)
        .fit(
            Supervised {
                signals: y.as_ref(),
                targets: short.as_ref(),
            },
            &seq(),
        )
        .unwrap_err();
    assert!(matches!(e, LearnError::ShapeMismatch { .. }), "{e}");
}

#[test]
fn learned_results_save_and_load() {
    let (_, y) = planted(12, 12, 24, 300, 2, 30.0);
    let learned = Ksvd::new(24, omp(2))
        .max_iter(3)
        .fit(y.as_ref(), &seq())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.npz");
    dictum::save_learned(&path, &learned).unwrap();
    let back: dictum::learn::dictionary::Learned<f64> = dictum::load_learned(&path).unwrap();
    assert_eq!(back.dictionary, learned.dictionary);
    assert_eq!(back.codes, learned.codes);
    assert_eq!(back.history, learned.history);
    assert_eq!(back.stop, learned.stop);
    let f32s: dictum::learn::dictionary::Learned<f32> = dictum::load_learned(&path).unwrap();
    assert_eq!(f32s.codes.nnz(), learned.codes.nnz());
    assert!(dictum::load_learned::<f64>(dir.path().join("missing.npz")).is_err());
}

#[test]
fn matryoshka_coding_makes_prefixes_good_dictionaries() {
    use dictum::coding::Matryoshka;
    let (_, y) = planted(13, 16, 48, 1200, 3, 30.0);
    let nested = Matryoshka::new(3).prefixes(vec![12, 24, 48]);
    assert_eq!(nested.stages(48).unwrap(), vec![(12, 1), (24, 1), (48, 1)]);
    assert_eq!(
        Matryoshka::new(5).first_group(8).stages(48).unwrap(),
        vec![(8, 2), (16, 1), (32, 1), (48, 1)]
    );
    assert!(
        Matryoshka::new(3)
            .prefixes(vec![12, 40])
            .stages(48)
            .is_err()
    );
    let mat = Ksvd::new(48, nested.check().unwrap())
        .max_iter(15)
        .fit(y.as_ref(), &seq().with_seed(1))
        .unwrap();
    let plain = Ksvd::new(48, omp(3))
        .max_iter(15)
        .fit(y.as_ref(), &seq().with_seed(1))
        .unwrap();
    assert!((0..1200).all(|j| mat.codes.col(j).0.len() <= 3));
    // The first 12 atoms, alone, explain more with Matryoshka training than without.
    let prefix_error = |dict: &Mat<f64>| {
        let sub = dict.as_ref().subcols(0, 12);
        let x = omp(1)
            .encode(
                &Dictionary::new(sub).unwrap(),
                y.as_ref(),
                &Exec::new(Par::Seq),
            )
            .unwrap();
        relative_error(y.as_ref(), sub, &x, &seq())
    };
    let (a, b) = (
        prefix_error(&mat.dictionary),
        prefix_error(&plain.dictionary),
    );
    assert!(a < b, "prefix error with Matryoshka {a}, without {b}");
}
