//! Sparse coding: known answers from scikit-learn, properties of each coder, degenerate input
//! and errors.

use approx::assert_relative_eq;
use dictum::coding::{
    CodingError, Dictionary, Encoder, Fista, GramUse, Lars, MatchingPursuit, Method, Omp,
    OmpVariant, Selection, Threshold, Valid, lars_path,
};
use dictum::io::npz::NpzReader;
use dictum::linalg::exec::{Event, Progress};
use dictum::{CscMatrix, Exec, Mat, MatRef, Par, Real};
use dictum_tests::{Rng, fixture};
use proptest::prelude::*;

fn npz_mat(r: &mut NpzReader, name: &str) -> Mat<f64> {
    r.read(name).unwrap().to_mat::<f64>().unwrap()
}

fn seq() -> Exec<'static> {
    Exec::new(Par::Seq)
}

/// Every coder, named as the command line names them, with `k` non-zeros (or the
/// tolerance `tol`), weight `lambda` and relative threshold `threshold` where they apply.
fn every_coder(
    k: Option<usize>,
    tol: Option<f64>,
    lambda: f64,
    threshold: Option<f64>,
) -> Vec<(&'static str, Valid<Method>)> {
    let omp = |variant, selection| {
        let mut o = Omp::new().variant(variant).selection(selection);
        if let Some(k) = k {
            o = o.n_nonzero_coefs(k);
        }
        if let Some(t) = tol {
            o = o.tol(t);
        }
        Method::Omp(o)
    };
    let mut mp = MatchingPursuit::new();
    if let Some(k) = k {
        mp = mp.n_nonzero_coefs(k);
    }
    if let Some(t) = tol {
        mp = mp.tol(t);
    }
    let threshold = match (k, threshold) {
        (Some(k), _) => Threshold::top_k(k),
        (None, Some(t)) => Threshold::relative(t),
        (None, None) => Threshold::top_k(1),
    };
    let mut lars = Lars::new(lambda);
    if let Some(k) = k {
        lars = lars.max_nonzero(k);
    }
    vec![
        ("mp", Method::Mp(mp)),
        ("omp", omp(OmpVariant::Reference, Selection::Omp)),
        ("batch-omp", omp(OmpVariant::Batch, Selection::Omp)),
        ("ormp", omp(OmpVariant::Reference, Selection::Ormp)),
        ("batch-ormp", omp(OmpVariant::Batch, Selection::Ormp)),
        ("lars", Method::Lars(lars)),
        ("fista", Method::Fista(Fista::new(lambda))),
        ("ista", Method::Fista(Fista::ista(lambda))),
        ("threshold", Method::Threshold(threshold)),
        ("soft-threshold", Method::Threshold(Threshold::soft(lambda))),
    ]
    .into_iter()
    .map(|(name, m)| (name, m.check().unwrap()))
    .collect()
}

/// A random `d x m` dictionary with unit-norm columns.
fn random_dict(rng: &mut Rng, d: usize, m: usize) -> Mat<f64> {
    let mut a = Mat::from_fn(d, m, |_, _| rng.uniform());
    dictum::linalg::norms::normalize_columns(a.as_mut());
    a
}

/// Uniform in [0, 1).
fn u01(rng: &mut Rng) -> f64 {
    0.5 * (rng.uniform() + 1.0)
}

