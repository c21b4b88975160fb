//! Sparse Manifold Transform: the circle's harmonics, the eigen-solution's constraint and
//! stationarity, chunked accumulation against the one-shot product, digits kNN, bad input.

use dictum::smt::manifold::{
    canonical_correlations, circle_codes, circle_trajectory, disk_atoms, disk_codes,
    disk_trajectory,
};
use dictum::smt::{Covariances, Derivative, DifferentialOperator, SmtEmbedding};
use dictum::{Exec, Mat, Par};

#[test]
fn circle_embedding_recovers_the_circular_harmonics() {
    let theta = circle_trajectory(20_000, 0.05, 1);
    let m = 300;
    let codes = circle_codes(&theta, m).unwrap();
    let mut cov = Covariances::new(m).unwrap();
    let op = DifferentialOperator::temporal(Derivative::Second);
    cov.add_groups(&codes, theta.len(), &op, &Exec::default())
        .unwrap();
    let emb = SmtEmbedding::new(21).fit(&cov, &Exec::default()).unwrap();
    let beta = emb.transform(&codes, false).unwrap();
    let n = theta.len();
    for j in 1..=5usize {
        let x = Mat::<f64>::from_fn(n, 2, |i, k| beta[(2 * (j - 1) + k, i)]);
        let y = Mat::<f64>::from_fn(n, 2, |i, k| {
            let a = j as f64 * theta[i];
            if k == 0 { a.cos() } else { a.sin() }
        });
        let cc = canonical_correlations(&x, &y);
        eprintln!("harmonic {j}: canonical correlations {cc:?}");
        assert!(cc.iter().all(|&c| c > 0.95), "harmonic {j}: {cc:?}");
    }
}

#[test]
fn the_embedding_satisfies_its_constraint_and_stationarity() {
    // A 2-D manifold, so the problem has no exact pair structure to hide behind.
    let pts = disk_trajectory(4000, 0.05, 3);
    let atoms = disk_atoms(0.25).unwrap();
    let m = atoms.ncols();
    let codes = disk_codes(&pts, &atoms, 3, 0.15).unwrap();
    let mut cov = Covariances::new(m).unwrap();
    let op = DifferentialOperator::temporal(Derivative::First);
    cov.add_groups(&codes, pts.len(), &op, &Exec::default())
        .unwrap();
    let emb = SmtEmbedding::new(6)
        .ridge(0.0)
        .fit(&cov, &Exec::default())
        .unwrap();
    let (n, t) = (cov.n_codes() as f64, cov.n_terms() as f64);
    let v = Mat::<f64>::from_fn(m, m, |i, j| cov.aat()[i * m + j] / n);
    let c = Mat::<f64>::from_fn(m, m, |i, j| cov.cost()[i * m + j] / t);
    let p = &emb.p;
    // P·V·Pᵀ = I.
    let pvp = p * &v * p.transpose();
    for a in 0..6 {
        for b in 0..6 {
            let want = if a == b { 1.0 } else { 0.0 };
            assert!(
                (pvp[(a, b)] - want).abs() < 1e-8,
                "PVPᵀ[{a},{b}] = {}",
                pvp[(a, b)]
            );
        }
    }
    // Stationarity: C·pᵀ = λ·V·pᵀ for each kept direction.
    for (k, &lam) in emb.eigenvalues.iter().enumerate() {
        let pk = p.as_ref().row(k).transpose().to_owned();
        let lhs = &c * &pk;
        let rhs = &v * &pk * faer::Scale(lam);
        let scale = lhs.norm_l2().max(1e-12);
        assert!(
            (&lhs - &rhs).norm_l2() < 1e-8 * scale.max(1.0),
            "direction {k}"
        );
    }
    assert!(emb.eigenvalues.windows(2).all(|w| w[0] <= w[1]));
    // The subspace solver (used for large dictionaries) finds the same directions.
    let sub = SmtEmbedding::new(6)
        .ridge(0.0)
        .solver(dictum::smt::EigenSolver::Subspace)
        .fit(&cov, &Exec::default())
        .unwrap();
    for (a, b) in sub.eigenvalues.iter().zip(&emb.eigenvalues) {
        assert!((a - b).abs() <= 1e-7 * b.abs().max(1e-12), "{a} vs {b}");
    }
}

