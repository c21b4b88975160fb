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
use dictum::{Exec, Learner, Mat, Par};

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
    let mut sparse_spec: Option<String> = None;
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
            "--sparse" => sparse_spec = Some(v),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    if let Some(spec) = sparse_spec {
        sparse_against_dense(&spec, threads);
        return;
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
                    .fit(NmfData::Dense(v.as_ref()), &Exec::new(par))
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

/// `--sparse n,p,density,rank`: a random sparse non-negative matrix factorised from its CSC
/// form and from its densified copy (densifying timed too), 20 HALS iterations each.
fn sparse_against_dense(spec: &str, threads: usize) {
    use dictum::CscMatrix;
    let f: Vec<f64> = spec.split(',').map(|s| s.parse().unwrap()).collect();
    let (n, p, density, rank) = (f[0] as usize, f[1] as usize, f[2], f[3] as usize);
    let mut state = 0x5eedu64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut cols = Vec::with_capacity(p + 1);
    let (mut rows, mut vals) = (Vec::new(), Vec::new());
    cols.push(0);
    for _ in 0..p {
        for i in 0..n {
            if next() < density {
                rows.push(i as u32);
                vals.push(next());
            }
        }
        cols.push(rows.len());
    }
    let v = CscMatrix::try_new(n, p, cols, rows, vals).unwrap();
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
        let nmf = Nmf::new(rank).init(NmfInit::Random).max_iter(20).tol(0.0);
        // Median of 5 runs each: one run of a few tens of milliseconds is at the mercy of
        // the scheduler.
        let median = |mut t: Vec<f64>| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        };
        let mut times = Vec::new();
        let mut a = None;
        for _ in 0..5 {
            let t = Instant::now();
            a = Some(nmf.fit(NmfData::Sparse(&v), &Exec::new(par)).unwrap());
            times.push(t.elapsed().as_secs_f64());
        }
        let (a, ts) = (a.unwrap(), median(times));
        if std::env::var_os("NMF_SPARSE_ONLY").is_some() {
            // For profiling the sparse path alone.
            println!("sparse_s={ts:.3}");
            return;
        }
        let mut times = Vec::new();
        let mut b = None;
        for _ in 0..5 {
            let t = Instant::now();
            let dense = v.to_dense();
            b = Some(nmf.fit(NmfData::Dense(dense.as_ref()), &Exec::new(par)).unwrap());
            times.push(t.elapsed().as_secs_f64());
        }
        let (b, td) = (b.unwrap(), median(times));
        println!(
            "n={n} p={p} density={density} nnz={} rank={rank} sparse_s={ts:.3} densified_s={td:.3} ratio={:.1} err_sparse={:.5} err_dense={:.5}",
            v.nnz(),
            td / ts,
            a.history.last().unwrap().rel_error,
            b.history.last().unwrap().rel_error
        );
    });
}
