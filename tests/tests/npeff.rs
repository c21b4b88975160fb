//! NPEFF: exact per-example gradients, PEF identities, the LRM loss through factors against
//! the dense loss, monotone fits, coefficient KKT conditions, file round trips, and label
//! purity of D-NPEFF components on digits.

#![allow(clippy::needless_range_loop)]

use dictum::learn::LearnError;
use dictum::learn::npeff::analysis::{PerturbationCheck, label_purity, top_examples};
use dictum::learn::npeff::{
    Classifier, DNpeff, DiagonalPefParams, LowRankPefParams, LrmNpeff, SparsifyH, TrainClassifier,
    dataset_fisher, dense_diagonal_pef, fit_coefficients, fit_lrm_coefficients, sparsify_h,
};
use dictum::learn::npeff::{
    DNpeffDecomposition, DPefs, DiagonalDsf, HFactor, LrmNpeffDecomposition, LrmPefs, Pefs,
};
use dictum::linalg::exec::Event;
use dictum::npeff::NpeffFile;
use dictum::{Exec, Learner, Mat};

fn ex() -> Exec<'static> {
    Exec::default()
}
use dictum_tests::Rng;

fn random_inputs(seed: u64, d: usize, n: usize) -> Mat<f64> {
    let mut rng = Rng::new(seed);
    Mat::from_fn(d, n, |_, _| rng.uniform())
}

fn random_model(hidden: Option<usize>, seed: u64) -> Classifier {
    let (d, c) = (5, 3);
    let np = match hidden {
        None => c * (d + 1),
        Some(h) => h * (d + 1) + c * (h + 1),
    };
    let mut rng = Rng::new(seed);
    let params = (0..np).map(|_| rng.uniform()).collect();
    Classifier::from_params(d, hidden, c, params).unwrap()
}

fn log_probs(model: &Classifier, x: &[f64]) -> Vec<f64> {
    let mut pass = model.pass();
    model.forward(x, &mut pass);
    model.probs(&pass).iter().map(|p| p.ln()).collect()
}

#[test]
fn per_class_gradients_match_finite_differences() {
    for hidden in [None, Some(4)] {
        let model = random_model(hidden, 3);
        let x: Vec<f64> = (0..5).map(|i| 0.3 * i as f64 - 0.5).collect();
        let np = model.n_parameters();
        let mut pass = model.pass();
        model.forward(&x, &mut pass);
        let p = model.probs(&pass).to_vec();
        for c in 0..3 {
            let e: Vec<f64> = (0..3).map(|k| f64::from(u8::from(k == c)) - p[k]).collect();
            let mut g = vec![0.0; np];
            model.backward(&x, &e, &mut pass, &mut g);
            for k in 0..np {
                let h = 1e-6;
                let mut step = vec![0.0; np];
                step[k] = h;
                let up = log_probs(&model.perturbed(&step), &x)[c];
                step[k] = -h;
                let down = log_probs(&model.perturbed(&step), &x)[c];
                let fd = (up - down) / (2.0 * h);
                assert!(
                    (fd - g[k]).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "hidden {hidden:?} class {c} param {k}: analytic {} vs fd {fd}",
                    g[k]
                );
            }
        }
    }
}

#[test]
fn low_rank_pef_diagonal_is_the_diagonal_pef() {
    // diag(S·Sᵀ) = Σ_c p_c·g_c² exactly when nothing is sparsified away.
    let model = random_model(Some(3), 5);
    let x = random_inputs(1, 5, 4);
    let labels = [0, 1, 2, 0];
    let np = model.n_parameters();
    let lrm = LowRankPefParams::new(3 * np)
        .compute(&model, x.as_ref(), &labels, &ex())
        .unwrap();
    let d = DiagonalPefParams::new(np)
        .compute(&model, x.as_ref(), &labels, &ex())
        .unwrap();
    let starts = lrm.col_starts();
    for i in 0..4 {
        let mut diag = vec![0.0f64; np];
        let ex = lrm.example(i, &starts);
        for c in 0..3 {
            let (rows, vals) = ex.col(c);
            for (&r, &v) in rows.iter().zip(vals) {
                diag[r as usize] += f64::from(v) * f64::from(v);
            }
        }
        let dense = dense_diagonal_pef(&model, &x.col(i).iter().copied().collect::<Vec<_>>());
        let (idx, vals) = d.example(i);
        for (&k, &v) in idx.iter().zip(vals) {
            assert!((f64::from(v) - dense[k as usize]).abs() <= 1e-6 * (1.0 + dense[k as usize]));
            assert!(
                (diag[k as usize] - dense[k as usize]).abs() <= 1e-5 * (1.0 + dense[k as usize])
            );
        }
        let norm = dense.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((f64::from(d.norms[i]) - norm).abs() <= 1e-5 * norm);
    }
    // The dataset Fisher is the mean of the dense D-PEFs.
    let dsf = dataset_fisher(&model, x.as_ref(), &ex()).unwrap();
    for k in 0..np {
        let mean: f64 = (0..4)
            .map(|i| dense_diagonal_pef(&model, &x.col(i).iter().copied().collect::<Vec<_>>())[k])
            .sum::<f64>()
            / 4.0;
        assert!((dsf[k] - mean).abs() <= 1e-12 * (1.0 + mean));
    }
}

