//! Sparse coding throughput on a W1-shaped synthetic problem (d=64, m=256, 8-sparse signals
//! plus noise; N=20000 to keep a run short): every coder, f32 and f64, reported in signals/s.
//! The comparison with SPAMS and scikit-learn on the peers' data is `benches/coding_peers.py`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use dictum::Exec;
use dictum::coding::{Dictionary, Encoder, Fista, Lars, Omp, Selection, Threshold};
use dictum::{Mat, Par, Real};

fn problem<T: Real>(d: usize, m: usize, n: usize, k: usize) -> (Mat<T>, Mat<T>) {
    let mut s = 11u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let mut dict = Mat::<f64>::from_fn(d, m, |_, _| next());
    dictum::linalg::norms::normalize_columns(dict.as_mut());
    let mut y = Mat::<f64>::zeros(d, n);
    for j in 0..n {
        for _ in 0..k {
            let a = ((next() + 1.0) * 0.5 * m as f64) as usize % m;
            let c = next();
            for i in 0..d {
                y[(i, j)] += c * dict[(i, a)];
            }
        }
        for i in 0..d {
            y[(i, j)] += 0.01 * next();
        }
    }
    let cast =
        |a: &Mat<f64>| Mat::<T>::from_fn(a.nrows(), a.ncols(), |i, j| T::cast_f64(a[(i, j)]));
    (cast(&dict), cast(&y))
}

fn group<T: Real>(c: &mut Criterion) {
    let (d, y) = problem::<T>(64, 256, 20_000, 8);
    let dict = Dictionary::new(d.as_ref()).expect("unit-norm atoms");
    let mut g = c.benchmark_group(format!("coding_{}", T::NAME));
    g.throughput(Throughput::Elements(y.ncols() as u64));
    let coders: Vec<(&str, Box<dyn Encoder<T>>)> = vec![
        (
            "batch-omp_k8",
            Box::new(Omp::new().n_nonzero_coefs(8).check().expect("valid")),
        ),
        (
            "batch-ormp_k8",
            Box::new(
                Omp::new()
                    .n_nonzero_coefs(8)
                    .selection(Selection::Ormp)
                    .check()
                    .expect("valid"),
            ),
        ),
        (
            "lars_lambda0.5",
            Box::new(Lars::new(0.5).check().expect("valid")),
        ),
        (
            "threshold_top8",
            Box::new(Threshold::top_k(8).check().expect("valid")),
        ),
    ];
    for (name, coder) in &coders {
        for (p, par) in [("seq", Par::Seq), ("rayon", Par::rayon(0))] {
            g.bench_function(BenchmarkId::new(*name, p), |b| {
                b.iter(|| {
                    coder
                        .encode(&dict, black_box(y.as_ref()), &Exec::new(par))
                        .expect("valid input")
                })
            });
        }
    }
    // FISTA is iterative and much slower per signal: a 1000-signal slice.
    let fista = Fista::new(0.5).tol(1e-6).check().expect("valid");
    g.throughput(Throughput::Elements(1000));
    g.bench_function(BenchmarkId::new("fista_lambda0.5", "rayon"), |b| {
        b.iter(|| {
            fista
                .encode(
                    &dict,
                    black_box(y.as_ref().subcols(0, 1000)),
                    &Exec::new(Par::rayon(0)),
                )
                .expect("valid input")
        })
    });
    g.finish();
}

pub(crate) fn bench(c: &mut Criterion) {
    group::<f64>(c);
    group::<f32>(c);
}