/// Signals that are `k`-sparse combinations of atoms plus `noise`.
fn planted(rng: &mut Rng, d: MatRef<'_, f64>, n: usize, k: usize, noise: f64) -> Mat<f64> {
    let m = d.ncols();
    let mut x = Mat::<f64>::zeros(m, n);
    for j in 0..n {
        let mut chosen = Vec::new();
        while chosen.len() < k {
            let i = (u01(rng) * m as f64) as usize % m;
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        for i in chosen {
            let sign = if rng.uniform() < 0.0 { -1.0 } else { 1.0 };
            x[(i, j)] = sign * (0.5 + u01(rng));
        }
    }
    let mut y = d * &x;
    for j in 0..n {
        for i in 0..d.nrows() {
            y[(i, j)] += noise * rng.uniform();
        }
    }
    y
}

/// `Y − D·X`.
fn residual<T: Real>(d: MatRef<'_, T>, y: MatRef<'_, T>, x: &CscMatrix<T>) -> Mat<T> {
    let dx = x.dense_mul(d, Par::Seq).unwrap();
    Mat::from_fn(y.nrows(), y.ncols(), |i, j| y[(i, j)] - dx[(i, j)])
}

/// `½‖y − Dx‖² + λ‖x‖₁ + ½λ₂‖x‖²` of column `j`.
fn objective(
    d: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    x: &CscMatrix<f64>,
    j: usize,
    lam: f64,
    lam2: f64,
) -> f64 {
    let r = residual(d, y.subcols(j, 1), &col_as_csc(x, j));
    let vals = x.col(j).1;
    let l1: f64 = vals.iter().map(|v| v.abs()).sum();
    let l2: f64 = vals.iter().map(|v| v * v).sum();
    0.5 * r.col(0).squared_norm_l2() + lam * l1 + 0.5 * lam2 * l2
}

fn col_as_csc(x: &CscMatrix<f64>, j: usize) -> CscMatrix<f64> {
    let (r, v) = x.col(j);
    CscMatrix::try_new(x.nrows(), 1, vec![0, r.len()], r.to_vec(), v.to_vec()).unwrap()
}

fn dense(x: &CscMatrix<f64>) -> Mat<f64> {
    x.to_dense()
}

fn max_diff(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    let mut m = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

// ---------------------------------------------------------------------------------------------
// Known answers: scikit-learn 1.9.1 (tests/fixtures/make_coding_fixtures.py).

#[test]
fn omp_matches_sklearn() {
    let mut f = NpzReader::open(fixture("coding_sklearn.npz")).unwrap();
    let (d, y) = (npz_mat(&mut f, "D"), npz_mat(&mut f, "Y"));
    let dict = Dictionary::new(d.as_ref()).unwrap();
    for variant in [OmpVariant::Batch, OmpVariant::Reference] {
        let x = Omp::new()
            .n_nonzero_coefs(4)
            .variant(variant)
            .check()
            .unwrap()
            .encode(&dict, y.as_ref(), &seq())
            .unwrap();
        assert!(
            max_diff(dense(&x).as_ref(), npz_mat(&mut f, "omp_k4").as_ref()) < 1e-10,
            "{variant:?}"
        );
        let x = Omp::new()
            .tol(0.05)
            .variant(variant)
            .check()
            .unwrap()
            .encode(&dict, y.as_ref(), &seq())
            .unwrap();
        assert!(
            max_diff(dense(&x).as_ref(), npz_mat(&mut f, "omp_tol").as_ref()) < 1e-10,
            "{variant:?} tol"
        );
    }
}

/// SPAMS 2.6.14 `omp` (which is ORMP) on the same data.
#[test]
fn ormp_matches_spams() {
    let mut f = NpzReader::open(fixture("coding_sklearn.npz")).unwrap();
    let (d, y) = (npz_mat(&mut f, "D"), npz_mat(&mut f, "Y"));
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let want = npz_mat(&mut f, "ormp_spams_k4");
    for variant in [OmpVariant::Batch, OmpVariant::Reference] {
        let x = Omp::new()
            .n_nonzero_coefs(4)
            .selection(Selection::Ormp)
            .variant(variant)
            .check()
            .unwrap()
            .encode(&dict, y.as_ref(), &seq())
            .unwrap();
        assert!(
            max_diff(dense(&x).as_ref(), want.as_ref()) < 1e-10,
            "{variant:?}"
        );
    }
}

#[test]
fn lasso_matches_sklearn() {
    let mut f = NpzReader::open(fixture("coding_sklearn.npz")).unwrap();
    let (d, y) = (npz_mat(&mut f, "D"), npz_mat(&mut f, "Y"));
    let lam = f.read("lam").unwrap().data.to_real_vec::<f64>().unwrap()[0];
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let want = npz_mat(&mut f, "lasso");
    let x = Lars::new(lam)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    assert!(max_diff(dense(&x).as_ref(), want.as_ref()) < 1e-9);
    let x = Fista::new(lam)
        .tol(1e-12)
        .max_iter(20000)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    assert!(max_diff(dense(&x).as_ref(), want.as_ref()) < 1e-5);
    let want = npz_mat(&mut f, "lasso_pos");
    let x = Lars::new(lam)
        .positive(true)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    assert!(max_diff(dense(&x).as_ref(), want.as_ref()) < 1e-9);
    let x = Fista::new(lam)
        .positive(true)
        .tol(1e-12)
        .max_iter(20000)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    assert!(max_diff(dense(&x).as_ref(), want.as_ref()) < 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Small random problems: a dictionary, planted 3-sparse signals with some noise.
fn problem(seed: u64, d: usize, m: usize, n: usize) -> (Mat<f64>, Mat<f64>) {
    let mut rng = Rng::new(seed);
    let dict = random_dict(&mut rng, d, m);
    let y = planted(&mut rng, dict.as_ref(), n, 3, 0.05);
    (dict, y)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// The OMP residual is orthogonal to the chosen atoms; nnz ≤ k; Batch-OMP equals the
    /// reference implementation, support and values.
    #[test]
    fn omp_invariants(seed in 0u64..1_000_000, k in 1usize..8) {
        let (d, y) = problem(seed, 16, 32, 20);
        let dict = Dictionary::new(d.as_ref()).unwrap();
        let fast = Omp::new().n_nonzero_coefs(k).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let slow = Omp::new().n_nonzero_coefs(k).variant(OmpVariant::Reference).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let r = residual(d.as_ref(), y.as_ref(), &fast);
        for j in 0..y.ncols() {
            let (rows, vals) = fast.col(j);
            prop_assert!(rows.len() <= k);
            prop_assert_eq!(rows, slow.col(j).0);
            for (a, b) in vals.iter().zip(slow.col(j).1) {
                prop_assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()));
            }
            let ynorm = y.col(j).norm_l2();
            for &i in rows {
                let dot: f64 = (0..d.nrows()).map(|t| d[(t, i as usize)] * r[(t, j)]).sum();
                prop_assert!(dot.abs() <= 1e-10 * (1.0 + ynorm), "atom {i}: {dot}");
            }
        }
    }

    /// Batch-ORMP equals reference ORMP, and each of its steps reduces the residual at least as
    /// much as OMP's first step does (ORMP's first pick maximizes the decrease).
    #[test]
    fn ormp_batch_equals_reference(seed in 0u64..1_000_000, k in 1usize..8) {
        let (d, y) = problem(seed, 16, 32, 20);
        let dict = Dictionary::new(d.as_ref()).unwrap();
        let fast = Omp::new().n_nonzero_coefs(k).selection(Selection::Ormp).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let slow = Omp::new().n_nonzero_coefs(k).selection(Selection::Ormp).variant(OmpVariant::Reference)
            .check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let r = residual(d.as_ref(), y.as_ref(), &fast);
        for j in 0..y.ncols() {
            prop_assert_eq!(fast.col(j).0, slow.col(j).0);
            for (a, b) in fast.col(j).1.iter().zip(slow.col(j).1) {
                prop_assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()));
            }
            for &i in fast.col(j).0 {
                let dot: f64 = (0..d.nrows()).map(|t| d[(t, i as usize)] * r[(t, j)]).sum();
                prop_assert!(dot.abs() <= 1e-10 * (1.0 + y.col(j).norm_l2()));
            }
        }
    }

    /// Error-constrained OMP stops as soon as the squared residual is at most tol.
    #[test]
    fn omp_tol_is_met(seed in 0u64..1_000_000, tol in 0.001f64..0.5) {
        let (d, y) = problem(seed, 16, 32, 20);
        let dict = Dictionary::new(d.as_ref()).unwrap();
        let x = Omp::new().tol(tol).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let r = residual(d.as_ref(), y.as_ref(), &x);
        for j in 0..y.ncols() {
            // Either the tolerance is met or the support reached the dimension.
            let r2 = r.col(j).squared_norm_l2();
            prop_assert!(r2 <= tol * (1.0 + 1e-9) || x.col(j).0.len() == 16, "{r2} > {tol}");
        }
    }

    /// LARS solutions satisfy the KKT conditions: ‖Dᵀr‖∞ ≤ λ, and Dᵀr = λ·sign(x) on the
    /// support; FISTA reaches the same objective to 1e-6 relative. Elastic net and positivity
    /// included.
    #[test]
    fn lasso_kkt_and_fista_agree(seed in 0u64..1_000_000, lam in 0.02f64..0.8, ridge in prop::bool::ANY, positive in prop::bool::ANY) {
        let (d, y) = problem(seed, 16, 32, 12);
        let lam2 = if ridge { 0.1 } else { 0.0 };
        let dict = Dictionary::new(d.as_ref()).unwrap();
        let x = Lars::new(lam).lambda2(lam2).positive(positive).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let r = residual(d.as_ref(), y.as_ref(), &x);
        let xd = dense(&x);
        for j in 0..y.ncols() {
            for i in 0..d.ncols() {
                let c: f64 = (0..d.nrows()).map(|t| d[(t, i)] * r[(t, j)]).sum::<f64>() - lam2 * xd[(i, j)];
                let xi = xd[(i, j)];
                if xi != 0.0 {
                    prop_assert!((c - lam * xi.signum()).abs() <= 1e-8, "support {i}: {c} vs {lam}");
                    prop_assert!(!positive || xi > 0.0);
                } else if positive {
                    prop_assert!(c <= lam + 1e-8, "{c} > {lam}");
                } else {
                    prop_assert!(c.abs() <= lam + 1e-8, "|{c}| > {lam}");
                }
            }
        }
        let f = Fista::new(lam).lambda2(lam2).positive(positive).tol(1e-9).max_iter(20000)
            .check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        for j in 0..y.ncols() {
            let (a, b) = (objective(d.as_ref(), y.as_ref(), &x, j, lam, lam2), objective(d.as_ref(), y.as_ref(), &f, j, lam, lam2));
            prop_assert!((a - b).abs() <= 1e-6 * a.max(1e-12), "lars {a} fista {b}");
        }
    }

    /// NN-OMP codes are non-negative, within k, and never worse than the empty code.
    #[test]
    fn nn_omp_is_nonnegative(seed in 0u64..1_000_000, k in 1usize..6) {
        let (d, y) = problem(seed, 16, 32, 20);
        let dict = Dictionary::new(d.as_ref()).unwrap();
        let x = Omp::new().n_nonzero_coefs(k).positive(true).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let r = residual(d.as_ref(), y.as_ref(), &x);
        for j in 0..y.ncols() {
            prop_assert!(x.col(j).0.len() <= k);
            prop_assert!(x.col(j).1.iter().all(|&v| v > 0.0));
            prop_assert!(r.col(j).squared_norm_l2() <= y.col(j).squared_norm_l2() + 1e-12);
        }
    }

    /// Matching Pursuit: nnz ≤ k, the residual never grows, and the Gram and no-Gram paths agree.
    #[test]
    fn mp_invariants(seed in 0u64..1_000_000, k in 1usize..8) {
        let (d, y) = problem(seed, 16, 32, 20);
        let dict = Dictionary::new(d.as_ref()).unwrap();
        let a = MatchingPursuit::new().n_nonzero_coefs(k).gram(GramUse::Always).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let b = MatchingPursuit::new().n_nonzero_coefs(k).gram(GramUse::Never).check().unwrap().encode(&dict, y.as_ref(), &seq()).unwrap();
        let r = residual(d.as_ref(), y.as_ref(), &a);
        for j in 0..y.ncols() {
            prop_assert!(a.col(j).0.len() <= k);
            prop_assert_eq!(a.col(j).0, b.col(j).0);
            for (u, v) in a.col(j).1.iter().zip(b.col(j).1) {
                prop_assert!((u - v).abs() <= 1e-9);
            }
            prop_assert!(r.col(j).squared_norm_l2() <= y.col(j).squared_norm_l2() + 1e-12);
        }
    }
}