#[test]
fn accumulation_in_groups_and_threads_equals_the_one_shot_product() {
    let (rows, cols, images, m) = (4, 5, 3, 12);
    let mut rng = dictum_tests::Rng::new(5);
    let mut b = dictum::linalg::CscBuilder::new(m);
    for _ in 0..rows * cols * images {
        let mut e: Vec<(usize, f64)> = Vec::new();
        for i in 0..m {
            let u = rng.uniform();
            if u > 0.6 {
                e.push((i, u));
            }
        }
        b.push_column(e).unwrap();
    }
    let codes = b.finish();
    let op = DifferentialOperator::spatial(Derivative::Second, rows, cols, 1).unwrap();
    // Explicit A and D for all images at once.
    let a = codes.to_dense();
    let terms = op.terms(rows * cols);
    let ncols = terms.len() * images;
    let mut d = Mat::<f64>::zeros(rows * cols * images, ncols);
    for g in 0..images {
        for (t, term) in terms.iter().enumerate() {
            for &(k, w) in term {
                d[(g * rows * cols + k, g * terms.len() + t)] = w;
            }
        }
    }
    let ad = &a * &d;
    let want_c = &ad * ad.transpose();
    let want_v = &a * a.transpose();
    for (par, split) in [(Par::Seq, 1), (Par::rayon(2), 3)] {
        let mut cov = Covariances::new(m).unwrap();
        let per = rows * cols * images / split;
        let (_, _, ptr, idx, val) = codes.clone().into_parts();
        for s in 0..split {
            let lo = ptr[s * per];
            let hi = ptr[(s + 1) * per];
            let part = dictum::CscMatrix::try_new(
                m,
                per,
                ptr[s * per..=(s + 1) * per]
                    .iter()
                    .map(|p| p - lo)
                    .collect(),
                idx[lo..hi].to_vec(),
                val[lo..hi].to_vec(),
            )
            .unwrap();
            cov.add_groups(&part, rows * cols, &op, &Exec::new(par))
                .unwrap();
        }
        for i in 0..m {
            for j in 0..m {
                assert!((cov.cost()[i * m + j] - want_c[(i, j)]).abs() < 1e-10);
                assert!((cov.aat()[i * m + j] - want_v[(i, j)]).abs() < 1e-10);
            }
        }
        assert_eq!(cov.n_terms(), ncols);
    }
}

#[test]
fn bad_inputs_get_typed_errors() {
    use dictum::smt::{GeneralCoding, PatchExtractor, SmtError};
    assert!(matches!(
        PatchExtractor::new(8, 8, 9),
        Err(SmtError::PatchTooLarge { .. })
    ));
    for t in [0.0, -0.2, 1.5] {
        assert!(matches!(
            GeneralCoding::new(t).validate(),
            Err(SmtError::InvalidParameter { .. })
        ));
    }
    let codes = circle_codes(&circle_trajectory(100, 0.1, 0), 10).unwrap();
    let mut cov = Covariances::new(10).unwrap();
    cov.add_groups(
        &codes,
        100,
        &DifferentialOperator::temporal(Derivative::Second),
        &Exec::default(),
    )
    .unwrap();
    assert!(matches!(
        SmtEmbedding::new(10).fit(&cov, &Exec::default()),
        Err(SmtError::InvalidParameter { .. })
    ));
    assert!(matches!(
        cov.add_groups(
            &codes,
            7,
            &DifferentialOperator::temporal(Derivative::Second),
            &Exec::default()
        ),
        Err(SmtError::ShapeMismatch { .. })
    ));
}

/// Digits: train on a seeded 2/3, test on the rest; SMT features against raw pixels, both
/// with the same cosine soft-kNN.
fn digits_knn(patch: usize, atoms: usize, dims: usize, pool: usize, thr: f64) -> (f64, f64) {
    use dictum::smt::{ImageSmt, Knn};
    let digits = dictum::datasets::load_digits().unwrap();
    let n = digits.images.ncols();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = dictum::learn::rng::Rng::new(7);
    rng.shuffle(&mut order);
    let cut = 2 * n / 3;
    let pick =
        |idx: &[usize]| Mat::<f32>::from_fn(64, idx.len(), |i, j| digits.images[(i, idx[j])]);
    let (tr, te) = (pick(&order[..cut]), pick(&order[cut..]));
    let lab = |idx: &[usize]| {
        idx.iter()
            .map(|&i| digits.target[i] as usize)
            .collect::<Vec<_>>()
    };
    let (ltr, lte) = (lab(&order[..cut]), lab(&order[cut..]));
    let model = ImageSmt::new(8, 8, patch, atoms, dims)
        .threshold(thr)
        .pool(pool)
        .fit(tr.as_ref(), &Exec::default())
        .unwrap();
    let ftr = model.features(tr.as_ref(), &Exec::default()).unwrap();
    let fte = model.features(te.as_ref(), &Exec::default()).unwrap();
    let knn = Knn::new(5, 0.1);
    let smt = knn
        .evaluate(ftr.as_ref(), &ltr, fte.as_ref(), &lte, &Exec::default())
        .unwrap();
    let to64 =
        |m: &Mat<f32>| Mat::<f64>::from_fn(m.nrows(), m.ncols(), |i, j| f64::from(m[(i, j)]));
    let raw = knn
        .evaluate(
            to64(&tr).as_ref(),
            &ltr,
            to64(&te).as_ref(),
            &lte,
            &Exec::default(),
        )
        .unwrap();
    (smt.top1, raw.top1)
}

