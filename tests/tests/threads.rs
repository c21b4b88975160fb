//! `Par::Seq` means one thread: no algorithm may hand work to rayon under it. The proof is a
//! process whose global rayon pool has one thread, kept busy by a job that waits: any rayon
//! call made by a sequential run would wait behind it forever. Every algorithm runs
//! sequentially on an ordinary thread and must finish within the time limit; then the pool is
//! freed and a two-thread run (a pool of its own) must give the same results.
//!
//! Its own test binary, because the global pool belongs to the process.

// Tests state their expectations with unwrap: a failure is the test's report.
#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::time::Duration;

use dictum::coding::{Dictionary, Encoder, Fista, Lars, Method, Omp, Selection, Threshold};
use dictum::learn::dictionary::{
    Amortized, AtomUpdate, KMeans, Ksvd, Mod, Online, Supervised, TaskDriven,
};
use dictum::learn::nmf::{Nmf, NmfData, NmfSolver};
use dictum::learn::npeff::{
    DNpeff, DiagonalPefParams, LowRankPefParams, LrmNpeff, TrainClassifier,
};
use dictum::smt::ImageSmt;
use dictum::{CscMatrix, Exec, Learner, Mat, Par};
use dictum_tests::{Fingerprint, Rng};

/// How long the whole sequential run may take (it takes well under a second in release
/// builds; the limit only tells a hang from slowness).
const LIMIT: Duration = Duration::from_secs(120);