/// Exact recovery: in the union of the identity and an orthonormal DCT basis (d = 64, mutual
/// coherence μ = √(2/64) = 0.177), every 3-sparse code satisfies k < (1 + 1/μ)/2 = 3.3, so OMP
/// recovers support and values of noiseless planted codes exactly (Tropp 2004).
#[test]
fn omp_recovers_planted_codes() {
    let d = 64;
    let dct = Mat::from_fn(d, d, |i, j| {
        let s = if j == 0 {
            (1.0 / d as f64).sqrt()
        } else {
            (2.0 / d as f64).sqrt()
        };
        s * (std::f64::consts::PI * (i as f64 + 0.5) * j as f64 / d as f64).cos()
    });
    let dict_m = Mat::from_fn(d, 2 * d, |i, j| {
        if j < d {
            f64::from(u8::from(i == j))
        } else {
            dct[(i, j - d)]
        }
    });
    let mut rng = Rng::new(7);
    let m = 2 * d;
    let mut x = Mat::<f64>::zeros(m, 50);
    for j in 0..50 {
        for _ in 0..3 {
            let i = (u01(&mut rng) * m as f64) as usize % m;
            x[(i, j)] = 1.0 + u01(&mut rng);
        }
    }
    let y = &dict_m * &x;
    let dict = Dictionary::new(dict_m.as_ref()).unwrap();
    for variant in [OmpVariant::Batch, OmpVariant::Reference] {
        let got = Omp::new()
            .n_nonzero_coefs(3)
            .tol(1e-20)
            .variant(variant)
            .check()
            .unwrap()
            .encode(&dict, y.as_ref(), &seq())
            .unwrap();
        assert!(
            max_diff(dense(&got).as_ref(), x.as_ref()) < 1e-10,
            "{variant:?}"
        );
    }
}

