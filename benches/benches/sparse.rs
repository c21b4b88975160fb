//! Reconstruction `D·X` from sparse codes (d=64, m=256, N=100000, 8 non-zeros per signal):
//! the product K-SVD and every error report need.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use dictum::linalg::CscBuilder;
use dictum::{Mat, Par};

pub(crate) fn bench(c: &mut Criterion) {
    let (d, m, n, k) = (64usize, 256usize, 100_000usize, 8usize);
    let mut s = 7u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 33
    };
    let dict = Mat::<f32>::from_fn(d, m, |_, _| (next() % 1000) as f32 / 1000.0 - 0.5);
    let mut b = CscBuilder::with_capacity(m, n, n * k);
    for _ in 0..n {
        let mut rows: Vec<usize> = (0..k).map(|_| next() as usize % m).collect();
        rows.sort_unstable();
        rows.dedup();
        b.push_column(rows.into_iter().map(|r| (r, 1.0f32)))
            .expect("rows are in range and distinct");
    }
    let x = b.finish();
    let mut out = Mat::<f32>::zeros(d, n);
    let mut group = c.benchmark_group("csc_dense_mul_f32");
    group.throughput(Throughput::Elements((2 * d * x.nnz()) as u64));
    for (name, par) in [("seq", Par::Seq), ("rayon", Par::rayon(0))] {
        group.bench_function(BenchmarkId::new(name, "d64_m256_N100000_k8"), |bch| {
            bch.iter(|| {
                x.dense_mul_into(out.as_mut(), black_box(dict.as_ref()), par)
                    .expect("shapes agree")
            })
        });
    }
    group.finish();
}
