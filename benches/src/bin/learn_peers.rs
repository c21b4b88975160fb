//! dictum's side of the dictionary-learning comparison (`benches/learn_peers.py` runs it in
//! the same run as SPAMS `trainDL` and scikit-learn `MiniBatchDictionaryLearning`). Learns on
//! workload W4 of `shared/peers` from its shared initial dictionary `D0` for each budget in
//! `--budgets`, timing each fit from scratch, then measures the quality the peers report:
//! `‖Y − D·X‖_F/‖Y‖_F` with `X` = OMP(k) codes (ORMP, SPAMS' rule) of all patches.
//!
//! ```text
//! learn_peers --data DIR/W4 --method online --lambda 0.2094 --budgets 20,50,100,195 \
//!             [--k 5] [--threads 2] [--reps 1] [--batch-size 256] [--signals 10000] [--atoms-batch 16]
//!             [--dtype f32] [--residual auto|kept|on-the-fly]
//! ```
//! prints one line per budget: `method=.. budget=.. seconds=.. err=..`.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use dictum::coding::{Dictionary, Encoder, Lars, Omp, Selection};
use dictum::io::npy::MappedNpy;
use dictum::learn::dictionary::{AtomUpdate, Ksvd, Learned, Online, Replacement, ResidualMode};
use dictum::{Exec, Learner};
use dictum::{Mat, MatRef, Par, Real};

struct Args {
    data: String,
    method: String,
    lambda: f64,
    k: usize,
    threads: usize,
    reps: usize,
    budgets: Vec<usize>,
    batch_size: usize,
    signals: Option<usize>,
    atoms_batch: usize,
    dtype: String,
    residual: String,
}

fn parse() -> Args {
    let mut a = Args {
        data: String::new(),
        method: "online".into(),
        lambda: 0.2094,
        k: 5,
        threads: 2,
        reps: 1,
        budgets: vec![195],
        batch_size: 256,
        signals: None,
        atoms_batch: 16,
        dtype: "f64".into(),
        residual: "auto".into(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--data" => a.data = v,
            "--method" => a.method = v,
            "--lambda" => a.lambda = v.parse().unwrap(),
            "--k" => a.k = v.parse().unwrap(),
            "--threads" => a.threads = v.parse().unwrap(),
            "--reps" => a.reps = v.parse().unwrap(),
            "--budgets" => a.budgets = v.split(',').map(|s| s.parse().unwrap()).collect(),
            "--batch-size" => a.batch_size = v.parse().unwrap(),
            "--signals" => a.signals = Some(v.parse().unwrap()),
            "--atoms-batch" => a.atoms_batch = v.parse().unwrap(),
            "--dtype" => a.dtype = v,
            "--residual" => a.residual = v,
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

fn fit<T: Real>(
    a: &Args,
    y: MatRef<'_, T>,
    d0: MatRef<'_, T>,
    budget: usize,
    par: Par,
) -> Learned<T> {
    let opts = Exec::new(par);
    let omp = Omp::new().n_nonzero_coefs(a.k).check().unwrap();
    match a.method.as_str() {
        "online" => Online::new(d0.ncols(), Lars::new(a.lambda).check().unwrap())
            .batch_size(a.batch_size)
            .max_iter(budget)
            .report_every(budget)
            .final_codes(false)
            .fit_from(y, Some(d0), &opts)
            .unwrap(),
        "online-omp" => Online::new(d0.ncols(), omp)
            .batch_size(a.batch_size)
            .max_iter(budget)
            .report_every(budget)
            .final_codes(false)
            .fit_from(y, Some(d0), &opts)
            .unwrap(),
        "ksvd" | "approx-ksvd" | "batched-ksvd" => {
            let mut k = Ksvd::new(d0.ncols(), omp)
                .max_iter(budget)
                .replacement(Replacement::default());
            if a.method == "approx-ksvd" {
                k = k.update(AtomUpdate::Approximate);
            }
            if a.method == "batched-ksvd" {
                k = k.atoms_per_batch(a.atoms_batch).shuffle_atoms(true);
            }
            match a.residual.as_str() {
                "kept" => k = k.residual(ResidualMode::Kept),
                "on-the-fly" => k = k.residual(ResidualMode::OnTheFly),
                _ => {}
            }
            if let Some(s) = a.signals {
                k = k.signals_per_iter(s);
            }
            k.fit_from(y, Some(d0), &opts).unwrap()
        }
        other => panic!("unknown method {other}"),
    }
}

fn main() {
    let a = parse();
    let yf = MappedNpy::open(format!("{}/Y.npy", a.data)).unwrap();
    let df = MappedNpy::open(format!("{}/D0.npy", a.data)).unwrap();
    // Y.npy is d x N (Fortran) or N x d (C): either reads as d x N.
    let y = yf.to_mat::<f64>().unwrap();
    let y = if y.nrows() == 64 {
        y
    } else {
        y.transpose().to_owned()
    };
    let d0: Mat<f64> = df.to_mat::<f64>().unwrap();
    let d0 = if d0.nrows() == 64 {
        d0
    } else {
        d0.transpose().to_owned()
    };
    let y32 = Mat::<f32>::from_fn(y.nrows(), y.ncols(), |i, j| y[(i, j)] as f32);
    let d032 = Mat::<f32>::from_fn(d0.nrows(), d0.ncols(), |i, j| d0[(i, j)] as f32);
    let par = if a.threads > 1 {
        Par::rayon(a.threads)
    } else {
        Par::Seq
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .unwrap();
    pool.install(|| {
        let eval = Omp::new()
            .n_nonzero_coefs(a.k)
            .selection(Selection::Ormp)
            .check()
            .unwrap();
        for &b in &a.budgets {
            let mut times = Vec::new();
            let mut learned: Option<Mat<f64>> = None;
            for _ in 0..a.reps {
                let t = Instant::now();
                learned = Some(if a.dtype == "f32" {
                    let d = fit(&a, y32.as_ref(), d032.as_ref(), b, par)
                        .into_model()
                        .dictionary;
                    Mat::<f64>::from_fn(d.nrows(), d.ncols(), |i, j| f64::from(d[(i, j)]))
                } else {
                    fit(&a, y.as_ref(), d0.as_ref(), b, par)
                        .into_model()
                        .dictionary
                });
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            // Quality is measured in f64 on the f64 data whatever the learning precision.
            let mut learned = learned.unwrap();
            dictum::linalg::norms::normalize_columns(learned.as_mut());
            let dict = Dictionary::new(learned.as_ref()).unwrap();
            let x = eval.encode(&dict, y.as_ref(), &Exec::new(par)).unwrap();
            let err =
                dictum::relative_error(learned.as_ref(), y.as_ref(), &x, &Exec::new(par)).unwrap();
            println!(
                "method={} budget={b} seconds={:.4} err={err:.4}",
                a.method,
                times[times.len() / 2]
            );
        }
    });
}
