//! The execution context and the backend seam, end to end: every algorithm's heavy
//! operations reach the backend an `Exec` carries, results do not depend on which backend ran
//! them (here a recording backend that delegates to the CPU, so results are bit-identical),
//! operations a backend declines fall back to the CPU with an event, and an observer's cancel
//! stops each algorithm at its next checkpoint with a typed `Cancelled` error.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use dictum::coding::{BLOCK, Dictionary, Encoder, Fista, Lars, Method, Omp, Selection, Threshold};
use dictum::learn::dictionary::{
    Amortized, AtomUpdate, Init, KMeans, Ksvd, Learned, Mod, Online, Replacement, ResidualMode,
    Supervised, TaskDriven,
};
use dictum::learn::nmf::{Nmf, NmfData, NmfSolver};
use dictum::learn::npeff::{
    DNpeff, DiagonalPefParams, LowRankPefParams, LrmNpeff, TrainClassifier,
};
use dictum::linalg::backend::{
    Backend, Cpu, Declined, DeviceBuffer, Input, Kernels, Op, Pursuit, PursuitCodes, PursuitRule,
    SparseProduct, Trans,
};
use dictum::smt::ImageSmt;
use dictum::{CscMatrix, Event, Exec, Learner, Mat, MatMut, MatRef, Par, Real};
use dictum_tests::Rng;

/// A backend that runs the operations it is told to support on the CPU, counting the calls,
/// and declines the others: a stand-in for a device, with the CPU's exact numbers. Its
/// fused pursuit runs dictum's CPU Batch-OMP/ORMP on the job it is given.
struct Recording {
    supported: Vec<Op>,
    calls: [AtomicUsize; Op::ALL.len()],
    uploads: AtomicUsize,
    /// Calls that found a resident copy (made by `upload`) of an operand.
    resident_hits: AtomicUsize,
}

impl Recording {
    fn new(supported: &[Op]) -> Self {
        Self {
            supported: supported.to_vec(),
            calls: Default::default(),
            uploads: AtomicUsize::new(0),
            resident_hits: AtomicUsize::new(0),
        }
    }

    /// Every product; not the fused pursuit, so that coders still run their GEMMs here.
    fn all() -> Self {
        let products: Vec<Op> = Op::ALL.into_iter().filter(|op| !op.is_fused()).collect();
        Self::new(&products)
    }

    fn calls(&self, op: Op) -> usize {
        self.calls[index(op)].load(Ordering::Relaxed)
    }