/// Runs every algorithm under `par` and fingerprints what each returns.
fn everything(par: Par) -> Vec<(&'static str, u64)> {
    let exec = Exec::new(par).with_seed(7);
    let mut out = Vec::new();
    let mut push = |name: &'static str, f: &mut Fingerprint| out.push((name, f.finish()));

    let mut rng = Rng::new(1);
    let mut dict = rng.mat::<f64>(12, 30);
    dictum::linalg::norms::normalize_columns(dict.as_mut());
    let codes = Mat::<f64>::from_fn(30, 300, |i, j| {
        if (i * 5 + j) % 9 == 0 {
            rng.uniform()
        } else {
            0.0
        }
    });
    let mut y = &dict * &codes;
    for j in 0..y.ncols() {
        for i in 0..y.nrows() {
            y[(i, j)] += 0.01 * rng.uniform();
        }
    }
    let dictionary = Dictionary::new(dict.as_ref()).unwrap();
    for (name, method) in [
        ("omp", Method::Omp(Omp::new().n_nonzero_coefs(4))),
        (
            "ormp",
            Method::Omp(Omp::new().n_nonzero_coefs(4).selection(Selection::Ormp)),
        ),
        ("lars", Method::Lars(Lars::new(0.1))),
        ("fista", Method::Fista(Fista::new(0.1).max_iter(30))),
        ("top-k", Method::Threshold(Threshold::top_k(3))),
    ] {
        let x = method
            .check()
            .unwrap()
            .encode(&dictionary, y.as_ref(), &exec)
            .unwrap();
        push(name, Fingerprint::default().csc(&x));
    }

    let omp = || Omp::new().n_nonzero_coefs(3).check().unwrap();
    let learned = [
        (
            "ksvd",
            Ksvd::new(20, omp()).max_iter(2).fit(y.as_ref(), &exec),
        ),
        (
            "batched-ksvd",
            Ksvd::new(20, omp())
                .atoms_per_batch(5)
                .update(AtomUpdate::Approximate)
                .max_iter(2)
                .fit(y.as_ref(), &exec),
        ),
        (
            "mod",
            Mod::new(20, omp()).max_iter(2).fit(y.as_ref(), &exec),
        ),
        (
            "online",
            Online::new(20, Lars::new(0.1).check().unwrap())
                .batch_size(32)
                .max_iter(5)
                .fit(y.as_ref(), &exec),
        ),
        ("kmeans", KMeans::new(5).fit_dictionary(y.as_ref(), &exec)),
    ];
    for (name, l) in learned {
        let l = l.unwrap();
        push(
            name,
            Fingerprint::default()
                .mat(l.dictionary.as_ref())
                .csc(&l.codes),
        );
    }
    let am = Amortized::new(8).epochs(2).fit(y.as_ref(), &exec).unwrap();
    push(
        "amortized",
        Fingerprint::default().mat(am.model.dictionary.as_ref()),
    );
    let targets = Mat::<f64>::from_fn(2, y.ncols(), |i, j| y[(i, j)] - y[(i + 3, j)]);
    let td = TaskDriven::new(10, 0.1)
        .epochs(1)
        .fit(
            Supervised {
                signals: y.as_ref(),
                targets: targets.as_ref(),
            },
            &exec,
        )
        .unwrap();
    push(
        "task-driven",
        Fingerprint::default().mat(td.model.dictionary.as_ref()),
    );

    let v = Mat::<f64>::from_fn(30, 20, |i, j| ((i * 7 + j * 3) % 5) as f64);
    let sparse = CscMatrix::from_dense(v.as_ref()).unwrap();
    for (name, data, solver) in [
        ("nmf hals", NmfData::Dense(v.as_ref()), NmfSolver::Hals),
        (
            "nmf mu sparse",
            NmfData::Sparse(&sparse),
            NmfSolver::MultiplicativeFrobenius,
        ),
    ] {
        let fit = Nmf::new(3)
            .solver(solver)
            .max_iter(10)
            .fit(data, &exec)
            .unwrap();
        push(
            name,
            Fingerprint::default()
                .mat(fit.w.as_ref())
                .mat(fit.h.as_ref()),
        );
    }

    let digits = dictum::datasets::load_digits().unwrap();
    let images = digits.images.as_ref().subcols(0, 60).to_owned();
    let smt = ImageSmt::new(8, 8, 4, 24, 5)
        .fit(images.as_ref(), &exec)
        .unwrap();
    let features = smt.features(images.as_ref(), &exec).unwrap();
    push(
        "smt",
        Fingerprint::default()
            .mat(smt.embedding.p.as_ref())
            .mat(features.as_ref()),
    );

    let n = 60;
    let x = Mat::<f64>::from_fn(64, n, |i, j| f64::from(digits.images[(i, j)]) / 16.0);
    let labels: Vec<usize> = digits.target[..n].iter().map(|&t| t as usize).collect();
    let (classifier, _) = TrainClassifier::new()
        .epochs(1)
        .fit(x.as_ref(), &labels, 10, &exec)
        .unwrap();
    push(
        "classifier",
        Fingerprint::default().values(classifier.params()),
    );
    let pefs = DiagonalPefParams::new(32)
        .compute(&classifier, x.as_ref(), &labels, &exec)
        .unwrap();
    let d = DNpeff::new(3).max_iter(5).fit(&pefs, &exec).unwrap();
    push("d-npeff", Fingerprint::default().values(&d.w));
    let lrm = LowRankPefParams::new(16)
        .compute(&classifier, x.subcols(0, 20), &labels[..20], &exec)
        .unwrap();
    let l = LrmNpeff::new(2)
        .n_iters_g_only(2)
        .n_iters_joint(3)
        .fit(&lrm, &exec)
        .unwrap();
    push("lrm-npeff", Fingerprint::default().values(&l.w));
    out
}

#[test]
fn sequential_runs_never_use_rayon() {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .unwrap();
    let (release, blocked) = mpsc::channel::<()>();
    let (started, running) = mpsc::channel::<()>();
    rayon::spawn(move || {
        started.send(()).unwrap();
        // Holds the pool's only thread until the sequential run is over.
        let _ = blocked.recv();
    });
    running.recv().unwrap();

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(everything(Par::Seq));
    });
    let seq = finished.recv_timeout(LIMIT);
    release.send(()).unwrap();
    let seq = seq.unwrap_or_else(|_| {
        panic!(
            "a Par::Seq run did not finish in {LIMIT:?}: some algorithm waited on the \
             (occupied) rayon pool"
        )
    });

    let par = dictum::linalg::exec::with_threads(2, everything).unwrap();
    for ((name, a), (_, b)) in seq.iter().zip(&par) {
        assert_eq!(a, b, "{name}: one and two threads give different results");
    }
    assert_eq!(seq.len(), par.len());
}