#[test]
fn sparsified_pefs_keep_the_largest_entries() {
    let model = random_model(None, 2);
    let x = random_inputs(2, 5, 3);
    let d = DiagonalPefParams::new(4)
        .compute(&model, x.as_ref(), &[0, 1, 2], &ex())
        .unwrap();
    for i in 0..3 {
        let dense = dense_diagonal_pef(&model, &x.col(i).iter().copied().collect::<Vec<_>>());
        let (idx, vals) = d.example(i);
        let smallest_kept = vals.iter().fold(f32::INFINITY, |a, &b| a.min(b));
        for (k, &v) in dense.iter().enumerate() {
            if !idx.contains(&(k as i32)) {
                assert!(v as f32 <= smallest_kept);
            }
        }
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
    }
    let lrm = LowRankPefParams::new(7)
        .top_k_classes(Some(2))
        .compute(&model, x.as_ref(), &[0, 1, 2], &ex())
        .unwrap();
    assert_eq!(lrm.ranks, vec![2, 2, 2]);
    assert_eq!(lrm.col_sizes.iter().sum::<usize>(), 21);
    // Variable rank (LVRM): only classes at least 30% likely, the most likely always.
    let model = random_model(Some(4), 12);
    let x = random_inputs(5, 5, 40);
    let labels: Vec<usize> = (0..40).map(|i| i % 3).collect();
    let lvrm = LowRankPefParams::new(6)
        .min_class_probability(Some(0.3))
        .compute(&model, x.as_ref(), &labels, &ex())
        .unwrap();
    assert!(lvrm.variable_rank);
    assert!(lvrm.ranks.iter().all(|&r| (1..=3).contains(&r)));
    assert!(
        lvrm.ranks.iter().any(|&r| r != lvrm.ranks[0]),
        "{:?}",
        lvrm.ranks
    );
    let starts = lvrm.col_starts();
    for i in 0..40 {
        let ex = lvrm.example(i, &starts);
        assert_eq!(ex.col_sizes.iter().sum::<usize>(), 6);
    }
    // LRM-NPEFF takes variable ranks as they come.
    let d = LrmNpeff::new(2)
        .n_iters_g_only(5)
        .n_iters_joint(20)
        .fit(&lvrm, &ex())
        .unwrap();
    assert!(d.losses_joint.last().unwrap() <= d.losses_g_only.first().unwrap());
}

/// A small random LRM-PEF set, `p` parameters, rank `rank`, every entry stored.
fn small_lrm(seed: u64, n: usize, p: usize, rank: usize) -> LrmPefs {
    let mut rng = Rng::new(seed);
    let mut values = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..n {
        for _ in 0..rank {
            for r in 0..p {
                rows.push(r as i32);
                values.push((rng.uniform() - 0.5) as f32);
            }
        }
    }
    LrmPefs {
        n_parameters: p,
        nnz: rank * p,
        values,
        row_indices: rows,
        ranks: vec![rank; n],
        col_sizes: vec![p; n * rank],
        norms: vec![1.0; n],
        predictions: dictum::learn::npeff::Predictions {
            labels: vec![0; n],
            logits: vec![0.0; n * 2],
            n_classes: 2,
        },
        variable_rank: false,
    }
}