/// f32 and f64 agree on well-conditioned problems.
#[test]
fn f32_agrees_with_f64() {
    let (d, y) = problem(11, 32, 64, 300);
    let d32 = Mat::<f32>::from_fn(d.nrows(), d.ncols(), |i, j| d[(i, j)] as f32);
    let y32 = Mat::<f32>::from_fn(y.nrows(), y.ncols(), |i, j| y[(i, j)] as f32);
    let dict64 = Dictionary::new(d.as_ref()).unwrap();
    let dict32 = Dictionary::new(d32.as_ref()).unwrap();
    let coders: Vec<(Method, f64)> = vec![
        (Method::Omp(Omp::new().n_nonzero_coefs(4)), 0.97),
        (Method::Lars(Lars::new(0.2)), 0.9),
        (Method::Threshold(Threshold::top_k(3)), 0.97),
    ];
    for (coder, min_same) in coders {
        let coder = coder.check().unwrap();
        let a = coder.encode(&dict64, y.as_ref(), &seq()).unwrap();
        let b = coder.encode(&dict32, y32.as_ref(), &seq()).unwrap();
        let mut same = 0;
        for j in 0..y.ncols() {
            if a.col(j).0 == b.col(j).0 {
                same += 1;
                for (u, v) in a.col(j).1.iter().zip(b.col(j).1) {
                    assert!(
                        (u - f64::from(*v)).abs() < 1e-3,
                        "{}: {u} vs {v}",
                        coder.name()
                    );
                }
            }
        }
        assert!(
            same as f64 >= min_same * y.ncols() as f64,
            "{}: {same} equal supports",
            coder.name()
        );
    }
}

