//! Correlation GEMM `Dᵀ·Y` in f32 at the sizes pursuit algorithms meet: a small dictionary
//! (d=64, m=256) over many signals (N=100000), and an LLM-embedding-sized one (d=768,
//! m=4096, N=20000). `gemm_numpy.py` beside this file times numpy on the same shapes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use dictum::linalg::gemm::{gemm_flops, gemm_tn_into};
use dictum::{Mat, Par};

fn random(nrows: usize, ncols: usize, seed: u64) -> Mat<f32> {
    let mut s = seed;
    Mat::from_fn(nrows, ncols, |_, _| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    })
}

pub(crate) fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm_tn_f32");
    for &(d, m, n) in &[(64usize, 256usize, 100_000usize), (768, 4096, 20_000)] {
        let dict = random(d, m, 1);
        let y = random(d, n, 2);
        let mut out = Mat::<f32>::zeros(m, n);
        group.throughput(Throughput::Elements(gemm_flops(m, n, d) as u64));
        for (name, par) in [("seq", Par::Seq), ("rayon", Par::rayon(0))] {
            group.bench_function(BenchmarkId::new(name, format!("d{d}_m{m}_N{n}")), |b| {
                b.iter(|| {
                    gemm_tn_into(out.as_mut(), black_box(dict.as_ref()), y.as_ref(), par)
                        .expect("shapes agree")
                })
            });
        }
    }
    group.finish();
}