#[test]
fn lrm_loss_through_factors_equals_the_dense_loss() {
    let (n, p, rank, r) = (5, 6, 2, 3);
    let pefs = small_lrm(7, n, p, rank);
    let mut rng = Rng::new(8);
    let decomp = LrmNpeffDecomposition {
        w: (0..n * r).map(|_| rng.uniform() as f32).collect(),
        n_components: r,
        g: (0..r * p).map(|_| (rng.uniform() - 0.5) as f32).collect(),
        kept_indices: (0..p as i32).collect(),
        n_parameters: p,
        n_classes: rank,
        log_loss_frequency: 1,
        losses_g_only: vec![],
        losses_joint: vec![],
    };
    let fast = LrmNpeff::loss_of(&decomp, &pefs, &ex()).unwrap();
    // Σ_i ‖S_iS_iᵀ − Σ_j W_ij g_j g_jᵀ‖², with the reference's normalization S/√(norm + 1e-9).
    let scale = 1.0 / (1.0 + 1e-9);
    let mut dense = 0.0;
    for i in 0..n {
        let s = |a: usize, c: usize| f64::from(pefs.values[i * rank * p + c * p + a]);
        for a in 0..p {
            for b in 0..p {
                let f: f64 = (0..rank).map(|c| s(a, c) * s(b, c)).sum::<f64>() * scale;
                let model: f64 = (0..r)
                    .map(|j| {
                        f64::from(decomp.w[i * r + j])
                            * f64::from(decomp.g[j * p + a])
                            * f64::from(decomp.g[j * p + b])
                    })
                    .sum();
                dense += (f - model) * (f - model);
            }
        }
    }
    assert!(
        (fast - dense).abs() <= 1e-9 * dense.max(1.0),
        "factored {fast} vs dense {dense}"
    );
}

#[test]
fn lrm_fit_never_raises_the_loss_and_fits_a_planted_decomposition() {
    // PEFs that are exactly Σ_j W_ij g_j g_jᵀ with rank-1 S_i = √W_ij g_j per component.
    let (n, p, r) = (40, 12, 3);
    let mut rng = Rng::new(11);
    let g: Vec<Vec<f64>> = (0..r)
        .map(|_| (0..p).map(|_| rng.uniform() - 0.5).collect())
        .collect();
    let mut values = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..n {
        for gj in &g {
            let w = 0.5 * (rng.uniform() + 1.0) + 0.1;
            for (a, &v) in gj.iter().enumerate() {
                rows.push(a as i32);
                values.push((w.sqrt() * v) as f32);
            }
        }
    }
    let mut pefs = small_lrm(0, n, p, r);
    pefs.values = values;
    pefs.row_indices = rows;
    let losses = std::sync::Mutex::new(Vec::new());
    let cb = |e: &Event<'_>| {
        if let Event::Iteration(s) = e {
            losses.lock().unwrap().push(s.objective);
        }
        std::ops::ControlFlow::Continue(())
    };
    let decomp = LrmNpeff::new(r)
        .n_iters_g_only(20)
        .n_iters_joint(300)
        .fit(&pefs, &ex().with_seed(1).with_observer(&cb))
        .unwrap()
        .into_model();
    let losses = losses.into_inner().unwrap();
    // The loss is a difference of sums: at a perfect fit it is rounding noise of the total.
    for w in losses.windows(2) {
        assert!(w[1] <= w[0] + 1e-9 * losses[0], "loss rose: {w:?}");
    }
    assert!(decomp.w.iter().all(|&v| v >= 0.0));
    let last = LrmNpeff::loss_of(&decomp, &pefs, &ex()).unwrap();
    let first = losses[0];
    assert!(last < 1e-3 * first, "loss {first} → {last}");
}

#[test]
fn lrm_coefficients_satisfy_nnls_kkt() {
    let (n, p, rank, r) = (6, 8, 2, 3);
    let pefs = small_lrm(21, n, p, rank);
    let decomp = LrmNpeff::new(r)
        .n_iters_g_only(10)
        .n_iters_joint(30)
        .fit(&pefs, &ex())
        .unwrap()
        .into_model();
    let w = fit_lrm_coefficients(&decomp, &pefs, 1000, &ex()).unwrap();
    let fitted = LrmNpeffDecomposition {
        w: w.clone(),
        ..decomp.clone()
    };
    let base = LrmNpeff::loss_of(&fitted, &pefs, &ex()).unwrap();
    // No feasible coordinate move lowers the loss (first-order KKT, probed by differences).
    for k in 0..n * r {
        for h in [1e-3f32, -1e-3] {
            if w[k] + h < 0.0 {
                continue;
            }
            let mut moved = fitted.clone();
            moved.w[k] += h;
            let l = LrmNpeff::loss_of(&moved, &pefs, &ex()).unwrap();
            assert!(
                l >= base - 1e-6 * base.max(1.0),
                "coefficient {k}: {base} → {l}"
            );
        }
    }
}

