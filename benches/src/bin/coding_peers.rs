//! dictum's side of the peer comparison (`benches/coding_peers.py` runs it in the same run as
//! SPAMS and scikit-learn). Times sparse coding on a workload of `shared/peers` and prints one
//! `key=value` line per measurement.
//!
//! ```text
//! coding_peers --data DIR/W1 --dtype f64 --method batch-omp --k 8 --threads 2 --reps 3
//!              [--n N] [--lambda L] [--compare spams_codes.npz] [--save codes.npz]
//! ```
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use dictum::Exec;
use dictum::coding::{
    Dictionary, Encoder, Fista, Lars, MatchingPursuit, Method, Omp, OmpVariant, Selection,
    Threshold,
};
use dictum::io::npy::MappedNpy;
use dictum::linalg::gemm;
use dictum::{CscMatrix, Mat, MatRef, Par, Real};

struct Args {
    data: String,
    dtype: String,
    method: String,
    k: usize,
    lambda: f64,
    threads: usize,
    reps: usize,
    n: Option<usize>,
    compare: Option<String>,
    save: Option<String>,
}

fn parse() -> Args {
    let mut a = Args {
        data: String::new(),
        dtype: "f64".into(),
        method: "batch-omp".into(),
        k: 8,
        lambda: 0.0,
        threads: 2,
        reps: 3,
        n: None,
        compare: None,
        save: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--data" => a.data = v,
            "--dtype" => a.dtype = v,
            "--method" => a.method = v,
            "--k" => a.k = v.parse().unwrap(),
            "--lambda" => a.lambda = v.parse().unwrap(),
            "--threads" => a.threads = v.parse().unwrap(),
            "--reps" => a.reps = v.parse().unwrap(),
            "--n" => a.n = Some(v.parse().unwrap()),
            "--compare" => a.compare = Some(v),
            "--save" => a.save = Some(v),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// The coder `name` (the CLI's `--method` names) with `k` non-zeros or weight `lambda`.
fn method(name: &str, k: usize, lambda: f64) -> Method {
    let omp = |variant, selection| {
        Method::Omp(
            Omp::new()
                .n_nonzero_coefs(k)
                .variant(variant)
                .selection(selection),
        )
    };
    match name {
        "batch-omp" => omp(OmpVariant::Batch, Selection::Omp),
        "batch-ormp" => omp(OmpVariant::Batch, Selection::Ormp),
        "omp" => omp(OmpVariant::Reference, Selection::Omp),
        "ormp" => omp(OmpVariant::Reference, Selection::Ormp),
        "mp" => Method::Mp(MatchingPursuit::new().n_nonzero_coefs(k)),
        "lars" => Method::Lars(Lars::new(lambda)),
        "fista" => Method::Fista(Fista::new(lambda)),
        "ista" => Method::Fista(Fista::ista(lambda)),
        "threshold" => Method::Threshold(Threshold::top_k(k)),
        "soft-threshold" => Method::Threshold(Threshold::soft(lambda)),
        other => panic!("unknown method {other}"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn run<T: Real>(a: &Args) {
    let suffix = if T::PRECISION == dictum::Precision::F32 {
        "_f32"
    } else {
        ""
    };
    let dfile = MappedNpy::open(format!("{}/D{suffix}.npy", a.data)).unwrap();
    let yfile = MappedNpy::open(format!("{}/Y{suffix}.npy", a.data)).unwrap();
    let d = dfile.matrix::<T>().unwrap();
    let y_all = yfile.matrix::<T>().unwrap();
    let n = a.n.unwrap_or(y_all.ncols()).min(y_all.ncols());
    let y = y_all.subcols(0, n);
    let method = method(&a.method, a.k, a.lambda).check().unwrap();
    let par = if a.threads > 1 {
        Par::rayon(a.threads)
    } else {
        Par::Seq
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .unwrap();
    let opts = Exec::new(par);
    let mut codes = None;
    let mut times = Vec::new();
    let mut gemm_times = Vec::new();
    pool.install(|| {
        // Warm-up on a slice, then timed runs of the whole thing (Gram included, as the peers'
        // timings include theirs).
        let dict = Dictionary::new(d).unwrap();
        let _ = method
            .encode(&dict, y.subcols(0, n.min(2048)), &opts)
            .unwrap();
        for _ in 0..a.reps {
            let t = Instant::now();
            let dict = Dictionary::new(d).unwrap();
            codes = Some(method.encode(&dict, y, &opts).unwrap());
            times.push(t.elapsed().as_secs_f64());
        }
        // The GEMM alone, into a buffer allocated (and touched) beforehand: the stricter
        // baseline, as page faults of a fresh m x N output would otherwise dominate.
        let mut corr = Mat::<T>::zeros(d.ncols(), n);
        for _ in 0..a.reps + 1 {
            let t = Instant::now();
            gemm::gemm_tn_into(corr.as_mut(), d, y, par).unwrap();
            gemm_times.push(t.elapsed().as_secs_f64());
        }
        gemm_times.remove(0);
    });
    let codes = codes.unwrap();
    let t = median(times);
    let tg = median(gemm_times);
    println!(
        "dtype={} method={} n={n} threads={} median_s={t:.4} us_per_signal={:.3} gemm_s={tg:.4} ratio_to_gemm={:.2}",
        T::NAME,
        method.name(),
        a.threads,
        t / n as f64 * 1e6,
        t / tg
    );
    report_quality(a, d, y, &codes);
    if let Some(path) = &a.save {
        dictum::io::sparse::save_csc(path, &codes, dictum::io::npz::Compression::Stored).unwrap();
    }
}

fn report_quality<T: Real>(a: &Args, d: MatRef<'_, T>, y: MatRef<'_, T>, codes: &CscMatrix<T>) {
    let n = y.ncols();
    let dx: Mat<T> = codes.dense_mul(d, Par::Seq).unwrap();
    let (mut rel, mut obj) = (0.0, 0.0);
    for j in 0..n {
        let (mut r2, mut y2) = (0.0, 0.0);
        for i in 0..y.nrows() {
            let yi = y[(i, j)].into_f64();
            let ri = yi - dx[(i, j)].into_f64();
            r2 += ri * ri;
            y2 += yi * yi;
        }
        let l1: f64 = codes.col(j).1.iter().map(|v| v.into_f64().abs()).sum();
        rel += (r2 / y2.max(f64::MIN_POSITIVE)).sqrt();
        obj += 0.5 * r2 + a.lambda * l1;
    }
    println!(
        "mean_rel_residual={:.5} mean_objective={:.6} mean_nnz={:.3}",
        rel / n as f64,
        obj / n as f64,
        codes.nnz() as f64 / n as f64
    );
    if let Some(path) = &a.compare {
        let other: CscMatrix<f64> = dictum::io::sparse::load_csc(path).unwrap();
        let m = other.ncols().min(n);
        let same = (0..m).filter(|&j| other.col(j).0 == codes.col(j).0).count();
        println!(
            "compare={path} signals={m} same_support={:.5}",
            same as f64 / m as f64
        );
    }
}

fn main() {
    let a = parse();
    if a.dtype == "f32" {
        run::<f32>(&a);
    } else {
        run::<f64>(&a);
    }
}
