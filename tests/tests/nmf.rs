//! NMF: planted factors, monotone objectives, non-negativity, sparse = dense, transform's KKT
//! conditions, degenerate rows and errors.

use dictum::learn::LearnError;
use dictum::learn::nmf::{Nmf, NmfData, NmfInit, NmfSolver};
use dictum::{CscMatrix, Exec, Learner, Mat};
use dictum_tests::Rng;
use proptest::prelude::*;

fn u01(rng: &mut Rng) -> f64 {
    0.5 * (rng.uniform() + 1.0)
}

/// `V = W·H` with uniform(0, 1) factors.
fn planted(seed: u64, n: usize, p: usize, r: usize) -> (Mat<f64>, Mat<f64>, Mat<f64>) {
    let mut rng = Rng::new(seed);
    let w = Mat::<f64>::from_fn(n, r, |_, _| u01(&mut rng));
    let h = Mat::<f64>::from_fn(r, p, |_, _| u01(&mut rng));
    let v = &w * &h;
    (w, h, v)
}

fn dense(v: &Mat<f64>) -> NmfData<'_, f64> {
    NmfData::Dense(v.as_ref())
}

#[test]
fn planted_factors_are_recovered_up_to_permutation_and_scale() {
    // Sparse factors make the factorisation unique (up to permutation and scale); dense
    // uniform ones are not identifiable.
    let mut rng = Rng::new(1);
    let w = Mat::<f64>::from_fn(40, 4, |i, k| {
        if i % 4 == k || u01(&mut rng) < 0.3 {
            u01(&mut rng) + 0.1
        } else {
            0.0
        }
    });
    let h_true = Mat::<f64>::from_fn(4, 30, |k, j| {
        if j % 4 == k || u01(&mut rng) < 0.3 {
            u01(&mut rng) + 0.1
        } else {
            0.0
        }
    });
    let v = &w * &h_true;
    let fit = Nmf::new(4)
        .max_iter(2000)
        .tol(1e-12)
        .fit(dense(&v), &Exec::default())
        .unwrap();
    let last = fit.history.last().unwrap();
    assert!(last.rel_error < 1e-3, "rel error {}", last.rel_error);
    // Each true row of H matches a fitted row in direction.
    let row = |m: &Mat<f64>, k: usize| -> Vec<f64> {
        let v: Vec<f64> = (0..m.ncols()).map(|j| m[(k, j)]).collect();
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter().map(|x| x / n).collect()
    };
    for a in 0..4 {
        let best = (0..4)
            .map(|b| {
                row(&h_true, a)
                    .iter()
                    .zip(row(&fit.h, b))
                    .map(|(x, y)| x * y)
                    .sum::<f64>()
            })
            .fold(0.0f64, f64::max);
        assert!(best > 0.99, "component {a}: best cosine {best}");
    }
}