#[test]
fn threads_do_not_change_codes() {
    let (d, y) = problem(3, 16, 48, 700); // several blocks
    let dict = Dictionary::new(d.as_ref())
        .unwrap()
        .with_gram(&seq())
        .unwrap();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let last = std::sync::Mutex::new(Progress {
        stage: "encode",
        done: 0,
        total: 0,
    });
    let report = |e: &Event<'_>| {
        if let Event::Progress(p) = e {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut l = last.lock().unwrap();
            if p.done > l.done {
                *l = *p;
            }
        }
        std::ops::ControlFlow::Continue(())
    };
    let par = Exec::new(Par::rayon(2)).with_observer(&report);
    let coders = every_coder(Some(4), None, 0.1, None);
    for (name, coder) in &coders {
        let a = coder.encode(&dict, y.as_ref(), &seq()).unwrap();
        let b = coder.encode(&dict, y.as_ref(), &par).unwrap();
        assert_eq!(a.col_ptr(), b.col_ptr(), "{name}");
        assert_eq!(a.row_indices(), b.row_indices(), "{name}");
        assert_eq!(a.values(), b.values(), "{name}");
    }
    assert_eq!(
        *last.lock().unwrap(),
        Progress {
            stage: "encode",
            done: 700,
            total: 700
        }
    );
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::Relaxed),
        700usize.div_ceil(dictum::coding::BLOCK) * coders.len()
    );
}