/// Logistic regression on digits and its D-PEFs (shared by the digits tests).
fn digits_d_pefs() -> (Classifier, Mat<f64>, Vec<usize>, DPefs) {
    let digits = dictum::io::datasets::load_digits().unwrap();
    let x = Mat::<f64>::from_fn(digits.images.nrows(), digits.images.ncols(), |i, j| {
        f64::from(digits.images[(i, j)])
    });
    let labels: Vec<usize> = digits.target.iter().map(|&t| t as usize).collect();
    let (model, _) = TrainClassifier::new()
        .epochs(30)
        .learning_rate(0.02)
        .fit(x.as_ref(), &labels, 10, &ex().with_seed(0))
        .unwrap();
    let pefs = DiagonalPefParams::new(64)
        .compute(&model, x.as_ref(), &labels, &ex())
        .unwrap();
    (model, x, labels, pefs)
}

#[test]
fn digits_d_npeff_components_are_label_pure_and_perturbations_hit_them() {
    let (model, x, labels, pefs) = digits_d_pefs();
    let acc = model.accuracy(x.as_ref(), &labels).unwrap();
    assert!(acc > 0.95, "training accuracy {acc}");
    let r = 20;
    let fit = DNpeff::new(r).max_iter(200).fit(&pefs, &ex()).unwrap();
    let (decomp, history) = (fit.model, fit.history);
    for w in history.windows(2) {
        assert!(w[1].objective <= w[0].objective * (1.0 + 1e-6));
    }
    let labels_i32: Vec<i32> = labels.iter().map(|&l| l as i32).collect();
    let chance = (0..10)
        .map(|c| labels.iter().filter(|&&l| l == c).count())
        .max()
        .unwrap() as f64
        / labels.len() as f64;
    let mut purities = Vec::new();
    for j in 0..r {
        let top = top_examples(&decomp.w, r, j, 20);
        if let Some((_, purity)) = label_purity(&top, &labels_i32) {
            purities.push(purity);
        }
    }
    let mean = purities.iter().sum::<f64>() / purities.len() as f64;
    eprintln!("D-NPEFF on digits: mean top-20 label purity {mean:.3} (chance {chance:.3})");
    assert!(mean > 5.0 * chance, "mean purity {mean} vs chance {chance}");

    // Perturbing along a component moves its top examples more than random ones.
    let dsf = dataset_fisher(&model, x.as_ref(), &ex()).unwrap();
    let mut ratios = Vec::new();
    for j in 0..r {
        let top = top_examples(&decomp.w, r, j, 16);
        let h: Vec<f64> = decomp
            .full_component(j)
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let res = PerturbationCheck::new()
            .n_baseline(200)
            .run(&model, x.as_ref(), &labels, &h, &dsf, &top, &ex())
            .unwrap();
        ratios.push(res.ratio);
    }
    eprintln!("perturbation KL ratios top/random: {ratios:?}");
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    assert!(sorted[0] > 1.0 && sorted[r / 2] > 3.0, "{ratios:?}");

    // Coefficients of the same PEFs with H fixed satisfy the NNLS KKT conditions.
    let w = fit_coefficients(&decomp, &pefs.subset(&[0, 1, 2, 3]), 500, &ex()).unwrap();
    let a = DNpeff::new(r).matrix(&pefs.subset(&[0, 1, 2, 3])).unwrap();
    let HFactor::Dense(h) = &decomp.h else {
        unreachable!()
    };
    let f = decomp.n_features();
    let dense_a = a.a.to_dense();
    let col_of: std::collections::HashMap<i32, usize> = decomp
        .kept_indices
        .iter()
        .enumerate()
        .map(|(c, &p)| (p, c))
        .collect();
    for i in 0..4 {
        // Row i of A over the decomposition's parameters.
        let mut row = vec![0.0f64; f];
        for (c, &p) in a.kept_indices.iter().enumerate() {
            if let Some(&k) = col_of.get(&p) {
                row[k] = f64::from(dense_a[(i, c)]);
            }
        }
        for j in 0..r {
            // ∂/∂w_ij ½‖a_i − w_i H‖² = (w_i H − a_i)·h_j.
            let mut grad = 0.0;
            for k in 0..f {
                let rec: f64 = (0..r)
                    .map(|l| f64::from(w[i * r + l]) * f64::from(h[l * f + k]))
                    .sum();
                grad += (rec - row[k]) * f64::from(h[j * f + k]);
            }
            // f32 factors: compare with the gradient's own scale ‖a_i‖·‖h_j‖.
            let scale = row.iter().map(|v| v * v).sum::<f64>().sqrt()
                * (0..f)
                    .map(|k| f64::from(h[j * f + k]).powi(2))
                    .sum::<f64>()
                    .sqrt();
            let wij = f64::from(w[i * r + j]);
            assert!(
                grad >= -1e-3 * scale,
                "example {i} component {j}: gradient {grad} (scale {scale})"
            );
            if wij > 1e-6 {
                assert!(
                    grad.abs() <= 1e-3 * scale,
                    "example {i} component {j}: w {wij}, gradient {grad} (scale {scale})"
                );
            }
        }
    }
}