#[test]
fn multiplicative_updates_never_increase_their_objective() {
    let (_, _, mut v) = planted(2, 25, 20, 3);
    let mut rng = Rng::new(3);
    for j in 0..20 {
        for i in 0..25 {
            v[(i, j)] += 0.05 * u01(&mut rng);
        }
    }
    for solver in [
        NmfSolver::MultiplicativeFrobenius,
        NmfSolver::MultiplicativeKl,
        NmfSolver::Hals,
    ] {
        let fit = Nmf::new(3)
            .solver(solver)
            .init(NmfInit::Random)
            .max_iter(150)
            .tol(0.0)
            .fit(dense(&v), &Exec::default())
            .unwrap();
        let obj: Vec<f64> = fit.history.iter().map(|s| s.objective).collect();
        for w in obj.windows(2) {
            assert!(
                w[1] <= w[0] * (1.0 + 1e-9) + 1e-12,
                "{solver:?}: {} -> {}",
                w[0],
                w[1]
            );
        }
        assert!(obj.last().unwrap() < &obj[0], "{solver:?}");
        assert_eq!(fit.n_iter, 150);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Every solver and initialisation keeps both factors non-negative and finite, with and
    /// without penalties.
    #[test]
    fn factors_stay_non_negative(seed in 0u64..1000, r in 1usize..4, alpha in 0.0f64..0.5) {
        let mut rng = Rng::new(seed);
        let v = Mat::<f64>::from_fn(12, 9, |_, _| { let x = u01(&mut rng); if x < 0.3 { 0.0 } else { x } });
        for solver in [NmfSolver::Hals, NmfSolver::MultiplicativeFrobenius, NmfSolver::MultiplicativeKl] {
            for init in [NmfInit::Random, NmfInit::Nndsvd, NmfInit::Nndsvda] {
                let fit = Nmf::new(r).solver(solver).init(init).alpha_w(alpha).alpha_h(alpha).l1_ratio(0.5)
                    .max_iter(30).fit(dense(&v), &Exec::default().with_seed(seed)).unwrap();
                for m in [&fit.w, &fit.h] {
                    for j in 0..m.ncols() {
                        for i in 0..m.nrows() {
                            prop_assert!(m[(i, j)] >= 0.0 && m[(i, j)].is_finite(), "{solver:?} {init:?}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn sparse_and_dense_input_agree() {
    let mut rng = Rng::new(4);
    // About 10% non-zeros.
    let v = Mat::<f64>::from_fn(60, 50, |_, _| {
        if u01(&mut rng) < 0.1 {
            u01(&mut rng)
        } else {
            0.0
        }
    });
    let sparse = CscMatrix::from_dense(v.as_ref()).unwrap();
    for solver in [
        NmfSolver::Hals,
        NmfSolver::MultiplicativeFrobenius,
        NmfSolver::MultiplicativeKl,
    ] {
        // Fixed sweeps: by default their count depends on the non-zeros of the input.
        let nmf = Nmf::new(5)
            .solver(solver)
            .init(NmfInit::Nndsvda)
            .max_iter(40)
            .tol(0.0)
            .inner_sweeps(2);
        let a = nmf.fit(dense(&v), &Exec::default()).unwrap();
        let b = nmf.fit(NmfData::Sparse(&sparse), &Exec::default()).unwrap();
        let diff =
            (&a.w - &b.w).norm_l2() / a.w.norm_l2() + (&a.h - &b.h).norm_l2() / a.h.norm_l2();
        assert!(diff < 1e-8, "{solver:?}: {diff}");
        let (ea, eb) = (
            a.history.last().unwrap().rel_error,
            b.history.last().unwrap().rel_error,
        );
        assert!((ea - eb).abs() < 1e-9, "{solver:?}: {ea} vs {eb}");
    }
}

#[test]
fn transform_solves_the_nnls_problem_and_zero_rows_stay_zero() {
    let (_, _, mut v) = planted(5, 30, 20, 3);
    for j in 0..20 {
        v[(7, j)] = 0.0; // an all-zero row
    }
    let nmf = Nmf::new(3).max_iter(500).tol(1e-10);
    let fit = nmf.fit(dense(&v), &Exec::default()).unwrap();
    assert!(
        (0..3).all(|k| fit.w[(7, k)] == 0.0),
        "zero row got {:?}",
        (0..3).map(|k| fit.w[(7, k)]).collect::<Vec<_>>()
    );
    // New rows: fit W with H fixed; check KKT of min ½‖V − W·H‖², W ≥ 0.
    let (_, _, vn) = planted(6, 10, 20, 3);
    let w = nmf
        .transform(dense(&vn), fit.h.as_ref(), &Exec::default())
        .unwrap();
    let g = &(&(&w * &fit.h) - &vn) * fit.h.transpose();
    let scale = vn.norm_l2();
    for i in 0..10 {
        for k in 0..3 {
            assert!(w[(i, k)] >= 0.0);
            if w[(i, k)] > 1e-8 {
                assert!(
                    g[(i, k)].abs() < 1e-5 * scale,
                    "active ({i},{k}): gradient {}",
                    g[(i, k)]
                );
            } else {
                assert!(
                    g[(i, k)] > -1e-5 * scale,
                    "inactive ({i},{k}): gradient {}",
                    g[(i, k)]
                );
            }
        }
    }
}

#[test]
fn bad_input_gets_typed_errors() {
    let mut v = Mat::<f64>::from_fn(5, 4, |i, j| (i + j) as f64);
    let e = Nmf::new(0).fit(dense(&v), &Exec::default()).unwrap_err();
    assert!(matches!(e, LearnError::InvalidParameter { .. }), "{e}");
    let e = Nmf::new(5).fit(dense(&v), &Exec::default()).unwrap_err();
    assert!(e.to_string().contains("min(rows, columns)"), "{e}");
    v[(2, 1)] = -1.0;
    let e = Nmf::new(2).fit(dense(&v), &Exec::default()).unwrap_err();
    assert!(e.to_string().contains("non-negative"), "{e}");
    v[(2, 1)] = f64::NAN;
    assert!(Nmf::new(2).fit(dense(&v), &Exec::default()).is_err());
    let empty = Mat::<f64>::zeros(0, 3);
    assert!(matches!(
        Nmf::new(1)
            .fit(dense(&empty), &Exec::default())
            .unwrap_err(),
        LearnError::Empty { .. }
    ));
    assert!(Nmf::new(2).l1_ratio(1.5).validate().is_err());
}
