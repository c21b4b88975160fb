//! dictum's side of the NMF comparison (`benches/nmf_peers.py`): factorizes W5's `V` (2000 x
//! 1000, rank 50) for each iteration budget in `--budgets`, each fit from scratch, and prints
//! `solver=.. budget=.. seconds=.. err=..` with `err = ‖V − WH‖_F/‖V‖_F`.
//!
//! ```text
//! nmf_peers --data DIR/W5 --solver hals|mu|kl --budgets 50,100,200 [--threads 2] [--reps 1] [--inner SWEEPS]
//! ```
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use dictum::io::npy::MappedNpy;
use dictum::learn::nmf::{Nmf, NmfData, NmfInit, NmfSolver};
use dictum::{Mat, Par};

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (mut data, mut solver, mut budgets, mut threads, mut reps) = (
        String::new(),
        "hals".to_string(),
        vec![200usize],
        2usize,
        1usize,
    );
    let mut inner: Option<usize> = None;
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--data" => data = v,
            "--solver" => solver = v,
            "--budgets" => budgets = v.split(',').map(|s| s.parse().unwrap()).collect(),
            "--threads" => threads = v.parse().unwrap(),
            "--reps" => reps = v.parse().unwrap(),
            "--inner" => inner = Some(v.parse().unwrap()),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    // V.npy is n x p in C order, which dictum reads as the p x n matrix Vᵀ: the same
    // factorization transposed, with the same relative error.
    let v: Mat<f64> = MappedNpy::open(format!("{data}/V.npy"))
        .unwrap()
        .to_mat()
        .unwrap();
    let kind = match solver.as_str() {
        "hals" => NmfSolver::Hals,
        "mu" => NmfSolver::MultiplicativeFrobenius,
        "kl" => NmfSolver::MultiplicativeKl,
        other => panic!("unknown solver {other}"),
    };
    let par = if threads > 1 {
        Par::rayon(threads)
    } else {
        Par::Seq
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        for &b in &budgets {
            let mut times = Vec::new();
            let mut err = 0.0;
            for _ in 0..reps {
                let t = Instant::now();
                let mut nmf = Nmf::new(50);
                if let Some(k) = inner {
                    nmf = nmf.inner_sweeps(k);
                }
                let fit = nmf
                    .solver(kind)
                    .init(NmfInit::Random)
                    .max_iter(b)
                    .tol(0.0)
                    .fit(NmfData::Dense(v.as_ref()), par, None)
                    .unwrap();
                times.push(t.elapsed().as_secs_f64());
                err = fit.history.last().unwrap().rel_error;
            }
            times.sort_by(f64::total_cmp);
            println!(
                "solver={solver} budget={b} seconds={:.4} err={err:.5}",
                times[times.len() / 2]
            );
        }
    });
}
