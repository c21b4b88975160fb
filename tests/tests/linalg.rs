//! The linear-algebra kernels against slow references.

use approx::assert_relative_eq;
use dictum::linalg::cholesky::{CholeskyAppend, cholesky_lower};
use dictum::linalg::eigen::{generalized_symmetric_eigen, symmetric_eigen};
use dictum::linalg::svd::{LeadingSvd, leading_singular_triplet, thin_svd};
use dictum::linalg::{LinalgError, gemm, norms, triangular, view};
use dictum::{CscMatrix, Mat, Par, Real};
use dictum_tests::{Rng, max_abs_diff, naive_nn, naive_tn};
use proptest::prelude::*;

fn pars() -> [Par; 2] {
    [Par::Seq, Par::rayon(2)]
}

fn gemm_agrees<T: Real>(k: usize, m: usize, n: usize, tol: f64) {
    let mut rng = Rng::new((k * 1000 + m * 10 + n) as u64);
    let a = rng.mat::<T>(k, m);
    let b = rng.mat::<T>(k, n);
    let reference = naive_tn(a.as_ref(), b.as_ref());
    for par in pars() {
        let c = gemm::gemm_tn(a.as_ref(), b.as_ref(), par).unwrap();
        let err = max_abs_diff(c.as_ref(), reference.as_ref());
        assert!(
            err <= tol * k as f64,
            "{} {k}x{m}x{n} {par:?}: error {err}",
            T::NAME
        );
    }
}

#[test]
fn gemm_tn_matches_naive_f32_and_f64() {
    for &(k, m, n) in &[(1, 1, 1), (3, 5, 7), (64, 33, 129), (100, 64, 17)] {
        gemm_agrees::<f32>(k, m, n, 1e-6);
        gemm_agrees::<f64>(k, m, n, 1e-14);
    }
}

#[test]
fn gemm_nn_matches_naive() {
    let mut rng = Rng::new(7);
    let a = rng.mat::<f32>(13, 40);
    let b = rng.mat::<f32>(40, 9);
    let c = gemm::gemm_nn(a.as_ref(), b.as_ref(), Par::Seq).unwrap();
    assert!(max_abs_diff(c.as_ref(), naive_nn(a.as_ref(), b.as_ref()).as_ref()) < 1e-5);
}

fn gram_agrees<T: Real>(d: usize, m: usize, tol: f64) {
    let mut rng = Rng::new((d * 31 + m) as u64);
    let dict = rng.mat::<T>(d, m);
    let reference = naive_tn(dict.as_ref(), dict.as_ref());
    for par in pars() {
        let g = gemm::gram(dict.as_ref(), par).unwrap();
        assert!(max_abs_diff(g.as_ref(), reference.as_ref()) <= tol * d as f64);
        for i in 0..m {
            for j in 0..m {
                assert_eq!(g[(i, j)], g[(j, i)], "Gram must be exactly symmetric");
            }
        }
    }
}

#[test]
fn gram_matches_naive_and_is_symmetric() {
    gram_agrees::<f32>(64, 100, 1e-6);
    gram_agrees::<f64>(64, 100, 1e-14);
    gram_agrees::<f32>(5, 300, 1e-6);
}