fn file_kinds(dir: &std::path::Path, ext: &str) {
    let model = random_model(Some(3), 9);
    let x = random_inputs(4, 5, 6);
    let labels = [0, 1, 2, 0, 1, 2];
    let d = DiagonalPefParams::new(10)
        .compute(&model, x.as_ref(), &labels, &ex())
        .unwrap();
    let path = dir.join(format!("d_pefs.{ext}"));
    d.save(&path).unwrap();
    assert_eq!(DPefs::load(&path).unwrap(), d);
    assert_eq!(Pefs::load(&path).unwrap(), Pefs::Diagonal(d.clone()));

    let lrm = LowRankPefParams::new(25)
        .compute(&model, x.as_ref(), &labels, &ex())
        .unwrap();
    let path = dir.join(format!("lrm_pefs.{ext}"));
    lrm.save(&path).unwrap();
    assert_eq!(LrmPefs::load(&path).unwrap(), lrm);
    let mut lvrm = lrm.clone();
    lvrm.variable_rank = true;
    let path = dir.join(format!("lvrm_pefs.{ext}"));
    lvrm.save(&path).unwrap();
    assert_eq!(LrmPefs::load(&path).unwrap(), lvrm);
    let sub = lvrm.subset(&[4, 1]);
    assert_eq!(sub.n_examples(), 2);
    assert_eq!(sub.predictions.labels, vec![1, 1]);

    let decomp = DNpeff::new(2)
        .max_iter(20)
        .fit(&d, &ex())
        .unwrap()
        .into_model();
    let path = dir.join(format!("d_npeff.{ext}"));
    decomp.save(&path).unwrap();
    assert_eq!(DNpeffDecomposition::load(&path).unwrap(), decomp);
    let sparse = sparsify_h(
        &decomp,
        SparsifyH {
            top_per_component: Some(3),
            min_relative: 0.0,
        },
    )
    .unwrap();
    let path = dir.join(format!("d_npeff_sparse.{ext}"));
    sparse.save(&path).unwrap();
    let back = DNpeffDecomposition::load(&path).unwrap();
    assert_eq!(back, sparse);
    for j in 0..2 {
        let full = back.full_component(j);
        assert!(full.iter().filter(|&&v| v != 0.0).count() <= 3);
    }

    let l = LrmNpeff::new(2)
        .n_iters_g_only(3)
        .n_iters_joint(5)
        .log_loss_frequency(2)
        .fit(&lrm, &ex())
        .unwrap()
        .into_model();
    assert_eq!(l.losses_g_only.len(), 2);
    assert_eq!(l.losses_joint.len(), 3);
    let path = dir.join(format!("lrm_npeff.{ext}"));
    l.save(&path).unwrap();
    assert_eq!(LrmNpeffDecomposition::load(&path).unwrap(), l);

    let dsf = DiagonalDsf {
        fisher: dataset_fisher(&model, x.as_ref(), &ex())
            .unwrap()
            .iter()
            .map(|&v| v as f32)
            .collect(),
    };
    let path = dir.join(format!("dsf.{ext}"));
    dsf.save(&path).unwrap();
    assert_eq!(DiagonalDsf::load(&path).unwrap(), dsf);
}