#[test]
fn thresholding_rules() {
    let (d, y) = problem(5, 16, 32, 40);
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let corr = d.transpose() * &y;
    let top1 = Threshold::top_k(1)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    let rel = Threshold::relative(0.8)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    let bin = Threshold::top_k(3)
        .binary(true)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    for j in 0..y.ncols() {
        let best = (0..32)
            .max_by(|&a, &b| corr[(a, j)].abs().total_cmp(&corr[(b, j)].abs()))
            .unwrap();
        assert_eq!(top1.col(j), (&[best as u32][..], &[corr[(best, j)]][..]));
        let cut = 0.8 * corr[(best, j)].abs();
        let want: Vec<u32> = (0..32)
            .filter(|&i| corr[(i, j)].abs() >= cut)
            .map(|i| i as u32)
            .collect();
        assert_eq!(rel.col(j).0, want.as_slice());
        assert_eq!(bin.col(j).1, &[1.0, 1.0, 1.0]);
    }
    // Soft thresholding is the LASSO solution for an orthonormal dictionary.
    let q = dictum::linalg::svd::thin_svd(Rng::new(2).mat::<f64>(16, 16).as_ref(), Par::Seq)
        .unwrap()
        .u;
    let dict = Dictionary::new(q.as_ref()).unwrap();
    let soft = Threshold::soft(0.3)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    let lars = Lars::new(0.3)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    assert!(max_diff(dense(&soft).as_ref(), dense(&lars).as_ref()) < 1e-10);
}