#[test]
fn digits_smt_knn_beats_raw_pixel_knn() {
    let (smt, raw) = digits_knn(4, 512, 32, 2, 0.3);
    eprintln!("digits kNN top-1: SMT {smt:.4}, raw pixels {raw:.4}");
    assert!(smt > raw, "SMT {smt} vs raw {raw}");
}

#[test]
#[ignore = "parameter sweep for the digits experiment"]
fn digits_sweep() {
    for (p, a, d, pool, t) in [
        (4, 256, 32, 2, 0.3),
        (4, 512, 32, 2, 0.3),
        (4, 512, 64, 2, 0.3),
        (4, 256, 32, 3, 0.3),
        (3, 256, 32, 3, 0.3),
        (5, 256, 32, 2, 0.3),
        (4, 256, 32, 2, 0.4),
        (4, 256, 16, 2, 0.3),
    ] {
        let (smt, raw) = digits_knn(p, a, d, pool, t);
        eprintln!("patch {p} atoms {a} dims {d} pool {pool} thr {t}: SMT {smt:.4} raw {raw:.4}");
    }
}

#[test]
fn any_encoder_can_make_the_codes() {
    use dictum::coding::Omp;
    use dictum::smt::{ImageSmt, Knn};
    let digits = dictum::datasets::load_digits().unwrap();
    let x = digits.images.as_ref().subcols(0, 600).to_owned();
    let labels: Vec<usize> = digits.target[..600].iter().map(|&t| t as usize).collect();
    // OMP with one atom: vector quantization with values.
    let vq = Omp::new().n_nonzero_coefs(1).check().unwrap();
    let model = ImageSmt::new(8, 8, 4, 128, 16)
        .fit_with_encoder(x.as_ref(), &vq, &Exec::default())
        .unwrap();
    let f = model
        .features_with_encoder(x.as_ref(), &vq, &Exec::default())
        .unwrap();
    assert!(f.col(0).iter().all(|v| v.is_finite()));
    let (tr, te) = (f.as_ref().subcols(0, 400), f.as_ref().subcols(400, 200));
    let s = Knn::new(5, 0.1)
        .evaluate(tr, &labels[..400], te, &labels[400..], &Exec::default())
        .unwrap();
    assert!(s.top1 > 0.8, "VQ-coded SMT kNN top-1 {}", s.top1);
}

#[test]
fn capped_codes_are_the_most_similar_atoms_of_the_uncapped_ones() {
    use dictum::smt::GeneralCoding;
    let mut rng = dictum_tests::Rng::new(31);
    let (d, m, n) = (6, 400, 50);
    let raw = Mat::<f64>::from_fn(d, m, |_, _| rng.uniform());
    let dict = dictum::smt::dictionary::normalized(raw.as_ref()).unwrap();
    let x = Mat::<f64>::from_fn(d, n, |_, _| rng.uniform());
    let full = GeneralCoding::new(0.2)
        .binary(false)
        .encode(dict.as_ref(), x.as_ref(), &Exec::default())
        .unwrap();
    for k in [1, 3, 10] {
        let capped = GeneralCoding::new(0.2)
            .binary(false)
            .max_active(Some(k))
            .encode(dict.as_ref(), x.as_ref(), &Exec::new(Par::rayon(2)))
            .unwrap();
        for j in 0..n {
            let (ri, rv) = full.col(j);
            let mut all: Vec<(u32, f64)> = ri.iter().copied().zip(rv.iter().copied()).collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            all.truncate(k);
            all.sort_by_key(|e| e.0);
            let (ci, cv) = capped.col(j);
            let got: Vec<(u32, f64)> = ci.iter().copied().zip(cv.iter().copied()).collect();
            assert_eq!(got, all, "signal {j}, k = {k}");
        }
    }
}