#[test]
fn gemm_rejects_mismatched_shapes() {
    let a = Mat::<f32>::zeros(3, 2);
    let b = Mat::<f32>::zeros(4, 2);
    let err = gemm::gemm_tn(a.as_ref(), b.as_ref(), Par::Seq).unwrap_err();
    assert!(matches!(err, LinalgError::ShapeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("3x2"), "{err}");
    let mut dst = Mat::<f32>::zeros(2, 3);
    let err = gemm::gram_into(dst.as_mut(), a.as_ref(), Par::Seq).unwrap_err();
    assert!(matches!(err, LinalgError::ShapeMismatch { .. }));
}

#[test]
fn views_are_zero_copy_and_checked() {
    let buf: Vec<f32> = (0..6).map(|x| x as f32).collect();
    let m = view::col_major(&buf, 3, 2).unwrap();
    assert_eq!(m[(1, 1)], 4.0);
    assert!(std::ptr::eq(m.col(0).as_ptr(), buf.as_ptr()));
    // sklearn's 2 samples x 3 features is the same 3 x 2 matrix
    let s = view::samples_as_rows(&buf, 2, 3).unwrap();
    assert_eq!(s, m);
    let err = view::col_major(&buf, 4, 2).unwrap_err();
    assert!(matches!(
        err,
        LinalgError::BufferLength {
            len: 6,
            expected: 8,
            ..
        }
    ));
    let overflow = view::col_major(&buf, usize::MAX, 2).unwrap_err();
    assert!(matches!(
        overflow,
        LinalgError::BufferLength {
            expected: usize::MAX,
            ..
        }
    ));
}

#[test]
fn check_finite_names_the_entry() {
    let mut a = Mat::<f64>::zeros(3, 3);
    a[(2, 1)] = f64::NAN;
    let err = view::check_finite("test", a.as_ref()).unwrap_err();
    assert!(
        matches!(err, LinalgError::NonFinite { row: 2, col: 1, .. }),
        "{err}"
    );
}

#[test]
fn normalize_reports_zero_columns() {
    let mut a = Mat::<f32>::from_fn(3, 3, |i, j| if j == 1 { 0.0 } else { (i + j + 1) as f32 });
    let report = norms::normalize_columns(a.as_mut());
    assert_eq!(report.zero_columns, vec![1]);
    assert!(!report.all_normalized());
    assert_relative_eq!(report.norms[0], 14f32.sqrt(), epsilon = 1e-6);
    let after = norms::column_norms(a.as_ref());
    assert_relative_eq!(after[0], 1.0, epsilon = 1e-6);
    assert_eq!(after[1], 0.0);
    assert_relative_eq!(after[2], 1.0, epsilon = 1e-6);
}

#[test]
fn cholesky_rejects_dependent_column_and_stays_usable() {
    let mut chol = CholeskyAppend::<f64>::with_capacity(3);
    chol.push(&[], 1.0).unwrap();
    // second column identical to the first: Gram [[1,1],[1,1]] is singular
    let err = chol.push(&[1.0], 1.0).unwrap_err();
    assert!(
        matches!(err, LinalgError::NotPositiveDefinite { index: 1, .. }),
        "{err}"
    );
    assert_eq!(chol.len(), 1);
    chol.push(&[0.5], 1.0).unwrap();
    assert_eq!(chol.len(), 2);
    assert!(matches!(
        chol.push(&[0.0], 1.0),
        Err(LinalgError::ShapeMismatch { .. })
    ));
    chol.push(&[0.0, 0.0], 1.0).unwrap();
    assert!(matches!(
        chol.push(&[0.0, 0.0, 0.0], 1.0),
        Err(LinalgError::CapacityExceeded { capacity: 3 })
    ));
    let mut short = [1.0];
    assert!(chol.solve_in_place(&mut short).is_err());
}

#[test]
fn triangular_solves_invert_products() {
    let mut rng = Rng::new(11);
    let n = 20;
    let mut l = rng.mat::<f64>(n, n);
    for i in 0..n {
        l[(i, i)] = 3.0 + l[(i, i)].abs();
    }
    let x = rng.mat::<f64>(n, 3);
    let lower = Mat::from_fn(n, n, |i, j| if i >= j { l[(i, j)] } else { 0.0 });
    let mut b = &lower * &x;
    triangular::solve_lower_in_place(l.as_ref(), b.as_mut(), Par::Seq).unwrap();
    assert!(max_abs_diff(b.as_ref(), x.as_ref()) < 1e-12);
    let upper = lower.transpose().to_owned();
    let mut b = &upper * &x;
    triangular::solve_upper_in_place(upper.as_ref(), b.as_mut(), Par::Seq).unwrap();
    assert!(max_abs_diff(b.as_ref(), x.as_ref()) < 1e-12);
    let mut wrong = Mat::<f64>::zeros(n + 1, 1);
    assert!(triangular::solve_lower_in_place(l.as_ref(), wrong.as_mut(), Par::Seq).is_err());
}

#[test]
fn leading_triplet_of_zero_matrix() {
    let z = Mat::<f32>::zeros(4, 3);
    let t = leading_singular_triplet(z.as_ref(), &LeadingSvd::new(), Par::Seq).unwrap();
    assert_eq!(t.sigma, 0.0);
    assert_eq!(t.u.len(), 4);
    assert_eq!(t.v.len(), 3);
}

#[test]
fn leading_triplet_is_scale_invariant() {
    let mut rng = Rng::new(17);
    let a = rng.mat::<f64>(30, 50);
    let base = leading_singular_triplet(a.as_ref(), &LeadingSvd::new(), Par::Seq).unwrap();
    for scale in [1e-30, 1e-8, 1e8, 1e30] {
        let scaled = Mat::from_fn(30, 50, |i, j| a[(i, j)] * scale);
        let t = leading_singular_triplet(scaled.as_ref(), &LeadingSvd::new(), Par::Seq).unwrap();
        assert_relative_eq!(t.sigma / scale, base.sigma, max_relative = 1e-7);
        let dot: f64 = t.u.iter().zip(&base.u).map(|(x, y)| x * y).sum();
        assert_relative_eq!(dot, 1.0, epsilon = 1e-6);
    }
    // A rank-one matrix: the Krylov space is invariant after one step.
    let r1 = Mat::from_fn(20, 7, |i, j| (i as f64 - 3.0) * (j as f64 + 1.0));
    let t = leading_singular_triplet(r1.as_ref(), &LeadingSvd::new(), Par::Seq).unwrap();
    assert_relative_eq!(t.sigma, r1.norm_l2(), max_relative = 1e-12);
}

#[test]
fn leading_triplet_rejects_bad_input() {
    let empty = Mat::<f64>::zeros(0, 3);
    assert!(matches!(
        leading_singular_triplet(empty.as_ref(), &LeadingSvd::new(), Par::Seq),
        Err(LinalgError::Empty { .. })
    ));
    let mut nan = Mat::<f64>::zeros(2, 2);
    nan[(0, 0)] = f64::INFINITY;
    assert!(matches!(
        leading_singular_triplet(nan.as_ref(), &LeadingSvd::new(), Par::Seq),
        Err(LinalgError::NonFinite { .. })
    ));
    let one = Mat::<f64>::identity(2, 2);
    assert!(matches!(
        leading_singular_triplet(one.as_ref(), &LeadingSvd::new().tol(2.0), Par::Seq),
        Err(LinalgError::InvalidParameter { name: "tol", .. })
    ));
}

#[test]
fn leading_triplet_on_ksvd_sized_matrix() {
    // A typical K-SVD restricted residual: 64 x 300 with a dominant direction.
    let mut rng = Rng::new(3);
    let (d, n) = (64, 300);
    let u0 = rng.mat::<f32>(d, 1);
    let v0 = rng.mat::<f32>(n, 1);
    let noise = rng.mat::<f32>(d, n);
    let a = Mat::from_fn(d, n, |i, j| {
        5.0 * u0[(i, 0)] * v0[(j, 0)] + 0.1 * noise[(i, j)]
    });
    let t = leading_singular_triplet(a.as_ref(), &LeadingSvd::new(), Par::Seq).unwrap();
    let full = thin_svd(a.as_ref(), Par::Seq).unwrap();
    assert_relative_eq!(t.sigma, full.s[0], max_relative = 1e-4);
    let dot: f32 = (0..d).map(|i| t.u[i] * full.u[(i, 0)]).sum();
    assert_relative_eq!(dot.abs(), 1.0, epsilon = 1e-3);
}

#[test]
fn dense_cholesky_matches_and_rejects() {
    let mut rng = Rng::new(8);
    let x = rng.mat::<f64>(12, 30);
    let g = &x * x.transpose();
    for par in pars() {
        let l = cholesky_lower(g.as_ref(), par).unwrap();
        assert!(max_abs_diff((&l * l.transpose()).as_ref(), g.as_ref()) < 1e-12 * g.norm_l2());
        assert!(
            (0..12).all(|j| (0..j).all(|i| l[(i, j)] == 0.0)),
            "strict upper part is zero"
        );
    }
    let mut bad = Mat::<f64>::identity(3, 3);
    bad[(1, 1)] = 0.0;
    assert!(matches!(
        cholesky_lower(bad.as_ref(), Par::Seq),
        Err(LinalgError::NotPositiveDefinite { index: 1, .. })
    ));
}

#[test]
fn symmetric_eigen_reconstructs() {
    let mut rng = Rng::new(5);
    let x = rng.mat::<f64>(30, 30);
    let a = &x + x.transpose();
    let e = symmetric_eigen(a.as_ref(), Par::rayon(2)).unwrap();
    assert!(e.values.windows(2).all(|w| w[0] <= w[1]), "ascending");
    let recon = &e.vectors
        * Mat::from_fn(30, 30, |i, j| if i == j { e.values[i] } else { 0.0 })
        * e.vectors.transpose();
    assert!(max_abs_diff(recon.as_ref(), a.as_ref()) < 1e-10);
}

fn check_generalized<T: Real>(n: usize, tol: f64) {
    let mut rng = Rng::new(n as u64 + 99);
    let x = rng.mat::<T>(n, n);
    let a = &x + x.transpose();
    let y = rng.mat::<T>(n, 2 * n);
    let mut b = &y * y.transpose(); // SPD: a covariance of 2n samples
    for i in 0..n {
        b[(i, i)] += T::cast_f64(0.1);
    }
    let e = generalized_symmetric_eigen(a.as_ref(), b.as_ref(), Par::Seq).unwrap();
    assert_eq!(e.values.len(), n);
    assert!(e.values.windows(2).all(|w| w[0] <= w[1]), "ascending");
    // A v = λ B v
    let av = &a * &e.vectors;
    let bv = &b * &e.vectors;
    let scale = a.norm_l2().into_f64().max(1.0);
    for k in 0..n {
        for i in 0..n {
            let r = av[(i, k)].into_f64() - e.values[k].into_f64() * bv[(i, k)].into_f64();
            assert!(
                r.abs() <= tol * scale * (1.0 + e.values[k].into_f64().abs()),
                "{} residual {r} (pair {k})",
                T::NAME
            );
        }
    }
    // Vᵀ B V = I
    let vbv = e.vectors.transpose() * &bv;
    let eye = Mat::<f64>::identity(n, n);
    assert!(
        max_abs_diff(vbv.as_ref(), eye.as_ref()) <= tol * 10.0,
        "{} not B-orthonormal",
        T::NAME
    );
    let small = e.clone().truncate_smallest(3);
    assert_eq!(small.values, e.values[..3].to_vec());
    assert_eq!(small.vectors.ncols(), 3);
}

#[test]
fn generalized_eigen_residual_and_b_orthonormality() {
    check_generalized::<f64>(40, 1e-10);
    check_generalized::<f32>(20, 2e-3);
}

#[test]
fn generalized_eigen_rejects_indefinite_b() {
    let a = Mat::<f64>::identity(3, 3);
    let mut b = Mat::<f64>::identity(3, 3);
    b[(2, 2)] = -1.0;
    let err = generalized_symmetric_eigen(a.as_ref(), b.as_ref(), Par::Seq).unwrap_err();
    assert!(
        matches!(err, LinalgError::NotPositiveDefinite { index: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("ridge"));
    let rect = Mat::<f64>::zeros(3, 2);
    assert!(matches!(
        generalized_symmetric_eigen(rect.as_ref(), b.as_ref(), Par::Seq),
        Err(LinalgError::NotSquare { .. })
    ));
}

#[test]
fn csc_rejects_inconsistent_parts() {
    let bad = |ptr: Vec<usize>, rows: Vec<u32>, vals: Vec<f64>| {
        CscMatrix::try_new(3, 2, ptr, rows, vals).unwrap_err()
    };
    assert!(
        bad(vec![0, 1], vec![0], vec![1.0])
            .to_string()
            .contains("col_ptr has 2")
    );
    assert!(
        bad(vec![0, 1, 2], vec![0, 5], vec![1.0, 2.0])
            .to_string()
            .contains("out of range")
    );
    assert!(
        bad(vec![0, 2, 1], vec![0, 1], vec![1.0, 2.0])
            .to_string()
            .contains("start at 0 and end")
    );
    assert!(
        bad(vec![0, 2, 2], vec![1, 1], vec![1.0, 2.0])
            .to_string()
            .contains("twice")
    );
    assert!(
        bad(vec![0, 1, 2], vec![0], vec![1.0, 2.0])
            .to_string()
            .contains("pair up")
    );
    // unsorted rows within a column are sorted, values follow
    let m = CscMatrix::try_new(3, 1, vec![0, 2], vec![2, 0], vec![5.0, 7.0]).unwrap();
    assert_eq!(m.col(0), (&[0u32, 2][..], &[7.0, 5.0][..]));
}

#[test]
fn csc_products_accept_strided_views() {
    let mut rng = Rng::new(21);
    let x = Mat::from_fn(6, 5, |i, j| {
        if (i + j) % 2 == 0 {
            (i + 10 * j) as f64
        } else {
            0.0
        }
    });
    let csc = CscMatrix::from_dense(x.as_ref()).unwrap();
    // A transposed matrix has non-unit row stride: the slow paths must agree with the fast.
    let at = rng.mat::<f64>(6, 4);
    let a = at.transpose();
    let mut dst_t = Mat::<f64>::zeros(5, 4);
    csc.dense_mul_into(dst_t.as_mut().transpose_mut(), a, Par::Seq)
        .unwrap();
    let expect = naive_nn(a, x.as_ref());
    assert!(max_abs_diff(dst_t.transpose(), expect.as_ref()) < 1e-12);
    let bt = rng.mat::<f64>(3, 5);
    let xb = csc.mul_dense(bt.transpose(), Par::Seq).unwrap();
    assert!(max_abs_diff(xb.as_ref(), naive_nn(x.as_ref(), bt.transpose()).as_ref()) < 1e-12);
    let ct = rng.mat::<f64>(2, 6);
    let xtc = csc
        .transpose_mul_dense(ct.transpose(), Par::rayon(2))
        .unwrap();
    assert!(max_abs_diff(xtc.as_ref(), naive_tn(x.as_ref(), ct.transpose()).as_ref()) < 1e-12);
}

fn dense_strategy(max_r: usize, max_c: usize) -> impl Strategy<Value = Mat<f64>> {
    (1..=max_r, 1..=max_c).prop_flat_map(|(r, c)| {
        proptest::collection::vec(prop_oneof![3 => Just(0.0), 2 => -1.0f64..1.0], r * c)
            .prop_map(move |v| Mat::from_fn(r, c, |i, j| v[i + j * r]))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn csc_products_match_dense(x in dense_strategy(12, 15), seed in 0u64..1000) {
        let (m, n) = (x.nrows(), x.ncols());
        let csc = CscMatrix::from_dense(x.as_ref()).unwrap();
        prop_assert_eq!(csc.to_dense(), x.clone());
        let mut rng = Rng::new(seed);
        let a = rng.mat::<f64>(5, m);
        let b = rng.mat::<f64>(n, 4);
        let bt = rng.mat::<f64>(m, 3);
        for par in pars() {
            let ax = csc.dense_mul(a.as_ref(), par).unwrap();
            prop_assert!(max_abs_diff(ax.as_ref(), naive_nn(a.as_ref(), x.as_ref()).as_ref()) < 1e-12);
            let xb = csc.mul_dense(b.as_ref(), par).unwrap();
            prop_assert!(max_abs_diff(xb.as_ref(), naive_nn(x.as_ref(), b.as_ref()).as_ref()) < 1e-12);
            let xtb = csc.transpose_mul_dense(bt.as_ref(), par).unwrap();
            prop_assert!(max_abs_diff(xtb.as_ref(), naive_tn(x.as_ref(), bt.as_ref()).as_ref()) < 1e-12);
        }
    }

    #[test]
    fn cholesky_append_then_solve_matches_direct_solve(n in 1usize..24, seed in 0u64..1000) {
        // G = AᵀA + I is SPD; grow its factor one column at a time.
        let mut rng = Rng::new(seed);
        let a = rng.mat::<f64>(n + 3, n);
        let mut g = a.transpose() * &a;
        for i in 0..n { g[(i, i)] += 1.0; }
        let mut chol = CholeskyAppend::with_capacity(n);
        for k in 0..n {
            let cross: Vec<f64> = (0..k).map(|i| g[(i, k)]).collect();
            chol.push(&cross, g[(k, k)]).unwrap();
        }
        let b: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let mut x = b.clone();
        chol.solve_in_place(&mut x).unwrap();
        let direct = g.llt(faer::Side::Lower).unwrap();
        let xd = faer::linalg::solvers::Solve::solve(&direct, Mat::from_fn(n, 1, |i, _| b[i]));
        for i in 0..n {
            prop_assert!((x[i] - xd[(i, 0)]).abs() < 1e-9 * (1.0 + xd[(i, 0)].abs()));
        }
        // and L·Lᵀ reproduces G
        let l = chol.factor().to_owned();
        let llt = &l * l.transpose();
        prop_assert!(max_abs_diff(llt.as_ref(), g.as_ref()) < 1e-10 * (1.0 + g.norm_l2()));
    }

    #[test]
    fn leading_triplet_matches_full_svd(r in 1usize..40, c in 1usize..40, seed in 0u64..1000) {
        let mut rng = Rng::new(seed);
        let a = rng.mat::<f64>(r, c);
        let t = leading_singular_triplet(a.as_ref(), &LeadingSvd::new().tol(1e-10), Par::Seq).unwrap();
        let full = thin_svd(a.as_ref(), Par::Seq).unwrap();
        prop_assert!((t.sigma - full.s[0]).abs() <= 1e-8 * full.s[0]);
        // A v = σ u
        let av = &a * Mat::from_fn(c, 1, |i, _| t.v[i]);
        for i in 0..r {
            prop_assert!((av[(i, 0)] - t.sigma * t.u[i]).abs() <= 1e-6 * (1.0 + t.sigma));
        }
        let nu: f64 = t.u.iter().map(|x| x * x).sum();
        prop_assert!((nu - 1.0).abs() < 1e-10);
    }
}

#[test]
fn csc_transpose_is_the_dense_transpose() {
    let mut rng = Rng::new(17);
    let x = Mat::<f64>::from_fn(7, 5, |_, _| {
        let v = rng.uniform();
        if v > 0.3 { 0.0 } else { v }
    });
    let csc = CscMatrix::from_dense(x.as_ref()).unwrap();
    let t = csc.transpose();
    assert_eq!(t.to_dense(), x.transpose().to_owned());
    assert_eq!(t.transpose(), csc);
}

#[test]
fn subspace_iteration_finds_the_smallest_generalized_eigenpairs() {
    use dictum::linalg::eigen::{
        SubspaceOptions, generalized_symmetric_eigen, smallest_generalized_eigen,
    };
    let n = 120;
    let mut rng = Rng::new(23);
    // A PSD with a null vector (like the SMT's cost), B SPD.
    let g = Mat::<f64>::from_fn(n, n - 1, |_, _| rng.uniform());
    let a = &g * g.transpose();
    let h = Mat::<f64>::from_fn(n, n, |_, _| rng.uniform());
    let b = &h * h.transpose() + Mat::<f64>::identity(n, n) * faer::Scale(n as f64);
    let full = generalized_symmetric_eigen(a.as_ref(), b.as_ref(), Par::Seq).unwrap();
    let few = smallest_generalized_eigen(
        a.as_ref(),
        b.as_ref(),
        6,
        SubspaceOptions::default(),
        Par::Seq,
    )
    .unwrap();
    for i in 0..6 {
        let (x, y) = (few.values[i], full.values[i]);
        assert!(
            (x - y).abs() <= 1e-8 * full.values[n - 1].abs(),
            "λ{i}: {x} vs {y}"
        );
        // Same direction up to sign, and B-normalised.
        let v = few.vectors.col(i);
        let w = full.vectors.col(i);
        let vbw: f64 = (0..n)
            .map(|r| v[r] * (0..n).map(|c| b[(r, c)] * w[c]).sum::<f64>())
            .sum();
        assert!((vbw.abs() - 1.0).abs() < 1e-6, "pair {i}: vᵀBw = {vbw}");
    }
}

/// Large matrices are checked in parallel first; an unsorted column still gets sorted and a
/// bad row index still names its column.
#[test]
fn large_csc_is_checked_like_a_small_one() {
    let (ncols, per) = (20_000, 4);
    let ptr: Vec<usize> = (0..=ncols).map(|j| j * per).collect();
    let rows: Vec<u32> = (0..ncols * per).map(|i| (i % per) as u32 * 3).collect();
    let vals: Vec<f64> = (0..ncols * per).map(|i| i as f64).collect();
    let ok = CscMatrix::try_new(12, ncols, ptr.clone(), rows.clone(), vals.clone()).unwrap();
    assert_eq!(ok.col(7).0, &[0, 3, 6, 9]);
    let mut swapped = rows.clone();
    swapped.swap(per * 15_000, per * 15_000 + 1);
    let fixed = CscMatrix::try_new(12, ncols, ptr.clone(), swapped, vals.clone()).unwrap();
    let b = (per * 15_000) as f64;
    assert_eq!(fixed.col(15_000).0, &[0, 3, 6, 9]);
    assert_eq!(fixed.col(15_000).1, &[b + 1.0, b, b + 2.0, b + 3.0]);
    assert!(fixed.col(14_999) == ok.col(14_999));
    let mut far = rows;
    far[per * 12_345 + 2] = 40;
    let e = CscMatrix::try_new(12, ncols, ptr, far, vals)
        .unwrap_err()
        .to_string();
    assert!(e.contains("column 12345"), "{e}");
}