#[test]
fn lars_path_ends_at_the_code_and_fista_warm_starts() {
    let (d, y) = problem(9, 16, 32, 5);
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let params = Lars::new(0.1).check().unwrap();
    let codes = params.encode(&dict, y.as_ref(), &seq()).unwrap();
    for j in 0..y.ncols() {
        let yj: Vec<f64> = (0..16).map(|i| y[(i, j)]).collect();
        let path = lars_path(&dict, &yj, &params, &seq()).unwrap();
        assert!(path.lambdas.windows(2).all(|w| w[0] >= w[1]));
        assert_relative_eq!(*path.lambdas.last().unwrap(), 0.1, epsilon = 1e-12);
        let mut last: Vec<(u32, f64)> = path
            .supports
            .last()
            .unwrap()
            .iter()
            .copied()
            .zip(path.coefs.last().unwrap().iter().copied())
            .collect();
        last.sort_by_key(|p| p.0);
        let (rows, vals) = codes.col(j);
        assert_eq!(last.iter().map(|p| p.0).collect::<Vec<_>>(), rows);
        for (p, v) in last.iter().zip(vals) {
            assert_relative_eq!(p.1, *v, epsilon = 1e-12);
        }
    }
    // Warm-started at the solution, FISTA stops at its first gap check, where it started.
    let warm = Fista::new(0.1)
        .check_every(1)
        .check()
        .unwrap()
        .encode_warm(&dict, y.as_ref(), &codes, &seq())
        .unwrap();
    assert!(max_diff(dense(&warm).as_ref(), dense(&codes).as_ref()) < 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Degenerate input: handled, never NaN.

#[test]
fn degenerate_inputs_give_finite_codes() {
    let mut rng = Rng::new(4);
    let base = random_dict(&mut rng, 8, 6);
    // Atoms 6..9 duplicate atoms 0..3 (singular Gram); m = 12 > d = 8 (rank 6 < k = 10).
    let d = Mat::from_fn(8, 12, |i, j| base[(i, j % 6)]);
    let mut y = planted(&mut rng, d.as_ref(), 6, 4, 0.1);
    for i in 0..8 {
        y[(i, 0)] = 0.0; // a zero signal
    }
    let dict = Dictionary::new(d.as_ref()).unwrap();
    for (name, coder) in every_coder(Some(10), None, 0.01, None) {
        let x = coder.encode(&dict, y.as_ref(), &seq()).unwrap();
        assert!(x.values().iter().all(|v| v.is_finite()), "{name}");
        assert_eq!(x.col(0).0.len(), 0, "{name}: zero signal");
        if name.contains("omp") {
            // Supports stop at the rank of the dictionary.
            assert!((0..6).all(|j| x.col(j).0.len() <= 6), "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[test]
fn bad_input_is_a_clear_error() {
    let (d, y) = problem(1, 8, 16, 4);
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let err = |r: Result<CscMatrix<f64>, CodingError>| r.unwrap_err().to_string();
    let code = |m: Method, y: MatRef<'_, f64>| m.check()?.encode(&dict, y, &seq());
    let omp = |k: usize| Method::Omp(Omp::new().n_nonzero_coefs(k));
    assert!(err(code(Method::Omp(Omp::new()), y.as_ref())).contains("no stopping rule"));
    assert!(err(code(omp(0), y.as_ref())).contains("at least 1"));
    assert!(err(code(omp(17), y.as_ref())).contains("exceeds the number of atoms m = 16"));
    assert!(err(code(Method::Lars(Lars::new(-1.0)), y.as_ref())).contains("lambda"));
    assert!(err(code(Method::Threshold(Threshold::top_k(17)), y.as_ref())).contains("exceeds"));
    let none = Mat::<f64>::zeros(8, 0);
    assert!(err(code(omp(2), none.as_ref())).contains("signals is empty"));
    let wrong = Mat::<f64>::zeros(7, 3);
    assert!(err(code(omp(2), wrong.as_ref())).contains("signals are columns"));
    let mut nan = y.clone();
    nan[(2, 1)] = f64::NAN;
    assert!(err(code(omp(2), nan.as_ref())).contains("row 2, column 1"));
    let mut scaled = d.clone();
    scaled[(0, 3)] += 0.5;
    let e = Dictionary::new(scaled.as_ref()).unwrap_err().to_string();
    assert!(e.contains("atom 3") && e.contains("normalize"), "{e}");
    let (fixed, norms) = Dictionary::normalized(scaled.as_ref()).unwrap();
    assert!(Dictionary::new(fixed.as_ref()).is_ok());
    assert!((norms[3] - 1.0).abs() > 1e-3);
    let zero = Mat::<f64>::zeros(8, 2);
    assert!(
        Dictionary::new(zero.as_ref())
            .unwrap_err()
            .to_string()
            .contains("atom 0 is zero")
    );
}

/// Signals are checked for NaN and infinity block by block, on every thread: the error names
/// the first bad entry of the whole matrix, whatever the coder and the thread count.
#[test]
fn the_first_non_finite_signal_is_reported() {
    let (d, mut y) = problem(5, 8, 16, 1000);
    y[(5, 900)] = f64::INFINITY;
    y[(3, 700)] = f64::NAN;
    y[(6, 700)] = f64::NAN;
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let two = Exec::new(Par::Rayon(std::num::NonZeroUsize::new(2).unwrap()));
    for opts in [seq(), two] {
        for coder in [
            Method::Omp(Omp::new().n_nonzero_coefs(2)),
            Method::Mp(MatchingPursuit::new().n_nonzero_coefs(2)),
            Method::Lars(Lars::new(0.1)),
            Method::Fista(Fista::new(0.1)),
            Method::Threshold(Threshold::top_k(2)),
        ] {
            let e = coder
                .check()
                .unwrap()
                .encode(&dict, y.as_ref(), &opts)
                .unwrap_err()
                .to_string();
            assert!(e.contains("row 3, column 700"), "{e}");
        }
    }
}

/// A Gram matrix given by the caller is used as is, and checked for shape.
#[test]
fn given_gram_is_used_and_checked() {
    let (d, y) = problem(21, 12, 24, 30);
    let g = dictum::linalg::gemm::gram(d.as_ref(), Par::Seq).unwrap();
    let plain = Dictionary::new(d.as_ref()).unwrap();
    let given = Dictionary::new(d.as_ref())
        .unwrap()
        .with_given_gram(g.as_ref())
        .unwrap();
    for coder in [
        Method::Omp(Omp::new().n_nonzero_coefs(3)),
        Method::Lars(Lars::new(0.1)),
    ] {
        let coder = coder.check().unwrap();
        let a = coder.encode(&plain, y.as_ref(), &seq()).unwrap();
        let b = coder.encode(&given, y.as_ref(), &seq()).unwrap();
        assert_eq!(a.values(), b.values());
    }
    let small = Mat::<f64>::zeros(3, 3);
    let e = Dictionary::new(d.as_ref())
        .unwrap()
        .with_given_gram(small.as_ref())
        .unwrap_err();
    assert!(e.to_string().contains("expected 24x24"), "{e}");
}

/// ISTA reaches FISTA's solution (more slowly); soft thresholding and MP with a tolerance
/// through `Method`.
#[test]
fn ista_and_method_names() {
    let (d, y) = problem(17, 16, 32, 10);
    let dict = Dictionary::new(d.as_ref()).unwrap();
    let f = Fista::new(0.2)
        .tol(1e-10)
        .max_iter(50_000)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    let i = Fista::ista(0.2)
        .tol(1e-10)
        .max_iter(50_000)
        .check()
        .unwrap()
        .encode(&dict, y.as_ref(), &seq())
        .unwrap();
    assert!(max_diff(dense(&f).as_ref(), dense(&i).as_ref()) < 1e-4);
    let coders = every_coder(None, Some(0.01), 0.2, Some(0.5));
    for (name, want) in [
        ("soft-threshold", "threshold"),
        ("mp", "mp"),
        ("threshold", "threshold"),
        ("ista", "ista"),
    ] {
        let m = &coders.iter().find(|c| c.0 == name).unwrap().1;
        assert_eq!(m.name(), want);
        let x = m.encode(&dict, y.as_ref(), &seq()).unwrap();
        assert_eq!(x.ncols(), 10);
    }
}