    /// The operations called at least once.
    fn used(&self) -> BTreeSet<&'static str> {
        Op::ALL
            .into_iter()
            .filter(|&op| self.calls(op) > 0)
            .map(Op::name)
            .collect()
    }

    fn count(&self, op: Op) {
        self.calls[index(op)].fetch_add(1, Ordering::Relaxed);
    }

    fn note_resident<T: Real>(&self, input: &Input<'_, T>) {
        if let Some(copy) = input.buffer().and_then(|b| b.downcast_ref::<Mat<T>>()) {
            assert!(
                copy.as_ref() == input.view(),
                "a resident copy differs from its host view"
            );
            self.resident_hits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn index(op: Op) -> usize {
    Op::ALL.iter().position(|&o| o == op).unwrap()
}

impl Backend for Recording {
    fn name(&self) -> &str {
        "recording"
    }
}

impl<T: Real> Kernels<T> for Recording {
    fn supports(&self, op: Op) -> Result<(), Declined> {
        if self.supported.contains(&op) {
            Ok(())
        } else {
            Err(Declined::new(format!("the test backend does not run {op}")))
        }
    }

    fn upload(&self, m: MatRef<'_, T>) -> Option<DeviceBuffer> {
        self.uploads.fetch_add(1, Ordering::Relaxed);
        Some(DeviceBuffer::new(m.to_owned()))
    }

    fn gemm(
        &self,
        dst: MatMut<'_, T>,
        a: Input<'_, T>,
        op_a: Trans,
        b: Input<'_, T>,
        op_b: Trans,
        par: Par,
    ) -> Result<(), Declined> {
        self.count(Op::Gemm);
        self.note_resident(&a);
        self.note_resident(&b);
        Kernels::<T>::gemm(&Cpu, dst, a, op_a, b, op_b, par)
    }

    fn gram(&self, dst: MatMut<'_, T>, a: Input<'_, T>, par: Par) -> Result<(), Declined> {
        self.count(Op::Gram);
        Kernels::<T>::gram(&Cpu, dst, a, par)
    }

    fn sparse_dense(
        &self,
        dst: MatMut<'_, T>,
        product: SparseProduct,
        x: &CscMatrix<T>,
        b: Input<'_, T>,
        par: Par,
    ) -> Result<(), Declined> {
        self.count(Op::SparseDense);
        Kernels::<T>::sparse_dense(&Cpu, dst, product, x, b, par)
    }

    fn outer_products(
        &self,
        dst: MatMut<'_, T>,
        u: &CscMatrix<T>,
        v: &CscMatrix<T>,
        par: Par,
    ) -> Result<(), Declined> {
        self.count(Op::OuterProducts);
        Kernels::<T>::outer_products(&Cpu, dst, u, v, par)
    }

    fn column_norms(&self, dst: &mut [T], a: Input<'_, T>, par: Par) -> Result<(), Declined> {
        self.count(Op::ColumnNorms);
        Kernels::<T>::column_norms(&Cpu, dst, a, par)
    }

    fn pursuit(
        &self,
        job: &Pursuit<'_, T>,
        out: &mut PursuitCodes<T>,
        progress: &mut dyn FnMut(usize) -> ControlFlow<()>,
    ) -> Result<(), Declined> {
        let selection = match job.rule {
            PursuitRule::Omp => Selection::Omp,
            PursuitRule::Ormp => Selection::Ormp,
            _ => return Err(Declined::new("the test backend runs OMP and ORMP only")),
        };
        let gram = job.gram.unwrap();
        self.count(Op::Pursuit);
        self.note_resident(&job.atoms);
        self.note_resident(&gram);
        let dict = Dictionary::new(job.atoms.view())
            .unwrap()
            .with_given_gram(gram.view())
            .unwrap();
        let mut omp = Omp::new()
            .n_nonzero_coefs(job.max_atoms)
            .selection(selection);
        if let Some(t) = job.tol {
            omp = omp.tol(t.into_f64());
        }
        let codes = omp
            .check()
            .unwrap()
            .encode(&dict, job.signals, &Exec::new(Par::Seq))
            .unwrap();
        for c in 0..codes.ncols() {
            let (rows, vals) = codes.col(c);
            let at = c * job.max_atoms;
            out.counts[c] = rows.len() as u32;
            out.atoms[at..at + rows.len()].copy_from_slice(rows);
            out.coefs[at..at + rows.len()].copy_from_slice(vals);
        }
        let _ = progress(codes.ncols());
        Ok(())
    }
}

/// What an observer saw.
#[derive(Default)]
struct Seen {
    progress: AtomicUsize,
    iterations: AtomicUsize,
    fallbacks: Mutex<BTreeSet<&'static str>>,
}

impl Seen {
    fn observe(&self, e: &Event<'_>) {
        match e {
            Event::Progress(_) => {
                self.progress.fetch_add(1, Ordering::Relaxed);
            }
            Event::Iteration(_) => {
                self.iterations.fetch_add(1, Ordering::Relaxed);
            }
            Event::Fallback { op, backend, .. } => {
                assert_eq!(*backend, "recording");
                self.fallbacks.lock().unwrap().insert(op.name());
            }
        }
    }

    fn fallbacks(&self) -> BTreeSet<&'static str> {
        self.fallbacks.lock().unwrap().clone()
    }
}

fn set(ops: &[&'static str]) -> BTreeSet<&'static str> {
    ops.iter().copied().collect()
}

/// Runs `f` on the CPU and on `backend`, asserts equal results, and returns what the
/// observer saw on the backend run.
fn same_on<R: PartialEq + std::fmt::Debug>(
    backend: &Recording,
    par: Par,
    f: impl Fn(&Exec<'_>) -> R,
) -> Seen {
    let on_cpu = f(&Exec::new(par).with_seed(3));
    let seen = Seen::default();
    let observer = |e: &Event<'_>| {
        seen.observe(e);
        ControlFlow::Continue(())
    };
    let exec = Exec::new(par)
        .with_seed(3)
        .with_backend(backend)
        .with_observer(&observer);
    let on_backend = f(&exec);
    assert!(
        on_cpu == on_backend,
        "results differ between the CPU and a backend running the CPU's kernels"
    );
    seen
}

/// The contract, for one algorithm: run on the CPU, on a backend that runs every
/// operation and on one that runs only GEMM, all three results equal; the GEMM-only backend
/// gets every GEMM the full one got (at least one), and each other operation the algorithm
/// uses falls back to the CPU with an event. Returns the operations used and what the
/// observer saw on the GEMM-only run.
fn through_seam<R: PartialEq + std::fmt::Debug>(
    name: &str,
    par: Par,
    f: impl Fn(&Exec<'_>) -> R,
) -> (BTreeSet<&'static str>, Seen) {
    let (used, seen) = through_seam_maybe_without_gemm(name, par, f);
    assert!(
        used.contains("gemm"),
        "{name}: no GEMM on the backend (used {used:?})"
    );
    (used, seen)
}

/// [`through_seam`] for an algorithm whose only shared products are not GEMMs (LRM-NPEFF:
/// its per-example work is sparse and its one dense product is a Gram): it must still use
/// the backend for something, and the GEMM-only backend must decline all of it.
fn through_seam_maybe_without_gemm<R: PartialEq + std::fmt::Debug>(
    name: &str,
    par: Par,
    f: impl Fn(&Exec<'_>) -> R,
) -> (BTreeSet<&'static str>, Seen) {
    let all = Recording::all();
    same_on(&all, par, &f);
    let gemm_only = Recording::new(&[Op::Gemm]);
    let seen = same_on(&gemm_only, par, &f);
    let used = all.used();
    assert!(!used.is_empty(), "{name}: nothing ran on the backend");
    assert_eq!(
        gemm_only.calls(Op::Gemm),
        all.calls(Op::Gemm),
        "{name}: the GEMM-only backend ran a different number of GEMMs"
    );
    let mut declined = used.clone();
    declined.remove("gemm");
    // The fused operations, which neither backend here offers, are reported by the
    // algorithms that would use them; their own tests check them (pursuit below, the
    // factorization in gpu_nmf.rs).
    let mut fallbacks = seen.fallbacks();
    for op in Op::ALL.into_iter().filter(|op| op.is_fused()) {
        fallbacks.remove(op.name());
    }
    assert_eq!(
        fallbacks, declined,
        "{name}: the operations the GEMM-only backend declined are not the ones reported"
    );
    (used, seen)
}

fn planted(seed: u64, d: usize, m: usize, n: usize, k: usize) -> (Mat<f64>, Mat<f64>) {
    let mut rng = Rng::new(seed);
    let mut dict = rng.mat::<f64>(d, m);
    dictum::linalg::norms::normalize_columns(dict.as_mut());
    let mut y = Mat::<f64>::zeros(d, n);
    for j in 0..n {
        for t in 0..k {
            let a = (j * 7 + t * 13) % m;
            let c = rng.uniform();
            for i in 0..d {
                y[(i, j)] += c * dict[(i, a)];
            }
        }
        for i in 0..d {
            y[(i, j)] += 0.05 * rng.uniform();
        }
    }
    (dict, y)
}

fn model(l: Learned<f64>) -> (Mat<f64>, CscMatrix<f64>, usize) {
    (l.model.dictionary, l.model.codes, l.n_iter)
}

#[test]
fn encoding_uploads_the_dictionary_once_and_runs_one_gemm_per_block() {
    let (dict, y) = planted(1, 16, 40, 3 * BLOCK + 17, 3);
    let dict = Dictionary::new(dict.as_ref()).unwrap();
    let omp = Omp::new().n_nonzero_coefs(4).check().unwrap();
    for par in [Par::Seq, Par::rayon(2)] {
        let backend = Recording::new(&[Op::Gemm]);
        let seen = same_on(&backend, par, |exec| {
            omp.encode(&dict, y.as_ref(), exec).unwrap()
        });
        let blocks = y.ncols().div_ceil(BLOCK);
        assert_eq!(
            backend.calls(Op::Gemm),
            blocks,
            "one Dᵀ·Y product per block"
        );
        assert_eq!(backend.uploads.load(Ordering::Relaxed), 1);
        assert_eq!(
            backend.resident_hits.load(Ordering::Relaxed),
            blocks,
            "every block reads the resident dictionary"
        );
        assert_eq!(
            seen.fallbacks(),
            set(&["gram", "pursuit"]),
            "the Gram matrix and the fused pursuit fall back"
        );
        assert_eq!(seen.progress.load(Ordering::Relaxed), blocks);
    }
}

#[test]
fn every_encoder_gives_the_same_codes_through_a_backend() {
    let (dict, y) = planted(2, 12, 30, 2 * BLOCK + 5, 3);
    let y32 = Mat::<f32>::from_fn(y.nrows(), y.ncols(), |i, j| y[(i, j)] as f32);
    let d32 = Mat::<f32>::from_fn(dict.nrows(), dict.ncols(), |i, j| dict[(i, j)] as f32);
    let methods = [
        Method::Omp(Omp::new().n_nonzero_coefs(4)),
        Method::Lars(Lars::new(0.1)),
        Method::Fista(Fista::new(0.1).max_iter(50)),
        Method::Threshold(Threshold::top_k(3)),
    ];
    for method in methods {
        let method = method.check().unwrap();
        let dict = Dictionary::new(dict.as_ref()).unwrap();
        through_seam(method.name(), Par::rayon(2), |exec| {
            method.encode(&dict, y.as_ref(), exec).unwrap()
        });
        let dict = Dictionary::new(d32.as_ref()).unwrap();
        through_seam(method.name(), Par::Seq, |exec| {
            method.encode(&dict, y32.as_ref(), exec).unwrap()
        });
    }
}

#[test]
fn dictionary_learners_run_their_products_through_the_backend() {
    let (_, y) = planted(3, 10, 24, 300, 3);
    let omp = || Omp::new().n_nonzero_coefs(3).check().unwrap();
    type Run<'r> = Box<dyn Fn(&Exec<'_>) -> (Mat<f64>, CscMatrix<f64>, usize) + 'r>;
    let runs: Vec<(&str, Run<'_>)> = vec![
        (
            "ksvd",
            Box::new(|e| model(Ksvd::new(24, omp()).max_iter(3).fit(y.as_ref(), e).unwrap())),
        ),
        (
            "batched-ksvd",
            Box::new(|e| {
                model(
                    Ksvd::new(24, omp())
                        .atoms_per_batch(6)
                        .update(AtomUpdate::Approximate)
                        .max_iter(3)
                        .fit(y.as_ref(), e)
                        .unwrap(),
                )
            }),
        ),
        (
            "mod",
            Box::new(|e| model(Mod::new(24, omp()).max_iter(3).fit(y.as_ref(), e).unwrap())),
        ),
        (
            "online",
            Box::new(|e| {
                model(
                    Online::new(24, Lars::new(0.1).check().unwrap())
                        .batch_size(32)
                        .max_iter(10)
                        .fit(y.as_ref(), e)
                        .unwrap(),
                )
            }),
        ),
        (
            "kmeans",
            Box::new(|e| model(KMeans::new(6).fit_dictionary(y.as_ref(), e).unwrap())),
        ),
    ];
    for (name, run) in runs {
        for par in [Par::Seq, Par::rayon(2)] {
            let (_, seen) = through_seam(name, par, &run);
            assert!(seen.iterations.load(Ordering::Relaxed) > 0, "{name}");
        }
    }
}

#[test]
fn task_driven_learning_runs_through_the_backend() {
    let (_, y) = planted(4, 10, 16, 200, 3);
    let targets = Mat::<f64>::from_fn(2, y.ncols(), |i, j| y[(i, j)] - y[(i + 3, j)]);
    let (_, seen) = through_seam("task-driven", Par::Seq, |e| {
        let fit = TaskDriven::new(12, 0.1)
            .epochs(2)
            .fit(
                Supervised {
                    signals: y.as_ref(),
                    targets: targets.as_ref(),
                },
                e,
            )
            .unwrap();
        (fit.model.dictionary, fit.model.weights, fit.model.bias)
    });
    assert!(seen.iterations.load(Ordering::Relaxed) > 0);
    let (_, seen) = through_seam("amortized", Par::rayon(2), |e| {
        let fit = Amortized::new(8).epochs(2).fit(y.as_ref(), e).unwrap();
        (fit.model.dictionary, fit.model.weights, fit.model.bias)
    });
    assert!(seen.iterations.load(Ordering::Relaxed) > 0);
}

fn nmf_data() -> Mat<f64> {
    let mut rng = Rng::new(9);
    let w = Mat::<f64>::from_fn(30, 4, |_, _| 0.5 * (rng.uniform() + 1.0));
    let h = Mat::<f64>::from_fn(4, 25, |_, _| {
        let u = 0.5 * (rng.uniform() + 1.0);
        if u < 0.4 { 0.0 } else { u }
    });
    &w * &h
}

#[test]
fn nmf_runs_its_products_through_the_backend() {
    let v = nmf_data();
    let sparse = CscMatrix::from_dense(v.as_ref()).unwrap();
    for solver in [
        NmfSolver::Hals,
        NmfSolver::MultiplicativeFrobenius,
        NmfSolver::MultiplicativeKl,
    ] {
        for (kind, data) in [
            ("dense", NmfData::Dense(v.as_ref())),
            ("sparse", NmfData::Sparse(&sparse)),
        ] {
            let name = format!("{solver:?} {kind}");
            let (used, _) = through_seam(&name, Par::rayon(2), |e| {
                let fit = Nmf::new(4)
                    .solver(solver)
                    .max_iter(15)
                    .tol(0.0)
                    .fit(data, e)
                    .unwrap();
                (fit.model.w, fit.model.h)
            });
            let product = if kind == "sparse" {
                "sparse-dense"
            } else {
                "gemm"
            };
            assert!(used.contains(product), "{name}: used {used:?}");
            assert!(used.contains("gram"), "{name}: used {used:?}");
        }
    }
}

#[test]
fn the_smt_sums_its_covariances_through_the_backend() {
    let digits = dictum::datasets::load_digits().unwrap();
    let x = digits.images.as_ref().subcols(0, 120).to_owned();
    let (used, seen) = through_seam("smt", Par::rayon(2), |e| {
        let model = ImageSmt::new(8, 8, 4, 32, 6).fit(x.as_ref(), e).unwrap();
        let features = model.features(x.as_ref(), e).unwrap();
        let labels: Vec<usize> = digits.target[..120].iter().map(|&t| t as usize).collect();
        let score = dictum::smt::Knn::new(3, 0.1)
            .evaluate(
                features.subcols(0, 60),
                &labels[..60],
                features.subcols(60, 60),
                &labels[60..],
                e,
            )
            .unwrap();
        (model.dictionary, model.embedding.p, features, score)
    });
    assert!(used.contains("outer-products"), "used {used:?}");
    assert!(used.contains("column-norms"), "used {used:?}");
    assert!(seen.progress.load(Ordering::Relaxed) > 0);
}

#[test]
fn npeff_runs_through_the_backend() {
    let digits = dictum::datasets::load_digits().unwrap();
    let n = 80;
    let x = Mat::<f64>::from_fn(64, n, |i, j| f64::from(digits.images[(i, j)]) / 16.0);
    let labels: Vec<usize> = digits.target[..n].iter().map(|&t| t as usize).collect();
    let train = |e: &Exec<'_>| {
        TrainClassifier::new()
            .epochs(2)
            .fit(x.as_ref(), &labels, 10, e)
            .unwrap()
            .0
    };
    // The classifier and the PEFs are per-example vector work with no shared product (the
    // seam's list): they follow the context's threads and seed, on the CPU.
    let classifier = train(&Exec::default().with_seed(3));
    let diagonal = |e: &Exec<'_>| {
        DiagonalPefParams::new(32)
            .compute(&classifier, x.as_ref(), &labels, e)
            .unwrap()
    };
    let pefs = diagonal(&Exec::default());
    let (_, seen) = through_seam("d-npeff", Par::rayon(2), |e| {
        let fit = DNpeff::new(3).max_iter(10).fit(&pefs, e).unwrap();
        (fit.model.w.clone(), fit.model.h.clone(), fit.n_iter)
    });
    assert!(seen.iterations.load(Ordering::Relaxed) > 0);
    let low_rank = |e: &Exec<'_>| {
        LowRankPefParams::new(16)
            .compute(&classifier, x.subcols(0, 30), &labels[..30], e)
            .unwrap()
    };
    let lrm = low_rank(&Exec::default());
    let (used, seen) = through_seam_maybe_without_gemm("lrm-npeff", Par::rayon(2), |e| {
        let fit = LrmNpeff::new(2)
            .n_iters_g_only(3)
            .n_iters_joint(4)
            .fit(&lrm, e)
            .unwrap();
        (fit.model.w.clone(), fit.model.g.clone(), fit.n_iter)
    });
    assert_eq!(used, set(&["gram"]));
    assert!(seen.iterations.load(Ordering::Relaxed) > 0);
}

/// An observer that cancels at the `at`-th event of the kind `pick` selects, counting them.
fn cancel_at<'a>(
    count: &'a AtomicUsize,
    at: usize,
    pick: fn(&Event<'_>) -> bool,
) -> impl Fn(&Event<'_>) -> ControlFlow<()> + Sync + 'a {
    move |e| {
        if pick(e) && count.fetch_add(1, Ordering::Relaxed) + 1 >= at {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

fn is_progress(e: &Event<'_>) -> bool {
    matches!(e, Event::Progress(_))
}

fn is_iteration(e: &Event<'_>) -> bool {
    matches!(e, Event::Iteration(_))
}

#[test]
fn batch_omp_and_ormp_run_whole_where_the_backend_offers_pursuit() {
    let (dict, y) = planted(7, 12, 30, 3 * BLOCK + 9, 3);
    let dict = Dictionary::new(dict.as_ref()).unwrap();
    let cases = [
        Omp::new().n_nonzero_coefs(4),
        Omp::new().n_nonzero_coefs(4).selection(Selection::Ormp),
        Omp::new().tol(0.05),
        Omp::new().n_nonzero_coefs(12).tol(0.01),
    ];
    for omp in cases {
        let omp = omp.check().unwrap();
        for par in [Par::Seq, Par::rayon(2)] {
            let backend = Recording::new(&[Op::Pursuit, Op::Gram]);
            let seen = same_on(&backend, par, |exec| {
                omp.encode(&dict, y.as_ref(), exec).unwrap()
            });
            assert_eq!(
                backend.calls(Op::Pursuit),
                1,
                "one pursuit for every signal"
            );
            assert_eq!(
                backend.calls(Op::Gemm),
                0,
                "the backend computes Dᵀ·Y itself"
            );
            assert_eq!(
                backend.resident_hits.load(Ordering::Relaxed),
                2,
                "the dictionary and its Gram matrix are resident"
            );
            assert_eq!(seen.fallbacks(), set(&[]));
        }
    }
    // K-SVD codes through the pursuit every iteration, with the CPU's result.
    let (_, train) = planted(8, 10, 24, 300, 3);
    let backend = Recording::new(&[Op::Pursuit, Op::Gram, Op::Gemm]);
    same_on(&backend, Par::Seq, |e| {
        let omp = Omp::new().n_nonzero_coefs(3).check().unwrap();
        model(
            Ksvd::new(24, omp)
                .max_iter(3)
                .fit(train.as_ref(), e)
                .unwrap(),
        )
    });
    assert!(backend.calls(Op::Pursuit) >= 3, "one pursuit per iteration");
    // Declined: the coder's own kernel runs, and the observer hears why.
    let backend = Recording::new(&[Op::Gemm]);
    let seen = same_on(&backend, Par::Seq, |exec| {
        let omp = Omp::new().n_nonzero_coefs(4).check().unwrap();
        omp.encode(&dict, y.as_ref(), exec).unwrap()
    });
    assert_eq!(seen.fallbacks(), set(&["gram", "pursuit"]));
}

#[test]
fn a_cancelled_pursuit_returns_nothing() {
    let (dict, y) = planted(9, 12, 30, 200, 3);
    let dict = Dictionary::new(dict.as_ref()).unwrap();
    let omp = Omp::new().n_nonzero_coefs(3).check().unwrap();
    let backend = Recording::new(&[Op::Pursuit]);
    let count = AtomicUsize::new(0);
    let observer = cancel_at(&count, 1, is_progress);
    let exec = Exec::new(Par::Seq)
        .with_backend(&backend)
        .with_observer(&observer);
    let err = omp.encode(&dict, y.as_ref(), &exec).unwrap_err();
    assert!(err.is_cancelled(), "{err}");
}

#[test]
fn a_cancelled_encode_stops_after_the_block_that_saw_it() {
    let (dict, y) = planted(5, 12, 30, 10 * BLOCK, 3);
    let dict = Dictionary::new(dict.as_ref()).unwrap();
    let omp = Omp::new().n_nonzero_coefs(3).check().unwrap();
    let count = AtomicUsize::new(0);
    let observer = cancel_at(&count, 1, is_progress);
    let exec = Exec::new(Par::Seq).with_observer(&observer);
    let err = omp.encode(&dict, y.as_ref(), &exec).unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert_eq!(
        count.load(Ordering::Relaxed),
        1,
        "no block ran after the cancel"
    );

    let count = AtomicUsize::new(0);
    let observer = cancel_at(&count, 2, is_progress);
    let exec = Exec::new(Par::rayon(2)).with_observer(&observer);
    let err = omp.encode(&dict, y.as_ref(), &exec).unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    // Blocks already running on the other thread may finish; none starts after.
    assert!(count.load(Ordering::Relaxed) <= 4);
}

#[test]
fn cancelled_learners_stop_at_the_next_iteration() {
    let (_, y) = planted(6, 10, 20, 200, 3);
    let omp = || Omp::new().n_nonzero_coefs(3).check().unwrap();
    type Outcome = Result<usize, dictum::learn::LearnError>;
    type Run<'r> = Box<dyn Fn(&Exec<'_>) -> Outcome + 'r>;
    let runs: Vec<(&str, Run<'_>)> = vec![
        (
            "ksvd",
            Box::new(|e| {
                Ksvd::new(20, omp())
                    .max_iter(20)
                    .fit(y.as_ref(), e)
                    .map(|f| f.n_iter)
            }),
        ),
        (
            "mod",
            Box::new(|e| {
                Mod::new(20, omp())
                    .max_iter(20)
                    .fit(y.as_ref(), e)
                    .map(|f| f.n_iter)
            }),
        ),
        (
            "online",
            Box::new(|e| {
                Online::new(20, Lars::new(0.1).check().unwrap())
                    .batch_size(16)
                    .max_iter(50)
                    .fit(y.as_ref(), e)
                    .map(|f| f.n_iter)
            }),
        ),
        (
            "kmeans",
            Box::new(|e| {
                KMeans::new(5)
                    .tol(0.0)
                    .fit_dictionary(y.as_ref(), e)
                    .map(|f| f.n_iter)
            }),
        ),
        (
            "nmf",
            Box::new(|e| {
                let v = nmf_data();
                Nmf::new(4)
                    .max_iter(50)
                    .tol(0.0)
                    .fit(NmfData::Dense(v.as_ref()), e)
                    .map(|f| f.n_iter)
            }),
        ),
    ];
    for (name, run) in runs {
        let count = AtomicUsize::new(0);
        let observer = cancel_at(&count, 2, is_iteration);
        let err = run(&Exec::new(Par::rayon(2)).with_observer(&observer)).unwrap_err();
        assert!(err.is_cancelled(), "{name}: {err}");
        assert_eq!(
            count.load(Ordering::Relaxed),
            2,
            "{name} went on after the cancel"
        );
    }
}

#[test]
fn a_cancel_inside_an_iteration_stops_within_one_block() {
    // K-SVD's coding step, 10 blocks of signals: cancelled at the first block's progress
    // report, the fit stops before the second block.
    let (_, y) = planted(7, 12, 24, 10 * BLOCK, 3);
    let omp = Omp::new().n_nonzero_coefs(3).check().unwrap();
    let count = AtomicUsize::new(0);
    let observer = cancel_at(&count, 1, is_progress);
    let exec = Exec::new(Par::Seq).with_observer(&observer);
    let err = Ksvd::new(24, omp)
        .max_iter(5)
        .fit(y.as_ref(), &exec)
        .unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert_eq!(
        count.load(Ordering::Relaxed),
        1,
        "K-SVD went on after the cancel"
    );
}

#[test]
fn a_cancelled_smt_fit_stops() {
    let digits = dictum::datasets::load_digits().unwrap();
    let x = digits.images.as_ref().subcols(0, 100).to_owned();
    let count = AtomicUsize::new(0);
    let observer = cancel_at(&count, 1, is_progress);
    let exec = Exec::new(Par::Seq).with_observer(&observer);
    let err = ImageSmt::new(8, 8, 4, 32, 6)
        .fit(x.as_ref(), &exec)
        .unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert_eq!(count.load(Ordering::Relaxed), 1);
}

#[test]
fn ksvd_defaults_are_the_documented_ones() {
    let omp = || Omp::new().n_nonzero_coefs(3).check().unwrap();
    assert_eq!(
        Ksvd::new(32, omp()),
        Ksvd::new(32, omp())
            .update(AtomUpdate::Exact)
            .atoms_per_batch(1)
            .residual(ResidualMode::Auto)
            .shuffle_atoms(false)
            .max_iter(50)
            .init(Init::DataColumns)
            .replacement(Replacement::default())
    );
}