#[test]
fn every_file_kind_round_trips_through_npz() {
    let dir = tempfile::tempdir().unwrap();
    file_kinds(dir.path(), "npz");
}

#[cfg(feature = "hdf5")]
#[test]
fn every_file_kind_round_trips_through_hdf5_in_the_reference_layout() {
    use dictum::io::hdf5::{AttrValue, H5Reader};
    let dir = tempfile::tempdir().unwrap();
    file_kinds(dir.path(), "h5");
    let r = H5Reader::open(dir.path().join("d_pefs.h5")).unwrap();
    // The reference's C++ reader insists on a 4-byte dense_fisher_size.
    assert!(matches!(
        r.attr("data/fisher", "dense_fisher_size").unwrap(),
        AttrValue::I32(_)
    ));
    let names = r.dataset_names().unwrap();
    for want in [
        "data/dense_fisher_norms",
        "data/fisher/indices",
        "data/fisher/values",
        "data/labels",
        "data/predicted_logits",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let r = H5Reader::open(dir.path().join("d_npeff_sparse.h5")).unwrap();
    assert_eq!(
        r.attr("data/H", "shape")
            .unwrap()
            .as_i64_vec()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn bad_inputs_get_typed_errors() {
    let model = random_model(None, 1);
    let x = random_inputs(1, 5, 3);
    assert!(matches!(
        DiagonalPefParams::new(0).compute(&model, x.as_ref(), &[0, 1, 2], &ex()),
        Err(LearnError::InvalidParameter { .. })
    ));
    assert!(matches!(
        DiagonalPefParams::new(3).compute(&model, x.as_ref(), &[0, 1], &ex()),
        Err(LearnError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        DiagonalPefParams::new(3).compute(&model, x.as_ref(), &[0, 1, 7], &ex()),
        Err(LearnError::InvalidParameter { .. })
    ));
    let wrong = random_inputs(1, 4, 3);
    assert!(matches!(
        DiagonalPefParams::new(3).compute(&model, wrong.as_ref(), &[0, 1, 2], &ex()),
        Err(LearnError::ShapeMismatch { .. })
    ));
    let mut nan = random_inputs(1, 5, 3);
    nan[(2, 1)] = f64::NAN;
    assert!(matches!(
        DiagonalPefParams::new(3).compute(&model, nan.as_ref(), &[0, 1, 2], &ex()),
        Err(LearnError::NonFinite { signal: 1, .. })
    ));
    let d = DiagonalPefParams::new(3)
        .compute(&model, x.as_ref(), &[0, 1, 2], &ex())
        .unwrap();
    assert!(matches!(
        DNpeff::new(0).fit(&d, &ex()),
        Err(LearnError::InvalidParameter { .. })
    ));
    assert!(matches!(
        DNpeff::new(2).min_nonzero_per_parameter(100).fit(&d, &ex()),
        Err(LearnError::InvalidParameter { .. })
    ));
    assert!(matches!(
        LowRankPefParams::new(3).top_k_classes(Some(9)).compute(
            &model,
            x.as_ref(),
            &[0, 1, 2],
            &ex()
        ),
        Err(LearnError::InvalidParameter { .. })
    ));
    assert!(matches!(
        Classifier::from_params(5, None, 3, vec![0.0; 7]),
        Err(LearnError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        TrainClassifier::new().epochs(0).validate(),
        Err(LearnError::InvalidParameter { .. })
    ));
}

fn run_python(script: &str, dir: &std::path::Path) {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn numpy_reads_npeff_npz_files() {
    if !dictum_tests::python_has("numpy") {
        println!("SKIP numpy_reads_npeff_npz_files: python3 with numpy not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = random_model(None, 4);
    let x = random_inputs(3, 5, 4);
    let d = DiagonalPefParams::new(6)
        .compute(&model, x.as_ref(), &[0, 1, 2, 0], &ex())
        .unwrap();
    d.save(dir.path().join("pefs.npz")).unwrap();
    run_python(
        "import numpy as np\n\
         f = np.load('pefs.npz')\n\
         assert f['data/fisher/values'].shape == (4, 6), f['data/fisher/values'].shape\n\
         assert f['data/fisher/indices'].dtype == np.int32\n\
         assert int(f['data/fisher@dense_fisher_size']) == 18\n\
         assert f['data/predicted_logits'].shape == (4, 3)\n\
         assert list(f['data/labels']) == [0, 1, 2, 0]\n",
        dir.path(),
    );
}

/// h5py reads dictum's files the way the reference's Python does, and dictum reads files
/// written the way the reference writes them.
#[cfg(feature = "hdf5")]
#[test]
fn h5py_and_dictum_agree_on_the_reference_layout() {
    if !dictum_tests::python_has("numpy, h5py") {
        println!("SKIP h5py_and_dictum_agree_on_the_reference_layout: python3 with h5py not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = random_model(None, 4);
    let x = random_inputs(3, 5, 4);
    let d = DiagonalPefParams::new(6)
        .compute(&model, x.as_ref(), &[0, 1, 2, 0], &ex())
        .unwrap();
    d.save(dir.path().join("pefs.h5")).unwrap();
    let decomp = DNpeff::new(2)
        .max_iter(10)
        .fit(&d, &ex())
        .unwrap()
        .into_model();
    sparsify_h(
        &decomp,
        SparsifyH {
            top_per_component: Some(2),
            min_relative: 0.0,
        },
    )
    .unwrap()
    .save(dir.path().join("sparse.h5"))
    .unwrap();
    run_python(
        "import h5py, numpy as np\n\
         with h5py.File('pefs.h5', 'r') as f:\n\
         \x20   assert f['data/fisher'].attrs['dense_fisher_size'] == 18\n\
         \x20   assert f['data/fisher'].attrs['dense_fisher_size'].dtype == np.int32\n\
         \x20   assert f['data/fisher/values'].shape == (4, 6)\n\
         \x20   assert f['data/dense_fisher_norms'].shape == (4,)\n\
         with h5py.File('sparse.h5', 'r') as f:\n\
         \x20   assert list(f['data/H'].attrs['shape']) == [2, f['data/reduce_kept_indices'].shape[0]]\n\
         \x20   assert f['data/H/row_indices'].shape == (3,)\n\
         \x20   assert f['data/reduce_kept_indices'].attrs['full_dense_size'] == 18\n\
         # Files as the reference's save() methods write them.\n\
         with h5py.File('ref_d.h5', 'w') as f:\n\
         \x20   f.create_dataset('data/dense_fisher_norms', data=np.ones(3, np.float32))\n\
         \x20   f.create_dataset('data/labels', data=np.array([1, 0, 1], np.int32))\n\
         \x20   f.create_dataset('data/predicted_logits', data=np.zeros((3, 2), np.float32))\n\
         \x20   f.create_dataset('data/fisher/values', data=np.full((3, 2), 0.5, np.float32))\n\
         \x20   f.create_dataset('data/fisher/indices', data=np.array([[0, 4], [1, 2], [3, 4]], np.int32))\n\
         \x20   f['data/fisher'].attrs['dense_fisher_size'] = np.int32(5)\n\
         with h5py.File('ref_lrm.h5', 'w') as f:\n\
         \x20   data = f.create_group('data')\n\
         \x20   f.create_dataset('data/W', data=np.ones((3, 2), np.float32))\n\
         \x20   f.create_dataset('data/G', data=np.ones((2, 4), np.float32))\n\
         \x20   f.create_dataset('data/new_to_old_col_indices', data=np.array([0, 2, 3, 6], np.int32))\n\
         \x20   data.attrs['n_parameters'] = 7\n\
         \x20   data.attrs['n_classes'] = 2\n\
         \x20   losses = f.create_group('losses')\n\
         \x20   losses.attrs['log_loss_frequency'] = 10\n\
         \x20   f.create_dataset('losses/G_only', data=np.array([3.0, 2.0], np.float32))\n\
         \x20   f.create_dataset('losses/joint', data=np.array([1.0], np.float32))\n",
        dir.path(),
    );
    let d = DPefs::load(dir.path().join("ref_d.h5")).unwrap();
    assert_eq!(d.n_parameters, 5);
    assert_eq!(d.example(2), (&[3, 4][..], &[0.5f32, 0.5][..]));
    assert_eq!(d.predictions.labels, vec![1, 0, 1]);
    let l = LrmNpeffDecomposition::load(dir.path().join("ref_lrm.h5")).unwrap();
    assert_eq!((l.n_parameters, l.n_classes, l.n_components), (7, 2, 2));
    assert_eq!(l.log_loss_frequency, 10);
    assert_eq!(l.full_component(1), vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    assert_eq!(l.losses_g_only, vec![3.0, 2.0]);
}
